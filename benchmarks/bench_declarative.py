"""Declarative files: loading (and resolving) 1,000 registrations from one TOML file.

Two files of 1,000 registrations: "flat" (independent entries with a few fields, an
inline declaration and a list) and "chain" (each entry references the one before, so
resolving the last walks all 1,000). Each is timed against ``tomllib.loads`` of the same
text, measured in the same run: the parser alone is the floor any loader pays.

Run: python benchmarks/bench_declarative.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from harness import fmt_time, measure, table

from cinnamon import Component, Configuration, Param, Ref, Registry
from cinnamon._files.declarative import load

COUNT = 1000


class Leaf(Component):
    def __init__(self, size: int, label: str, ratio: float, items: list[int], child: Any) -> None:
        self.size = size
        self.label = label
        self.ratio = ratio
        self.items = items
        self.child = child


class LeafConfig(Configuration, component=Leaf):
    size: int = Param(1, ge=0)
    label: str = "leaf"
    ratio: float = 0.5
    items: list[int] = Param(default_factory=list)
    child: Ref[LeafConfig] | None = None


ALIASES = {"Leaf": LeafConfig}


def flat_text(count: int = COUNT) -> str:
    return "\n".join(
        f'[registrations."bench:flat{i}"]\n'
        'config = "Leaf"\n'
        f'fields = {{ size = {i}, label = "n{i}", ratio = {i / 7!r}, items = [1, 2, 3], '
        'child = { "@config" = "Leaf", size = 1 } }\n'
        for i in range(count)
    )


def chain_text(count: int = COUNT) -> str:
    links = (
        f'[registrations."bench:chain{i}"]\n'
        'config = "Leaf"\n'
        f'fields = {{ size = {i}, child = {{ "@ref" = "bench:chain{i - 1}" }} }}\n'
        for i in range(1, count)
    )
    return "\n".join(['[registrations."bench:chain0"]\nconfig = "Leaf"\n', *links])


def main() -> str:
    folder = Path(tempfile.mkdtemp(prefix="cinnamon-bench-"))
    flat = folder / "flat.toml"
    flat.write_text(flat_text())
    chain = folder / "chain.toml"
    chain.write_text(chain_text())
    flat_source, chain_source = flat.read_text(), chain.read_text()

    def load_flat() -> Registry:
        registry = Registry()
        load(registry, flat, aliases=ALIASES)
        return registry

    def load_chain() -> Registry:
        registry = Registry()
        load(registry, chain, aliases=ALIASES)
        return registry

    def resolve_flat() -> None:
        registry = load_flat()
        for key in registry:
            registry.resolve(key)

    def resolve_chain() -> None:
        load_chain().resolve(f"bench:chain{COUNT - 1}")  # walks the whole chain

    assert len(load_flat()) == len(load_chain()) == COUNT
    times = measure(
        {
            "toml flat": lambda: tomllib.loads(flat_source),
            "load flat": load_flat,
            "resolve flat": resolve_flat,
            "toml chain": lambda: tomllib.loads(chain_source),
            "load chain": load_chain,
            "resolve chain": resolve_chain,
        },
        rounds=9,
    )
    rows = []
    for shape in ("flat", "chain"):
        baseline = times[f"toml {shape}"]
        rows.append(
            (f"tomllib.loads ({shape}, {COUNT:,} entries)", baseline, "(baseline)", 1.0, None)
        )
        rows.append(
            (
                f"load ({shape})",
                times[f"load {shape}"],
                "tomllib.loads",
                times[f"load {shape}"] / baseline,
                None,
            )
        )
        what = "resolve every key" if shape == "flat" else "resolve the last"
        seconds = times[f"resolve {shape}"]
        rows.append(
            (f"load + {what} ({shape})", seconds, "tomllib.loads", seconds / baseline, None)
        )
    lines = [table(f"Declarative files: {COUNT:,} registrations in one TOML file", rows), ""]
    lines.extend(
        f"{name:<16} {fmt_time(times[name] / COUNT)} per registration"
        for name in ("load flat", "resolve flat", "load chain", "resolve chain")
    )
    for path in (flat, chain):
        path.unlink()
    folder.rmdir()
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
