"""A picture of a tuning: each trial's value against its number, as a small SVG.

Written by hand, so that drawing needs no plotting library. Finished trials are dots,
pruned ones rings at the value they were stopped at, and a line follows the best value
so far. When the values span more than two powers of ten the axis is logarithmic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

__all__ = ["trials_svg"]

_WIDTH, _HEIGHT = 640, 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 20, 30, 45
_NEAR = 0.2  # of a power of ten: an end of a log axis this close to a tick gets none


def trials_svg(
    rows: Iterable[Mapping[str, Any]], *, minimize: bool, label: str = "value", title: str = ""
) -> str:
    """Return an SVG document of the rows' values by trial number."""
    points = [
        (int(row["trial"]), float(row["value"]), row["status"])
        for row in rows
        if row["status"] in ("ok", "pruned") and isinstance(row.get("value"), (int, float))
    ]
    points = [point for point in points if math.isfinite(point[1])]
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
            f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="12">'
        ),
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="{_LEFT}" y="18" font-size="14">{escape(title, quote=False)}</text>')
    if not points:
        parts.append(f'<text x="{_LEFT}" y="{_HEIGHT // 2}">no finished trials</text></svg>')
        return "\n".join(parts) + "\n"
    values = [value for _, value, _ in points]
    low, high = min(values), max(values)
    log = low > 0 and high / low > 100  # noqa: PLR2004 - two powers of ten
    scale = math.log10 if log else float
    bottom, top = scale(low), scale(high)
    if top == bottom:
        bottom, top = bottom - 1, top + 1
    last = max(number for number, _, _ in points)

    def x_of(number: float) -> float:
        return _LEFT + (_WIDTH - _LEFT - _RIGHT) * (number / last if last else 0.5)

    def y_of(value: float) -> float:
        span = _HEIGHT - _TOP - _BOTTOM
        return _TOP + span * (1 - (scale(value) - bottom) / (top - bottom))

    parts += _axes(low, high, last, log=log, x_of=x_of, y_of=y_of, label=label)
    parts += _best_line(points, minimize=minimize, x_of=x_of, y_of=y_of)
    for number, value, status in points:
        x, y = x_of(number), y_of(value)
        if status == "ok":
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#246"/>')
        else:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="none" stroke="#d62" '
                'stroke-width="1.5"/>'
            )
    legend_y, left = 18, _WIDTH - _RIGHT - 250  # top right, beside the title
    parts += [
        f'<circle cx="{left + 5}" cy="{legend_y - 4}" r="3.5" fill="#246"/>',
        f'<text x="{left + 14}" y="{legend_y}">finished</text>',
        f'<circle cx="{left + 85}" cy="{legend_y - 4}" r="3.5" fill="none" stroke="#d62"/>',
        f'<text x="{left + 94}" y="{legend_y}">pruned</text>',
        (
            f'<line x1="{left + 160}" x2="{left + 180}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            'stroke="#2a7" stroke-width="2"/>'
        ),
        f'<text x="{left + 186}" y="{legend_y}">best so far</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _best_line(
    points: list[tuple[int, float, str]], *, minimize: bool, x_of: Any, y_of: Any
) -> list[str]:
    best: float | None = None
    path = []
    for number, value, status in sorted(points):
        if status == "ok" and (best is None or (value < best if minimize else value > best)):
            best = value
        if best is not None:
            path.append(f"{x_of(number):.1f},{y_of(best):.1f}")
    if not path:
        return []
    return [f'<polyline points="{" ".join(path)}" fill="none" stroke="#2a7" stroke-width="2"/>']


def _axes(
    low: float, high: float, last: int, *, log: bool, x_of: Any, y_of: Any, label: str
) -> list[str]:
    bottom_y = _HEIGHT - _BOTTOM
    parts = [
        (
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{bottom_y}" y2="{bottom_y}" '
            'stroke="#888"/>'
        ),
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{bottom_y}" stroke="#888"/>',
        (
            f'<text x="{(_LEFT + _WIDTH - _RIGHT) / 2:.0f}" y="{bottom_y + 30}" '
            'text-anchor="middle">trial</text>'
        ),
        (
            f'<text x="14" y="{(_TOP + bottom_y) / 2:.0f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {(_TOP + bottom_y) / 2:.0f})">'
            f"{escape(label, quote=False)}</text>"
        ),
    ]
    parts.extend(
        f'<text x="{x_of(number):.1f}" y="{bottom_y + 15}" text-anchor="middle">{number}</text>'
        for number in sorted({0, last // 2, last})
    )
    if log:
        ticks = [
            10.0**k for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        ]
        ticks = [tick for tick in ticks if low <= tick <= high]
        # The ends too, unless a power of ten is close by.
        ticks += [
            end for end in (low, high) if all(abs(math.log10(end / t)) > _NEAR for t in ticks)
        ]
    else:
        ticks = [low + (high - low) * k / 4 for k in range(5)] if high > low else [low]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:.3g}</text>'
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
    return parts
