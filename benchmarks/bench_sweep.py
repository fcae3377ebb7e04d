"""Sweep throughput: the local process pool next to the same variants in a plain loop.

Run: python benchmarks/bench_sweep.py   (or python benchmarks/run.py sweep)

Each of the 40 variants spends about 50 ms of CPU in its method. The plain loop builds
and runs them one after the other in this process; the sweep runs them on a local pool
of 2 worker processes, recording each row to a results file as it would for real. With
2 cores the sweep should take about half the time. The first sweep of a process also
starts the fork server, which imports cinnamon once for all the pools after it; it is
timed separately ("cold"), the other rounds reuse it ("warm").

For scale, "bare pool" runs the same work with ``ProcessPoolExecutor.map`` on a pool
that is already running, with no configuration, no results file: the best that two
processes can do on this machine at this moment (on a shared, busy machine it can be
well short of 2x, and then so is the sweep).
"""

from __future__ import annotations

import concurrent.futures as cf
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import table

from cinnamon import Component, Configuration, Param, Registry
from cinnamon._runs.pool import mp_context
from cinnamon._runs.sweep import sweep

VARIANTS = 40
TARGET_SECONDS = 0.05  # of CPU work per variant
WORKERS = 2


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


class BurnConfig(Configuration, component=Burn):
    iterations: int = 1
    seed: int = Param(1, variants=list(range(1, VARIANTS + 1)))


def calibrate() -> int:
    """The number of iterations that takes about TARGET_SECONDS here."""
    iterations = 10_000
    while True:
        start = time.perf_counter()
        Burn(iterations, 1).run()
        elapsed = time.perf_counter() - start
        if elapsed > 0.01:
            return max(int(iterations * TARGET_SECONDS / elapsed), 1)
        iterations *= 4


def burn(iterations: int, seed: int) -> int:
    return Burn(iterations, seed).run()


def plain_loop(registry: Registry) -> list[int]:
    return [variant.build().run() for variant in registry.variants("burn")]


def swept(registry: Registry, folder: Path, number: int) -> list[int]:
    results = folder / f"sweep-{number}.jsonl"  # a new file: nothing is recorded yet
    report = sweep(registry, "burn", workers=WORKERS, results=results, progress=False)
    assert report.ok == VARIANTS, report.rows
    return [row["result"] for row in report.rows]


def main(rounds: int = 3) -> str:
    iterations = calibrate()
    registry = Registry()
    registry.register(BurnConfig(iterations=iterations), name="burn")
    seeds = list(range(1, VARIANTS + 1))
    loop: list[float] = []
    warm: list[float] = []
    bare: list[float] = []
    with (
        tempfile.TemporaryDirectory() as temporary,
        cf.ProcessPoolExecutor(WORKERS, mp_context=mp_context()) as pool,
    ):
        folder = Path(temporary)
        start = time.perf_counter()
        expected = swept(registry, folder, 0)
        cold = time.perf_counter() - start
        list(pool.map(burn, [1] * WORKERS, seeds[:WORKERS]))  # start the bare pool
        for number in range(1, rounds + 1):  # interleaved, so noise hits all alike
            start = time.perf_counter()
            assert plain_loop(registry) == expected
            loop.append(time.perf_counter() - start)
            start = time.perf_counter()
            swept(registry, folder, number)
            warm.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert list(pool.map(burn, [iterations] * VARIANTS, seeds)) == expected
            bare.append(time.perf_counter() - start)
    baseline = statistics.median(loop)
    sweep_warm = statistics.median(warm)
    bare_pool = statistics.median(bare)
    rows = [
        ("plain loop, 40 variants of ~50 ms", baseline, "(baseline)", 1.0, None),
        (f"sweep, {WORKERS} workers, warm", sweep_warm, "plain loop", sweep_warm / baseline, 0.6),
        (f"sweep, {WORKERS} workers, cold (first)", cold, "plain loop", cold / baseline, None),
        (
            f"bare pool map, {WORKERS} workers, warm",
            bare_pool,
            "plain loop",
            bare_pool / baseline,
            None,
        ),
        (
            f"sweep, {WORKERS} workers, warm",
            sweep_warm,
            "bare pool map",
            sweep_warm / bare_pool,
            None,
        ),
    ]
    title = f"sweep: {VARIANTS} variants on a local pool of {WORKERS} processes"
    speedup = (
        f"speed-up over the plain loop: {baseline / sweep_warm:.2f}x warm, "
        f"{baseline / cold:.2f}x cold; a bare pool gets {baseline / bare_pool:.2f}x "
        f"({WORKERS} workers; 2.00x is the ceiling on 2 idle cores)"
    )
    return table(title, rows) + "\n" + speedup


if __name__ == "__main__":
    # Workers import the configuration's classes by module name: run them from the
    # module `bench_sweep`, not from `__main__`.
    import bench_sweep

    print(bench_sweep.main())
