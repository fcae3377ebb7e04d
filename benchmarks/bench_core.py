"""Core costs: register + resolve per key, and building a 364-component tree.

Run: python benchmarks/bench_core.py
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import measure, table

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry

DEPTH, FANOUT = 5, 3


class Node(Component):
    def __init__(self, children: list[Node], size: int) -> None:
        self.children_ = children
        self.size = size


class NodeConfig(Configuration, component=Node):
    children: list[Ref[NodeConfig]] = Param(default_factory=list)
    size: int = Param(1, ge=0)


def by_hand(depth: int = 0) -> Node:
    kids = [by_hand(depth + 1) for _ in range(FANOUT)] if depth < DEPTH else []
    return Node(kids, depth)


def by_hand_validated(depth: int = 0) -> Node:
    kids = [by_hand_validated(depth + 1) for _ in range(FANOUT)] if depth < DEPTH else []
    config = NodeConfig(size=depth)  # validate each node's own parameters, as a user would
    return Node(kids, config.size)


def tree_registry() -> tuple[Registry, RegistrationKey]:
    registry = Registry()

    def add(path: str, depth: int) -> RegistrationKey:
        kids = [add(f"{path}.{i}", depth + 1) for i in range(FANOUT)] if depth < DEPTH else []
        return registry.register(NodeConfig(children=kids, size=depth), name=path)

    return registry, add("n", 0)


def register_resolve_flat(count: int) -> float:
    configs = [NodeConfig(size=i) for i in range(count)]
    start = time.perf_counter()
    registry = Registry()
    keys = [registry.register(config, name=f"k{i}") for i, config in enumerate(configs)]
    for key in keys:
        registry.resolve(key)
    return (time.perf_counter() - start) / count


def register_resolve_chain(count: int) -> float:
    configs = [NodeConfig(size=0)] + [
        NodeConfig(children=[RegistrationKey(f"k{i - 1}")], size=i) for i in range(1, count)
    ]
    start = time.perf_counter()
    registry = Registry()
    for i, config in enumerate(configs):
        registry.register(config, name=f"k{i}")
    registry.resolve(f"k{count - 1}")
    return (time.perf_counter() - start) / count


def interleaved(function: Any, sizes: tuple[int, ...], rounds: int = 9) -> dict[int, float]:
    """Median per-key time of ``function(n)`` for each size, the sizes alternating."""
    samples: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(rounds):
        for n in sizes:
            gc.collect()
            samples[n].append(function(n))
    return {n: statistics.median(values) for n, values in samples.items()}


def count_nodes(node: Node) -> int:
    return 1 + sum(count_nodes(child) for child in node.children_)


def main() -> str:
    registry, root = tree_registry()
    assert count_nodes(registry.build(root, Node)) == count_nodes(by_hand()) == 364
    times = measure(
        {
            "plain": by_hand,
            "validated": by_hand_validated,
            "build": lambda: registry.build(root),
        }
    )
    rows = [
        ("hand-written, plain constructors", times["plain"], "(baseline)", 1.0, None),
        (
            "hand-written + pydantic validation",
            times["validated"],
            "plain constructors",
            times["validated"] / times["plain"],
            None,
        ),
        (
            "registry.build (364 components)",
            times["build"],
            "hand-written + validation",
            times["build"] / times["validated"],
            2.0,
        ),
        (
            "registry.build (364 components)",
            times["build"],
            "plain constructors",
            times["build"] / times["plain"],
            None,
        ),
    ]
    flat = interleaved(register_resolve_flat, (1_000, 10_000))
    chained = interleaved(register_resolve_chain, (1_000, 10_000))
    rows += [
        ("register+resolve per key, flat 1,000", flat[1_000], "(baseline)", 1.0, None),
        (
            "register+resolve per key, flat 10,000",
            flat[10_000],
            "flat 1,000 per key",
            flat[10_000] / flat[1_000],
            1.2,
        ),
        ("register+resolve per key, chain 1,000", chained[1_000], "(baseline)", 1.0, None),
        (
            "register+resolve per key, chain 10,000",
            chained[10_000],
            "chain 1,000 per key",
            chained[10_000] / chained[1_000],
            1.2,
        ),
    ]
    return table("core: build and resolve", rows)


if __name__ == "__main__":
    print(main())
