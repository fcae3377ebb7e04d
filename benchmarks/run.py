"""Run the benchmarks of this folder, print their tables and the targets met and missed.

Run: python benchmarks/run.py [NAME ...] [--quick] [--chart] [--write-docs]

- NAME: benchmarks to run, like ``core`` or ``sweep`` (default: all of them).
- ``--quick``: fewer rounds where a benchmark offers it (a first look, not a record).
- ``--chart``: also draw the ratios of the run (those with a target, and every peer's)
  in docs/images/benchmark-ratios.svg.
- ``--write-docs``: also write the run (every table, and the summary of targets) into
  docs/performance.md, between its ``benchmarks:begin`` and ``benchmarks:end`` markers;
  it takes the whole run, so it refuses NAMEs.

Every ratio is cinnamon's time (or memory) over its baseline's, measured in the same
run: lower is better, and a target is the highest acceptable ratio (``<= 1.2x``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from chart import Bar, svg  # noqa: E402 - after the path is set
from harness import RESULTS, Result, fmt_ratio, fmt_time, machine  # noqa: E402

DOCS = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "images" / "benchmark-ratios.svg"
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
OPTIONS = ("--quick", "--chart", "--write-docs")


def main(argv: list[str]) -> None:
    options = {arg for arg in argv if arg.startswith("--")}
    names = [arg for arg in argv if not arg.startswith("--")]
    unknown_options = sorted(options - set(OPTIONS))
    if unknown_options:
        sys.exit(f"unknown option(s) {unknown_options}; choose from {list(OPTIONS)}")
    available = sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))
    if names and "--write-docs" in options:
        sys.exit("--write-docs records a whole run: leave out the benchmark names")
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; choose from {available}")

    started = time.perf_counter()
    when = time.strftime("%Y-%m-%d")
    header = f"{when}; {machine()}"
    print(header)
    outputs: list[str] = []
    for name in chosen:
        module = importlib.import_module(f"bench_{name}")
        quick = "quick" in inspect.signature(module.main).parameters
        output = module.main(quick="--quick" in options) if quick else module.main()
        print()
        print(output)
        outputs.append(output)
    summary = targets(RESULTS)
    took = f"took {time.perf_counter() - started:.0f} s"
    print()
    print(summary)
    print(took)

    if "--chart" in options:
        CHART.parent.mkdir(parents=True, exist_ok=True)
        CHART.write_text(chart(RESULTS, header), encoding="utf-8")
        print(f"chart: {CHART.relative_to(ROOT)}")
    if "--write-docs" in options:
        command = " ".join(["python benchmarks/run.py", *argv])
        write_docs(header, command, took, outputs, RESULTS)
        print(f"docs: {DOCS.relative_to(ROOT)}")


def targets(results: list[Result]) -> str:
    """Every row with a target, and whether it was met, as one short table."""
    rows = [result for result in results if result.met is not None]
    missed = sum(1 for result in rows if not result.met)
    lines = [f"Targets: {len(rows) - missed} met, {missed} missed"]
    for result in rows:
        shown = (
            fmt_ratio(result.ratio) if result.ratio is not None else fmt_time(result.amount).strip()
        )
        lines.append(
            f"  {'met   ' if result.met else 'MISSED'}  {_group(result)}: {result.case.strip()} "
            f"vs {result.baseline}: {shown} ({result.wanted})"
        )
    return "\n".join(lines)


def chart(results: list[Result], subtitle: str) -> str:
    bars = [
        Bar(
            f"{result.case} vs {_short(result.baseline)}",
            result.ratio,
            result.target,
            _group(result),
        )
        for result in results
        # Rows with a target, and every peer: rows without one can be far off scale
        # (counting a grid next to enumerating a million tuples) and say little.
        if result.ratio is not None
        and result.ratio > 0
        and (result.target is not None or result.table == "Peers")
    ]
    return svg("cinnamon / baseline: every target and every peer of one run", bars, subtitle)


def _short(name: str) -> str:
    return re.sub(r" \d+(\.\d+)+", "", name)  # versions are in the table


def _group(result: Result) -> str:
    title = result.table.partition(":")[0]
    return title[:1].upper() + title[1:]


def write_docs(
    header: str, command: str, took: str, outputs: list[str], results: list[Result]
) -> None:
    """Put the run between the markers of docs/performance.md."""
    text = DOCS.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOCS} has no {BEGIN} ... {END} markers to write between")
    rows = [result for result in results if result.met is not None]
    table = ["| table | case | vs | result | target | |", "| --- | --- | --- | --- | --- | --- |"]
    for result in rows:
        shown = (
            fmt_ratio(result.ratio) if result.ratio is not None else fmt_time(result.amount).strip()
        )
        verdict = "met" if result.met else "**missed**"
        table.append(
            f"| {_group(result)} | {result.case.strip()} | {result.baseline} | {shown} | "
            f"{result.wanted} | {verdict} |"
        )
    block = "\n".join(
        [
            BEGIN,
            "",
            f"Measured by `{command}` ({took}) on {header}.",
            "",
            "```text",
            "\n\n".join(outputs),
            "```",
            "",
            "Every target of that run:",
            "",
            *table,
            "",
            END,
        ]
    )
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOCS.write_text(text[:start] + block + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
