"""First builds: resolving and compiling a 364-component tree, then running the plan.

A registered key's plan is cached after its first build, so later builds only run it;
the first build of a key, and every build of an inline configuration, also resolve the
tree and compile the plan. This table times those next to plain constructors and the
cached build, interleaved in one run, with the first build's two walks timed apart.

The target, 11x the plain constructors, is the 100x margin over Hydra's ``instantiate``
(about 1,100x the plain constructors on the same tree, see ``bench_peers.py``); fiddle's
5x margin (about 65x) asks for 13x.

Run: python benchmarks/bench_first_build.py
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import DEPTH, FANOUT, NodeConfig, by_hand, count_nodes, tree_registry
from harness import measure, table

from cinnamon import RegistrationKey, Registry
from cinnamon._core.resolve import compile_plan

TARGET = 11.0  # x the plain constructors


def inline_tree(depth: int = 0) -> NodeConfig:
    """The tree of ``tree_registry()`` as one configuration holding the others."""
    kids = [inline_tree(depth + 1) for _ in range(FANOUT)] if depth < DEPTH else []
    return NodeConfig(children=kids, size=depth)


def main() -> str:
    registry, root = tree_registry()
    inline = inline_tree()
    fresh = Registry()
    resolved = registry.resolve(root)

    def first_build() -> object:
        registry._plans.clear()  # forget the cached plan: the next build is a first build
        return registry.build(root)

    cases = {
        "plain": by_hand,
        "cached": lambda: registry.build(root),
        "first": first_build,
        "inline": lambda: fresh.build(inline),
        "resolved": lambda: registry.build(registry.resolve(root)),
        "resolve": lambda: registry.resolve(root),
        "compile": lambda: compile_plan(resolved, root.name),
    }
    for name in ("plain", "cached", "first", "inline", "resolved"):
        assert count_nodes(cases[name]()) == 364  # type: ignore[arg-type]
    times = measure(cases)
    plain = times["plain"]
    scaling_note = scaling() + "\n\n"
    rows = [
        ("hand-written, plain constructors", "plain", None),
        ("registry.build(key), plan cached", "cached", None),
        ("registry.build(key), first build", "first", TARGET),
        ("registry.build(config), inline tree", "inline", TARGET),
        ("registry.build(registry.resolve(key))", "resolved", None),
        ("  the first build's resolve", "resolve", None),
        ("  the first build's compile", "compile", None),
    ]
    return scaling_note + table(
        "first build: resolve + compile + run (364 components)",
        [
            (label, times[case], "plain constructors", times[case] / plain, target)
            for label, case, target in rows
        ],
    )


# -- cost per node as the tree grows ------------------------------------------------------

SCALING_TARGET = 1.3  # the largest tree's cost per node, x the smallest's
SCALES = (1_000, 10_000, 100_000)


def wide_registry(count: int) -> Registry:
    """``count`` registrations, each referencing the next ten: one tree of ``count`` nodes."""
    registry = Registry()
    for index in range(count):
        children = range(10 * index + 1, min(10 * index + 11, count))
        kids = [RegistrationKey(f"n{child}") for child in children]
        registry.register(NodeConfig(children=kids, size=index), name=f"n{index}")
    return registry


def scaling() -> str:
    """First-build seconds and peak traced bytes per node, for each size."""
    per_node: dict[int, tuple[float, float]] = {}
    for count in SCALES:
        registry = wide_registry(count)
        best = float("inf")
        for _ in range(3):
            registry._plans.clear()
            started = time.perf_counter()
            registry.build("n0")
            best = min(best, time.perf_counter() - started)
        registry._plans.clear()
        tracemalloc.start()
        registry.build("n0")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        per_node[count] = (best / count, peak / count)
    small = per_node[SCALES[0]]
    rows = []
    for count in SCALES:
        seconds, memory = per_node[count]
        rows.append(
            (
                f"first build, per node, {count:,} nodes",
                seconds,
                f"per node at {SCALES[0]:,}",
                seconds / small[0],
                SCALING_TARGET,
            )
        )
        rows.append(
            (
                f"  peak memory {memory:,.0f} B per node",
                seconds,
                "memory per node",
                memory / small[1],
                SCALING_TARGET,
            )
        )
    return table("first build as the tree grows (cost and memory per node)", rows)


if __name__ == "__main__":
    print(main())
