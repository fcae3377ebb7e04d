"""Variants: counting and enumerating a grid of 10^6 combinations, and the memory it takes.

The grid is six fields of ten variants each, in a tree of two configurations. Each case
is timed against ``itertools.product`` over the same values, measured in the same run:
the C loop that yields tuples is the floor any enumeration pays. Peak memory is
measured twice: with tracemalloc while every variant is made, and as the growth of the
peak resident size of a fresh process while every variant's overrides are read.

Run: python benchmarks/run.py variants   (or python benchmarks/bench_variants.py)
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import fmt_time, measure, table

from cinnamon import Configuration, Param, Registry, Variants

SIZE = 10
AXES = 6
COUNT = SIZE**AXES


class Optimizer(Configuration):
    lr: float = Param(0.1, variants=[10.0**-i for i in range(SIZE)])
    momentum: float = Param(0.9, variants=[i / SIZE for i in range(SIZE)])
    decay: float = Param(0.0, variants=[i / 100 for i in range(SIZE)])


class Job(Configuration):
    optimizer: Optimizer = Param(default_factory=Optimizer)
    epochs: int = Param(10, variants=list(range(1, SIZE + 1)))
    batch_size: int = Param(32, variants=[2**i for i in range(SIZE)])
    name: str = Param("a", variants=[chr(ord("a") + i) for i in range(SIZE)])


# Run in a fresh process, so that its peak resident size is the grid's alone.
RSS_PROBE = textwrap.dedent(
    """
    import resource, sys
    sys.path.insert(0, {root!r})
    from bench_variants import Job
    from cinnamon import Registry

    grid = Registry().variants(Job())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = 0
    for variant in grid:
        total += len(variant.overrides)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert total == {count} * {axes}
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    print(before * scale, after * scale)
    """
)


def grid() -> Variants:
    return Registry().variants(Job())


def enumerate_all(variants: Variants) -> int:
    count = 0
    for _ in variants:
        count += 1
    return count


def enumerate_with_overrides(variants: Variants) -> int:
    total = 0
    for variant in variants:
        total += len(variant.overrides)
    return total


def product_all(values: list[tuple[object, ...]]) -> int:
    count = 0
    for _ in itertools.product(*values):
        count += 1
    return count


def main() -> str:
    variants = grid()
    values = [axis_values for _, axis_values in variants.axes]
    assert variants.count() == COUNT == product_all(values) == enumerate_all(variants)
    indices = random.Random(0).sample(range(COUNT), 1000)

    def random_access() -> None:
        for index in indices:
            variants.variant(index)

    whole = measure(
        {
            "product": lambda: product_all(values),
            "enumerate": lambda: enumerate_all(variants),
            "enumerate + overrides": lambda: enumerate_with_overrides(variants),
        },
        rounds=3,
        number=1,
    )
    small = measure(
        {
            "count": variants.count,
            "make the grid": grid,
            "variant(i) x 1000": random_access,
            "resolve one variant": variants.variant(COUNT // 2).resolve,
        },
        rounds=9,
    )
    base = whole["product"]
    rows: list[tuple[str, float, str, float, float | None]] = [
        (f"itertools.product ({COUNT:,} tuples)", base, "(baseline)", 1.0, None),
        (f"enumerate {COUNT:,} variants", whole["enumerate"], "itertools.product", 0.0, None),
        (
            "enumerate + read each variant's overrides",
            whole["enumerate + overrides"],
            "itertools.product",
            0.0,
            None,
        ),
        ("count()", small["count"], "itertools.product", 0.0, None),
        (
            f"registry.variants() ({AXES} axes)",
            small["make the grid"],
            "itertools.product",
            0.0,
            None,
        ),
        (
            "variant(i), 1,000 random indices",
            small["variant(i) x 1000"],
            "itertools.product",
            0.0,
            None,
        ),
        ("resolve() one variant", small["resolve one variant"], "itertools.product", 0.0, None),
    ]
    rows = [(name, seconds, vs, seconds / base, target) for name, seconds, vs, _, target in rows]
    lines = [table(f"Variants: a grid of {AXES} axes x {SIZE} values = {COUNT:,}", rows), ""]
    lines.append(
        f"per variant: enumerate {fmt_time(whole['enumerate'] / COUNT)}, with overrides "
        f"{fmt_time(whole['enumerate + overrides'] / COUNT)}, "
        f"itertools.product {fmt_time(base / COUNT)}"
    )

    tracemalloc.start()
    try:
        enumerate_all(variants)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    lines.append(f"peak memory enumerating {COUNT:,} variants (tracemalloc): {peak:,} bytes")
    probe = RSS_PROBE.format(root=str(Path(__file__).resolve().parent), count=COUNT, axes=AXES)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=600
    )
    before, after = map(int, result.stdout.split())
    lines.append(
        f"peak resident size of a fresh process: {before / 2**20:.1f} MiB with the grid made, "
        f"{after / 2**20:.1f} MiB after reading the overrides of all {COUNT:,} variants "
        f"(+{(after - before) / 2**10:,.0f} KiB)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
