"""Sweep throughput: the local process pool next to the same variants in a plain loop.

Run: python benchmarks/bench_sweep.py   (or python benchmarks/run.py sweep)

Two workloads: 200 small variants of about 1 ms of CPU each, where what the sweep does
per variant (resolving it, its fingerprint, sending it, recording its row) shows, and
40 large variants of about 50 ms, where the work dominates. For each, in interleaved
rounds:

- the plain loop builds and runs the variants one after the other in this process;
- the sweep runs them on a local pool of 2 worker processes that it starts (from the
  fork server, warm after the first sweep of the process) and shuts down, recording
  every row to a new results file as it would for real;
- the bare pool runs the same work with ``ProcessPoolExecutor.map`` on a pool that is
  already running, with no configuration and no results file: the best that two
  processes can do on this machine at this moment (on a shared, busy machine well short
  of 2x the loop, and then so is the sweep).

The sweep's bookkeeping is its time over the bare pool's, per variant. For the small
workload, "bare pool map, started" also times a pool made for the job and shut down
after it, as a hand-written script would make one, and as the sweep does: starting two
workers costs a few tens of milliseconds, which a running pool has already paid. The
bookkeeping target is measured against that pool, the same processes started for the
same work; the line against the running pool shows what starting them costs on top.
"""

from __future__ import annotations

import concurrent.futures as cf
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import TableRow, table

from cinnamon import Component, Configuration, Param, Registry
from cinnamon._runs.pool import mp_context
from cinnamon._runs.sweep import sweep

WORKERS = 2
SMALL, LARGE = 200, 40
BOOKKEEPING = 0.1e-3  # the most the sweep may add per small variant, in seconds
SPEED_UP = 1.8  # the least speed-up over the plain loop for large variants


class Burn(Component):
    """Spends CPU time: a loop of ``iterations`` steps, seeded so results differ."""

    def __init__(self, iterations: int, seed: int) -> None:
        self.iterations = iterations
        self.seed = seed

    def run(self) -> int:
        total = 0
        seed = self.seed
        for step in range(self.iterations):
            total = (total + step * seed) % 1_000_003
        return total


class SmallConfig(Configuration, component=Burn):
    iterations: int = 1
    seed: int = Param(1, variants=list(range(1, SMALL + 1)))


class LargeConfig(Configuration, component=Burn):
    iterations: int = 1
    seed: int = Param(1, variants=list(range(1, LARGE + 1)))


def calibrate(seconds: float) -> int:
    """The number of iterations that takes about ``seconds`` here."""
    iterations = 10_000
    while True:
        start = time.perf_counter()
        Burn(iterations, 1).run()
        elapsed = time.perf_counter() - start
        if elapsed > 0.01:
            return max(int(iterations * seconds / elapsed), 1)
        iterations *= 4


def burn(iterations: int, seed: int) -> int:
    return Burn(iterations, seed).run()


def plain_loop(registry: Registry, key: str) -> list[int]:
    return [variant.build().run() for variant in registry.variants(key)]


def swept(registry: Registry, key: str, results: Path, count: int) -> list[int]:
    report = sweep(registry, key, workers=WORKERS, results=results, progress=False)
    assert report.ok == count, report.rows
    return [row["result"] for row in report.rows]


def workload(
    registry: Registry, key: str, count: int, *, seconds: float, rounds: int, folder: Path
) -> list[TableRow]:
    iterations = calibrate(seconds)
    registry.register(
        (SmallConfig if count == SMALL else LargeConfig)(iterations=iterations), name=key
    )
    seeds = list(range(1, count + 1))
    times: dict[str, list[float]] = {"loop": [], "sweep": [], "bare": [], "started": []}
    files = iter(folder / f"{key}-{number}.jsonl" for number in range(1, 1_000))
    expected = swept(registry, key, next(files), count)  # the first: the fork server starts
    with cf.ProcessPoolExecutor(WORKERS, mp_context=mp_context()) as pool:
        list(pool.map(burn, [1] * WORKERS, seeds[:WORKERS]))  # start the bare pool
        for _ in range(rounds):  # interleaved, so noise hits all alike
            start = time.perf_counter()
            assert plain_loop(registry, key) == expected
            times["loop"].append(time.perf_counter() - start)
            start = time.perf_counter()
            assert swept(registry, key, next(files), count) == expected
            times["sweep"].append(time.perf_counter() - start)
            start = time.perf_counter()
            assert list(pool.map(burn, [iterations] * count, seeds)) == expected
            times["bare"].append(time.perf_counter() - start)
            if count == SMALL:
                start = time.perf_counter()
                with cf.ProcessPoolExecutor(WORKERS, mp_context=mp_context()) as own:
                    assert list(own.map(burn, [iterations] * count, seeds)) == expected
                times["started"].append(time.perf_counter() - start)
    loop, swept_, bare = (statistics.median(times[name]) for name in ("loop", "sweep", "bare"))
    label = f"{count} x ~{seconds * 1e3:g} ms"
    rows: list[TableRow] = [
        (f"plain loop, {label}", loop, "(baseline)", 1.0, None),
        (
            f"sweep, {WORKERS} workers",
            swept_,
            "plain loop",
            swept_ / loop,
            round(1 / SPEED_UP, 2) if count == LARGE else None,
        ),
        (f"bare pool map, {WORKERS} workers, running", bare, "plain loop", bare / loop, None),
    ]
    if times["started"]:
        started = statistics.median(times["started"])
        rows.append(
            ("bare pool map, started and shut down", started, "plain loop", started / loop, None)
        )
    rows.append(
        (f"sweep, {WORKERS} workers", swept_, "bare pool map, running", swept_ / bare, None)
    )
    overhead = (swept_ - bare) / count
    rows.append(("  its bookkeeping per variant", overhead, "bare pool map, running", None, None))
    if times["started"]:
        rows.append(
            (f"sweep, {WORKERS} workers", swept_, "bare pool map, started", swept_ / started, None)
        )
        # Like the sweep, this pool is made for the job: the same processes to start.
        rows.append(
            (
                "  its bookkeeping per variant",
                (swept_ - started) / count,
                "bare pool map, started",
                None,
                None,
                BOOKKEEPING,
            )
        )
    return rows


def main(quick: bool = False) -> str:
    registry = Registry()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        rounds = 3 if quick else 9
        small = workload(registry, "small", SMALL, seconds=0.001, rounds=rounds, folder=folder)
        rounds = 2 if quick else 3
        large = workload(registry, "large", LARGE, seconds=0.05, rounds=rounds, folder=folder)
    return "\n\n".join(
        [
            table(f"sweep: {SMALL} small variants, local pool of {WORKERS} processes", small),
            table(f"sweep: {LARGE} large variants, local pool of {WORKERS} processes", large),
        ]
    )


if __name__ == "__main__":
    # Workers import the configuration's classes by module name: run them from the
    # module `bench_sweep`, not from `__main__`.
    import bench_sweep

    print(bench_sweep.main(quick="--quick" in sys.argv[1:]))
