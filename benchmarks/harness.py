"""A small timing harness: cases are measured alternately and reported as medians.

Machines here are shared and noisy, so absolute times mean little; every table
compares cases measured in the same run, interleaved round by round.

Every ratio reads the same way in every table: cinnamon's time (or memory) divided by
its baseline's, so lower is better, and a target is the highest acceptable ratio
("<= 1.2x"). Each table also records its rows in ``RESULTS``, from which
``run.py`` prints the summary of targets met and missed and draws the chart.
"""

from __future__ import annotations

import gc
import importlib.metadata
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


def measure(
    cases: dict[str, Callable[[], object]], *, rounds: int = 15, number: int = 0
) -> dict[str, float]:
    """Return each case's median seconds per call, the cases interleaved per round.

    ``number`` calls make one sample; 0 picks a number per case so a sample takes
    about 20 ms.
    """
    numbers = {name: number or _calibrate(case) for name, case in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # collections triggered by one case would be billed to another
    try:
        for _ in range(rounds):
            for name, case in cases.items():
                count = numbers[name]
                start = time.perf_counter()
                for _ in range(count):
                    case()
                samples[name].append((time.perf_counter() - start) / count)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def _calibrate(case: Callable[[], object]) -> int:
    count = 1
    while True:
        start = time.perf_counter()
        for _ in range(count):
            case()
        if time.perf_counter() - start > 0.02 or count >= 1 << 20:
            return count
        count *= 2


def fmt_time(seconds: float) -> str:
    """Format a duration with a unit that keeps three significant digits readable."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale:  # a difference of two times can be negative
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds / 1e-9:8.1f} ns"


@dataclass(frozen=True)
class Result:
    """One row of a table, as ``run.py`` reads it back for the summary and the chart.

    ``ratio`` is cinnamon's amount over the baseline's (lower is better); ``target`` the
    highest acceptable ratio. A row without a ratio may have ``limit``, the highest
    acceptable amount itself (seconds), say a cost per variant.
    """

    table: str
    case: str
    amount: float
    baseline: str
    ratio: float | None
    target: float | None = None
    limit: float | None = None

    @property
    def met(self) -> bool | None:
        """Whether the row meets its target; ``None`` if it has none (or no value)."""
        if self.target is not None and self.ratio is not None:
            return self.ratio <= self.target
        if self.limit is not None:
            return self.amount <= self.limit
        return None

    @property
    def wanted(self) -> str:
        """The target as the table writes it."""
        if self.target is not None:
            return f"<= {self.target:g}x"
        if self.limit is not None:
            return f"<= {fmt_time(self.limit).strip()}"
        return ""

    @property
    def verdict(self) -> str:
        met = self.met
        if met is None:
            return ""
        return f"{self.wanted} " + ("met" if met else "MISSED")


RESULTS: list[Result] = []

#: A table row: (case, seconds, baseline, ratio or None, target or None[, limit]).
TableRow = (
    tuple[str, float, str, float | None, float | None]
    | tuple[str, float, str, float | None, float | None, float | None]
)


def fmt_ratio(ratio: float) -> str:
    """Format a ratio with two decimals, or two significant digits below 0.1."""
    return f"{ratio:.2f}x" if abs(ratio) >= 0.1 else f"{ratio:.2g}x"


def table(title: str, rows: Sequence[TableRow]) -> str:
    """Render rows of (case, seconds, baseline name, ratio, target[, limit]) and record them.

    The ratio is the case's seconds over the baseline's; the target the highest
    acceptable ratio. A row with no ratio can have a limit in seconds instead.
    """
    lines = [title, "-" * len(title)]
    lines.append(f"{'case':<46} {'median':>12} {'vs':<26} {'ratio':>8}  target")
    for row in rows:
        name, seconds, baseline, ratio, target = row[:5]
        limit = row[5] if len(row) > 5 else None
        result = Result(title, name, seconds, baseline, ratio, target, limit)
        RESULTS.append(result)
        shown = fmt_ratio(ratio) if ratio is not None else "-"
        line = f"{name:<46} {fmt_time(seconds):>12} {baseline:<26} {shown:>9}  {result.verdict}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def version(distribution: str) -> str:
    """The installed version of ``distribution``, or an empty string."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def machine() -> str:
    """The machine and interpreter a run measured, in one line."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    return (
        f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.machine()}; "
        f"pydantic {version('pydantic')}"
    )
