"""Tuning: the driver's cost per trial, and its memory over a long study.

Run: python benchmarks/bench_tune.py   (or python benchmarks/run.py tune)

Overhead. 200 trials of about 10 ms of CPU each run with ``tune(sampler="random",
executor="local", workers=2)``: the driver draws each trial, resolves and fingerprints
its tree, writes it out for the worker, and records its row. The baseline is the same
200 calls of the same work through ``ProcessPoolExecutor.map`` on a pool of 2 that is
already running (no configuration, no results file): the fastest two processes can do
it here. The driver's overhead per trial is the difference of the wall times divided
by 200; the target is at most 1 ms. It includes starting tune's own 2 workers (once per
tuning, from the fork server); the same map on a pool it starts is shown for scale,
with the driver's own CPU time per trial (which overlaps the workers' work).

Memory. 2,000 trials of a 20-parameter space (trivial work, threads, so that the
driver is all there is), traced with ``tracemalloc``: the memory the driver holds is
sampled at trial 500 and at trial 2,000. The rows it keeps for its report grow with
the trials by design; what must not grow is everything else. The rows' own memory
(the same rows rebuilt from the results file, traced alike) is subtracted from the
growth, and the target is under 64 bytes per trial of anything else.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import fmt_time

from cinnamon import Choice, Component, Configuration, IntRange, LogUniform, Param, Registry, tune
from cinnamon._runs import tune as tune_module
from cinnamon._runs.pool import mp_context

TRIALS = 200
WORKERS = 2
TARGET_SECONDS = 0.01
TARGET_OVERHEAD = 1e-3
MEMORY_TRIALS = 2000
MEMORY_SAMPLE = 500
TARGET_BYTES = 64


class Burn(Component):
    """Spends CPU time; ``x`` only changes the arithmetic, not the amount."""

    def __init__(self, iterations: int, x: float) -> None:
        self.iterations = iterations
        self.x = x

    def run(self) -> dict[str, float]:
        total = 0
        step = int(self.x * 1000) + 1
        for index in range(self.iterations):
            total = (total + index * step) % 1_000_003
        return {"loss": float(total)}


class BurnConfig(Configuration, component=Burn):
    iterations: int = 1
    x: float = Param(0.5, search=LogUniform(1e-3, 1.0))


def burn(iterations: int, x: float) -> dict[str, float]:
    return Burn(iterations, x).run()


def calibrate() -> int:
    iterations = 10_000
    while True:
        start = time.perf_counter()
        Burn(iterations, 0.5).run()
        elapsed = time.perf_counter() - start
        if elapsed > 0.01:
            return max(int(iterations * TARGET_SECONDS / elapsed), 1)
        iterations *= 4


class Wide(Component):
    def __init__(self, **values: Any) -> None:
        self.values = values

    def run(self) -> float:
        return float(sum(v for v in self.values.values() if isinstance(v, (int, float))))


def _wide_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {"__annotations__": {}}
    kinds = [
        (float, lambda: Param(0.1, search=LogUniform(1e-4, 1.0))),
        (int, lambda: Param(4, search=IntRange(1, 64, step=3))),
        (str, lambda: Param("a", search=Choice(["a", "b", "c", "d"]))),
        (float, lambda: Param(0.5, search=LogUniform(1e-2, 10.0))),
    ]
    for index in range(20):
        kind, make = kinds[index % len(kinds)]
        fields["__annotations__"][f"p{index}"] = kind
        fields[f"p{index}"] = make()
    return fields


WideConfig = type("WideConfig", (Configuration,), {**_wide_fields(), "__module__": __name__})
WideConfig.__component__ = Wide


def overhead(rounds: int) -> str:
    iterations = calibrate()
    registry = Registry()
    registry.register(BurnConfig(iterations=iterations), name="burn")
    xs = [0.001 * (1 + n) for n in range(TRIALS)]
    tuned: list[float] = []
    cpu: list[float] = []
    bare: list[float] = []
    started: list[float] = []
    with (
        tempfile.TemporaryDirectory() as temporary,
        cf.ProcessPoolExecutor(WORKERS, mp_context=mp_context()) as pool,
    ):
        folder = Path(temporary)
        list(pool.map(burn, [1] * WORKERS, xs[:WORKERS]))  # start the bare pool
        # The first tuning of the process starts the fork server: not timed.
        warm_up = folder / "w.jsonl"
        tune(registry, "burn", metric="loss", trials=4, workers=WORKERS, results=warm_up)
        for number in range(rounds):  # interleaved, so noise hits both alike
            start, started_cpu = time.perf_counter(), time.process_time()
            report = tune(
                registry, "burn", metric="loss", trials=TRIALS, workers=WORKERS,
                results=folder / f"t{number}.jsonl", progress=False,
            )  # fmt: skip
            tuned.append(time.perf_counter() - start)
            cpu.append(time.process_time() - started_cpu)
            assert report.count("ok") == TRIALS, report.rows[:2]
            start = time.perf_counter()
            list(pool.map(burn, [iterations] * TRIALS, xs))
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            with cf.ProcessPoolExecutor(WORKERS, mp_context=mp_context()) as fresh:
                list(fresh.map(burn, [iterations] * TRIALS, xs))
            started.append(time.perf_counter() - start)
    tuned_time, bare_time = statistics.median(tuned), statistics.median(bare)
    fresh_time = statistics.median(started)
    per_trial = (tuned_time - bare_time) / TRIALS
    per_trial_fresh = (tuned_time - fresh_time) / TRIALS
    driver_cpu = statistics.median(cpu) / TRIALS
    verdict = "met" if per_trial <= TARGET_OVERHEAD else "MISSED"
    target = fmt_time(TARGET_OVERHEAD).strip()
    title = f"tune: {TRIALS} trials of ~10 ms, random sampler, local pool of {WORKERS}"
    lines = [
        title,
        "-" * len(title),
        f"{'bare map, a pool it starts (same work)':<46} {fmt_time(fresh_time):>12}",
        f"{'bare map, a pool already running':<46} {fmt_time(bare_time):>12}",
        (
            f"{'tune(), executor=local (starts its pool)':<46} {fmt_time(tuned_time):>12}   "
            f"{tuned_time / bare_time:.3f}x the map on the running pool"
        ),
        (
            f"{'overhead per trial vs the running pool':<46} {_us(per_trial):>12}   "
            f"<= {target} {verdict} (includes starting 2 workers, once)"
        ),
        f"{'overhead per trial vs the pool it starts':<46} {_us(per_trial_fresh):>12}",
        f"{'driver CPU time per trial (parent process)':<46} {fmt_time(driver_cpu):>12}",
    ]
    return "\n".join(lines)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} us"  # signed: noise can make a small overhead negative


def memory() -> str:
    registry = Registry()
    registry.register(WideConfig(), name="wide")
    samples: dict[int, int] = {}
    append = tune_module._Store.append

    def sampled(self: Any, row: dict[str, Any]) -> None:
        append(self, row)
        if len(self.rows) in (MEMORY_SAMPLE, MEMORY_TRIALS):
            gc.collect()
            samples[len(self.rows)] = tracemalloc.get_traced_memory()[0]

    with tempfile.TemporaryDirectory() as temporary, cf.ThreadPoolExecutor(WORKERS) as pool:
        results = Path(temporary) / "wide.jsonl"
        tune_module._Store.append = sampled  # type: ignore[method-assign]
        tracemalloc.start()
        try:
            start = time.perf_counter()
            report = tune(registry, "wide", trials=MEMORY_TRIALS, executor=pool, results=results)
            seconds = time.perf_counter() - start
        finally:
            tune_module._Store.append = append  # type: ignore[method-assign]
        assert report.count("ok") == MEMORY_TRIALS
        # What the kept rows take: what the report frees when it goes.
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
        del report
        gc.collect()
        freed = kept - tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    per_row = freed / MEMORY_TRIALS
    growth = (samples[MEMORY_TRIALS] - samples[MEMORY_SAMPLE]) / (MEMORY_TRIALS - MEMORY_SAMPLE)
    extra = growth - per_row
    verdict = "met" if extra < TARGET_BYTES else "MISSED"
    title = f"tune: driver memory over {MEMORY_TRIALS} trials of a 20-parameter space (tracemalloc)"
    lines = [
        title,
        "-" * len(title),
        f"held at trial {MEMORY_SAMPLE:<5}: {samples[MEMORY_SAMPLE] / 1e6:8.2f} MB",
        f"held at trial {MEMORY_TRIALS:<5}: {samples[MEMORY_TRIALS] / 1e6:8.2f} MB",
        f"growth per trial: {growth:.0f} B; a kept row (freed with the report): {per_row:.0f} B",
        f"growth per trial beyond the rows: {extra:8.0f} B   < {TARGET_BYTES} B {verdict}",
        f"({seconds:.1f} s with tracing on)",
    ]
    return "\n".join(lines)


def main(rounds: int = 5) -> str:
    return overhead(rounds) + "\n\n" + memory()


if __name__ == "__main__":
    # Workers import the configuration's classes by module name: run them from the
    # module `bench_tune`, not from `__main__`.
    import bench_tune

    print(bench_tune.main())
