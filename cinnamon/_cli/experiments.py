"""``cinnamon results``, ``plot`` and ``report``: reading a sweep's or a run's results back."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cinnamon._cli.output import Output
from cinnamon._cli.sources import project_settings

__all__ = ["add_pictures", "add_results", "run_plot", "run_report", "run_results"]


def add_results(commands: Any, parents: list[argparse.ArgumentParser]) -> None:  # noqa: ARG001 - reads no registry
    """Add the ``results`` command."""
    results = commands.add_parser(
        "results", help="a table of a sweep's results or a run's metrics, or an export"
    )
    results.add_argument(
        "path", metavar="SWEEP_OR_RUN", help="a sweep.jsonl, a metrics.jsonl, or a run folder"
    )
    results.add_argument(
        "--metrics", default="", metavar="A,B", help="only these metrics (comma-separated)"
    )
    results.add_argument(
        "--sort", metavar="COLUMN", help="sort by COLUMN; --sort=-COLUMN sorts in descending order"
    )
    results.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="CONDITION",
        help="only rows where CONDITION holds, e.g. status=ok or val_loss<0.1 (repeatable)",
    )
    results.add_argument("--format", choices=["table", "csv", "json"], default="table")
    results.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")
    results.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    results.set_defaults(command="results", handler=run_results)


def run_results(arguments: argparse.Namespace, out: Output) -> int:
    """Run ``cinnamon results``."""
    from cinnamon._runs.results import results  # noqa: PLC0415 - keeps `--help` fast

    table = results(arguments.path)
    chosen = [name.strip() for name in arguments.metrics.split(",") if name.strip()]
    every = table.select(chosen) if chosen else table.columns  # checked before filtering
    table = table.where(*arguments.where)
    if arguments.sort:
        table = table.sort(arguments.sort)
    present = set(table.columns)
    columns = [name for name in every if name in present or name in chosen]
    if arguments.format == "csv":
        text = table.to_csv(columns)
    elif arguments.format == "json":
        text = table.to_json(columns)
    else:
        text = ""
    if arguments.output:
        Path(arguments.output).write_text(text or table.to_csv(columns), encoding="utf-8")
        print(f"wrote {len(table)} rows to {arguments.output}", file=sys.stderr)
        return 0
    if text:
        out.write(text)
        return 0
    cells = [[_cell(row.get(name), name) for name in columns] for row in table.rows]
    out.table(list(columns), cells)
    if table.kind == "run":
        print(f"run {table.status}: {len(table)} epochs in {table.source}", file=sys.stderr)
    else:
        print(f"{len(table)} variants in {table.source}", file=sys.stderr)
    return 0


def _cell(value: Any, column: str) -> str:
    if column == "fingerprint" and isinstance(value, str):
        return value[:12]  # enough to tell variants apart; the files have it whole
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:57] + "..."  # noqa: PLR2004
    return json.dumps(value)


def add_pictures(commands: Any, parents: list[argparse.ArgumentParser]) -> None:  # noqa: ARG001 - reads no registry
    """Add the ``plot`` and ``report`` commands."""
    plot = commands.add_parser(
        "plot", help="draw a run's training curves, or a sweep's metrics by varied field"
    )
    plot.add_argument(
        "path", metavar="SWEEP_OR_RUN", help="a sweep.jsonl, a metrics.jsonl, or a run folder"
    )
    plot.add_argument(
        "--metrics", default="", metavar="A,B", help="the metrics to draw (comma-separated)"
    )
    plot.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="the picture, .png or .svg (default: plot.png beside the results)",
    )
    plot.add_argument("--debug", action="store_true", help="show tracebacks")
    plot.set_defaults(command="plot", handler=run_plot)

    report = commands.add_parser(
        "report", help="write one self-contained HTML page about a run or a sweep"
    )
    report.add_argument(
        "path", metavar="SWEEP_OR_RUN", help="a sweep.jsonl, a metrics.jsonl, or a run folder"
    )
    report.add_argument(
        "--metrics",
        default="",
        metavar="A,B",
        help="the metrics to draw; a sweep ranks by the first",
    )
    report.add_argument(
        "--output", "-o", metavar="FILE", help="the page (default: report.html beside the results)"
    )
    report.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="a package root the run's config.toml may import classes from (repeatable)",
    )
    report.add_argument("--debug", action="store_true", help="show tracebacks")
    report.set_defaults(command="report", handler=run_report)


def run_plot(arguments: argparse.Namespace, out: Output) -> int:
    """Run ``cinnamon plot``."""
    from cinnamon._runs.results import results  # noqa: PLC0415 - keeps `--help` fast
    from cinnamon.integrations.plots import plot, save  # noqa: PLC0415

    table = results(arguments.path)
    chosen = [name.strip() for name in arguments.metrics.split(",") if name.strip()]
    target = arguments.output or table.source.parent / "plot.png"
    written = save(plot(table, chosen), target)
    out.write(f"{written}\n")
    return 0


def run_report(arguments: argparse.Namespace, out: Output) -> int:
    """Run ``cinnamon report``."""
    from cinnamon._report import write_report  # noqa: PLC0415 - keeps `--help` fast

    chosen = [name.strip() for name in arguments.metrics.split(",") if name.strip()]
    allow = [*project_settings().get("allow", []), *arguments.allow]
    written = write_report(arguments.path, arguments.output, metrics=chosen, allow=allow)
    out.write(f"{written}\n")
    return 0
