"""A small SVG bar chart of benchmark ratios, on a log scale, with the standard library.

Each bar is one row of a table: cinnamon's time (or memory) over its baseline's, the
ratio every table prints. Bars grow left of the 1x line when cinnamon takes less and
right of it when it takes more; a tick marks the target (the highest acceptable
ratio), and the colour says whether it was met.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from html import escape

MET, MISSED, NEUTRAL = "#2e7d32", "#c62828", "#78909c"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the ratio ``cinnamon / baseline``, and the target, if any."""

    label: str
    ratio: float
    target: float | None = None
    group: str = ""


def svg(title: str, bars: list[Bar], subtitle: str = "") -> str:
    """Render ``bars`` as a horizontal log-scale bar chart and return the SVG text."""
    # Labels end at label_width; the plot starts a gutter later, room for the value of
    # a bar that reaches the left edge.
    label_width, gutter, plot_width, right = 400, 50, 440, 70
    row, top, bottom = 22, 56, 70
    groups = [bar.group for bar in bars]
    headers = 1 + sum(1 for a, b in itertools.pairwise(groups) if a != b)
    height = top + row * (len(bars) + headers) + 8 * headers + bottom
    width = label_width + gutter + plot_width + right

    values = [bar.ratio for bar in bars] + [bar.target for bar in bars if bar.target]
    low = 10 ** math.floor(math.log10(min([*values, 1.0])))
    high = 10 ** math.ceil(math.log10(max([*values, 1.0])))
    if high / low < 100:
        high = low * 100

    def x(value: float) -> float:
        share = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return label_width + gutter + share * plot_width

    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
            'font-size="12">'
        ),
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="12" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<text x="12" y="40" fill="#555">{escape(subtitle)}</text>',
    ]
    plot_bottom = height - bottom + 4
    decade = low
    while decade <= high * 1.0001:
        gx = x(decade)
        stroke = "#333" if math.isclose(decade, 1.0) else "#ddd"
        out.append(
            f'<line x1="{gx:.1f}" y1="{top - 8}" x2="{gx:.1f}" y2="{plot_bottom}" '
            f'stroke="{stroke}"/>'
        )
        out.append(
            f'<text x="{gx:.1f}" y="{plot_bottom + 14}" text-anchor="middle" fill="#555">'
            f"{decade:g}x</text>"
        )
        decade *= 10
    out.append(
        f'<text x="{label_width + gutter + plot_width / 2:.0f}" y="{plot_bottom + 32}" '
        'text-anchor="middle" fill="#555">cinnamon / baseline (log scale; left of 1x: '
        "cinnamon is faster or smaller)</text>"
    )

    y = top
    for index, bar in enumerate(bars):
        if index == 0 or bar.group != bars[index - 1].group:
            y += 8
            out.append(f'<text x="12" y="{y + 15}" font-weight="bold">{escape(bar.group)}</text>')
            y += row
        colour = NEUTRAL
        if bar.target is not None:
            colour = MET if bar.ratio <= bar.target else MISSED
        start, end = sorted((x(1.0), x(bar.ratio)))
        out.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(bar.label)}</text>'
        )
        out.append(
            f'<rect x="{start:.1f}" y="{y + 4}" width="{max(end - start, 1):.1f}" '
            f'height="{row - 8}" fill="{colour}"/>'
        )
        anchor, tx = ("start", end + 4) if bar.ratio >= 1 else ("end", start - 4)
        out.append(
            f'<text x="{tx:.1f}" y="{y + 15}" text-anchor="{anchor}">{bar.ratio:.3g}x</text>'
        )
        if bar.target is not None:
            tick = x(bar.target)
            out.append(
                f'<line x1="{tick:.1f}" y1="{y + 1}" x2="{tick:.1f}" y2="{y + row - 1}" '
                'stroke="black" stroke-width="2"/>'
            )
        y += row

    legend_y = height - 10
    for offset, (colour, text) in enumerate(
        ((MET, "target met"), (MISSED, "target missed"), (NEUTRAL, "no target"))
    ):
        lx = 12 + offset * 120
        out.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 18}" y="{legend_y}">{text}</text>')
    lx = 12 + 3 * 120
    out.append(
        f'<line x1="{lx + 6}" y1="{legend_y - 11}" x2="{lx + 6}" y2="{legend_y + 2}" '
        'stroke="black" stroke-width="2"/>'
    )
    out.append(f'<text x="{lx + 18}" y="{legend_y}">target</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
