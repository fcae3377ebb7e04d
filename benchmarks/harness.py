"""A small timing harness: cases are measured alternately and reported as medians.

Machines here are shared and noisy, so absolute times mean little; every table
compares cases measured in the same run, interleaved round by round.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


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
        if seconds >= scale:
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds / 1e-9:8.1f} ns"


def table(title: str, rows: list[tuple[str, float, str, float, float | None]]) -> str:
    """Render rows of (case, seconds, baseline name, ratio, target or None)."""
    lines = [title, "-" * len(title)]
    lines.append(f"{'case':<46} {'median':>12} {'vs':<26} {'ratio':>8}  target")
    for name, seconds, baseline, ratio, target in rows:
        verdict = ""
        if target is not None:
            verdict = f"<= {target:g}x " + ("met" if ratio <= target else "MISSED")
        lines.append(f"{name:<46} {fmt_time(seconds):>12} {baseline:<26} {ratio:8.2f}x  {verdict}")
    return "\n".join(lines)
