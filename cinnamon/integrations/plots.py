"""Pictures of results with matplotlib: a run's training curves, a sweep's metric by field.

matplotlib is imported when a picture is drawn, with its ``Agg`` backend (no display
needed), and only from here; ``pip install "cinnamon[plot]"`` installs it.
"""

from __future__ import annotations

import importlib
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cinnamon._runs.results import Results
from cinnamon.errors import NotFoundError, UsageError

__all__ = ["plot", "plot_run", "plot_sweep", "save", "svg"]

_FORMATS = (".png", ".svg")


def plot(table: Results, metrics: Sequence[str] = ()) -> Any:
    """The picture that fits ``table``: :func:`plot_run` or :func:`plot_sweep`."""
    return plot_run(table, metrics) if table.kind == "run" else plot_sweep(table, metrics)


def plot_run(table: Results, metrics: Sequence[str] = ()) -> Any:
    """A run's training curves: each metric against the epoch, one panel per kind.

    Metrics whose names end alike (``loss`` and ``val_loss``) share a panel, so the
    training and validation curves can be compared.

    Args:
        table: a run's results (see :func:`cinnamon.results`).
        metrics: the metrics to draw (default: all but the times).

    Returns:
        A matplotlib ``Figure``.

    Raises:
        NotFoundError: a metric is in no row, or the run has no epoch to draw.
        UsageError: matplotlib is not installed.
    """
    groups: dict[str, list[str]] = {}  # loss and val_loss in one panel, and so on
    for name in _chosen(table, metrics):
        groups.setdefault(name.removeprefix("val_"), []).append(name)
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(
        1, len(groups), figsize=(4.8 * len(groups), 3.4), squeeze=False, layout="constrained"
    )
    epochs = table.column("epoch")
    for axis, (base, names) in zip(axes[0], groups.items(), strict=True):
        for name in names:
            points = [(e, v) for e, v in zip(epochs, table.column(name), strict=True) if _real(v)]
            axis.plot([e for e, _ in points], [v for _, v in points], marker=".", label=name)
        values = [v for name in names for v in table.column(name) if _real(v)]
        if values and min(values) > 0 and max(values) / min(values) > 100:  # noqa: PLR2004
            axis.set_yscale("log")  # losses fall by orders of magnitude
        axis.set_xlabel("epoch")
        axis.set_ylabel(base)
        axis.grid(visible=True, alpha=0.3)
        axis.legend()
    figure.suptitle(f"{table.source.parent.name}: {table.status}")
    return figure


def plot_sweep(table: Results, metrics: Sequence[str] = ()) -> Any:
    """A sweep's metrics against each varied field, one panel per (metric, field).

    Only variants that ran (status ``ok``) are drawn; text-valued fields are spread
    out in the order their values first appear.

    Args:
        table: a sweep's results (see :func:`cinnamon.results`).
        metrics: the metrics to draw (default: the first numeric one, ``val_loss`` if
            there is one).

    Returns:
        A matplotlib ``Figure``.

    Raises:
        NotFoundError: a metric is in no row, or no variant ran.
        UsageError: the sweep varied no field, or matplotlib is not installed.
    """
    done = table.where("status=ok")
    if not done.rows:
        msg = f"{table.source}: no variant ran (no row has status ok), so there is nothing to draw"
        raise NotFoundError(msg)
    if not table.varied:
        msg = f"{table.source}: the sweep varied no field, so there is nothing to draw against"
        raise UsageError(msg)
    chosen = list(metrics) or _default_metric(done)
    for name in chosen:
        done.column(name)  # a missing metric fails here, naming the file
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(
        len(chosen),
        len(table.varied),
        figsize=(4.2 * len(table.varied), 3.2 * len(chosen)),
        squeeze=False,
        layout="constrained",
    )
    for row, metric in zip(axes, chosen, strict=True):
        for axis, field in zip(row, table.varied, strict=True):
            pairs = [(r.get(field), r.get(metric)) for r in done.rows if _real(r.get(metric))]
            xs: list[Any] = [x for x, _ in pairs]
            if not all(_real(x) for x in xs):  # text or references: place them in turn
                labels = list(dict.fromkeys(map(str, xs)))
                axis.set_xticks(range(len(labels)), labels)
                xs = [labels.index(str(x)) for x in xs]
            else:
                _numeric_axis(axis, xs)
            axis.scatter(xs, [y for _, y in pairs], alpha=0.8)
            axis.set_xlabel(field)
            axis.set_ylabel(metric)
            axis.grid(visible=True, alpha=0.3)
    figure.suptitle(f"{table.source.name}: {len(done.rows)} variants")
    return figure


def save(figure: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` as PNG or SVG, by the file's suffix, and close it.

    Raises:
        UsageError: the suffix is neither ``.png`` nor ``.svg``.
    """
    file = Path(path)
    if file.suffix.lower() not in _FORMATS:
        msg = f"{file}: pictures are written as {' or '.join(_FORMATS)}, not {file.suffix!r}"
        raise UsageError(msg)
    file.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(file, dpi=120)
    _pyplot().close(figure)
    return file


def svg(figure: Any) -> str:
    """``figure`` as SVG text, for a web page, and close it."""
    pyplot = _pyplot()
    buffer = io.StringIO()
    # Text as text, not glyphs defined under ids: two pictures on one page would share
    # those ids, and the second would be drawn with the first one's letters.
    with pyplot.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg")
    pyplot.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # without the XML prolog and doctype


def _numeric_axis(axis: Any, xs: list[Any]) -> None:
    """Tick a grid's few values themselves; spread values that span decades on a log scale."""
    distinct = sorted(set(xs))
    if len(distinct) > 2 and distinct[0] > 0 and distinct[-1] / distinct[0] >= 10:  # noqa: PLR2004
        axis.set_xscale("log")  # learning rates and such
    if len(distinct) <= 8:  # noqa: PLR2004 - a grid's handful of values
        axis.set_xticks(distinct, [f"{x:g}" for x in distinct])
        axis.minorticks_off()


def _chosen(table: Results, metrics: Sequence[str]) -> list[str]:
    if not table.rows:
        msg = f"{table.source}: the run logged no epoch yet, so there is no curve to draw"
        raise NotFoundError(msg)
    for name in metrics:
        table.column(name)  # a missing metric fails here, naming the file
    chosen = list(metrics) or [m for m in table.metrics if not m.endswith("seconds")]
    numeric = [m for m in chosen if any(_real(v) for v in table.column(m))]
    if not numeric:
        msg = f"{table.source}: none of {', '.join(chosen) or 'its metrics'} is a number"
        raise NotFoundError(msg)
    return numeric


def _default_metric(table: Results) -> list[str]:
    numeric = [m for m in table.metrics if any(_real(v) for v in table.column(m))]
    if not numeric:
        msg = f"{table.source}: its results hold no numbers to draw"
        raise NotFoundError(msg)
    return ["val_loss"] if "val_loss" in numeric else numeric[:1]


def _real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _pyplot() -> Any:
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
    except ImportError:
        msg = 'pictures need matplotlib; install it with: pip install "cinnamon[plot]"'
        raise UsageError(msg) from None
    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    return importlib.import_module("matplotlib.pyplot")
