"""Declarative files: loading (and resolving) 1,000 and 10,000 registrations from one TOML file.

Files of N registrations: "flat" (independent entries with a few fields, an inline
declaration and a list) and "chain" (each entry references the one before, so resolving
the last walks all N). Each load is timed against ``tomllib.loads`` of the same text,
measured in the same run: the parser alone is the floor any loader pays, and the target
is a load within 1.2x of it at both sizes. "The floor" parses the same text and makes
the same registrations by hand, checking nothing: what pydantic and the registry cost
on top of the parser, which no loader can go below. The growth rows compare the time per
registration at 10,000 with that at 1,000 (1.00x is linear).

Run: python benchmarks/bench_declarative.py   (or python benchmarks/run.py declarative)
"""

from __future__ import annotations

import functools
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from harness import TableRow, measure, table

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry
from cinnamon._core.registry import make_registration
from cinnamon._files.declarative import load

SIZES = (1_000, 10_000)
TARGET = 1.2  # load / tomllib.loads
GROWTH = 1.2  # per registration, 10,000 / 1,000


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


def flat_text(count: int) -> str:
    return "\n".join(
        f'[registrations."bench:flat{i}"]\n'
        'config = "Leaf"\n'
        f'fields = {{ size = {i}, label = "n{i}", ratio = {i / 7!r}, items = [1, 2, 3], '
        'child = { "@config" = "Leaf", size = 1 } }\n'
        for i in range(count)
    )


def chain_text(count: int) -> str:
    links = (
        f'[registrations."bench:chain{i}"]\n'
        'config = "Leaf"\n'
        f'fields = {{ size = {i}, child = {{ "@ref" = "bench:chain{i - 1}" }} }}\n'
        for i in range(1, count)
    )
    return "\n".join(['[registrations."bench:chain0"]\nconfig = "Leaf"\n', *links])


def by_hand(source: str) -> Registry:
    """The floor of any loader: parse, then make the same registrations directly.

    It knows the file's two shapes, so it checks nothing a loader must check (entry
    keys, class names, directives): it is what is left once the parser and pydantic
    have run.
    """
    registry = Registry()
    made = []
    for raw_key, entry in tomllib.loads(source)["registrations"].items():
        fields = dict(entry.get("fields", {}))
        child = fields.get("child")
        if isinstance(child, dict) and "@ref" in child:
            fields["child"] = RegistrationKey.parse(child["@ref"])
        elif isinstance(child, dict):
            fields["child"] = LeafConfig(**{k: v for k, v in child.items() if k != "@config"})
        config = LeafConfig(**fields)
        made.append(make_registration(config, RegistrationKey.parse(raw_key), None, None))
    registry.add_registrations(made)
    return registry


def loader(path: Path) -> Callable[[], Registry]:
    def load_file() -> Registry:
        registry = Registry()
        load(registry, path, aliases=ALIASES)
        return registry

    return load_file


def main(quick: bool = False) -> str:
    folder = Path(tempfile.mkdtemp(prefix="cinnamon-bench-"))
    cases: dict[str, Callable[[], object]] = {}
    for count in SIZES:
        for shape, make in (("flat", flat_text), ("chain", chain_text)):
            path = folder / f"{shape}-{count}.toml"
            path.write_text(make(count))
            source = path.read_text()
            cases[f"toml {shape} {count}"] = functools.partial(tomllib.loads, source)
            cases[f"load {shape} {count}"] = loader(path)
            cases[f"hand {shape} {count}"] = functools.partial(by_hand, source)
            assert len(loader(path)()) == count
            assert len(by_hand(source)) == count
    small = SIZES[0]
    load_flat, load_chain = cases[f"load flat {small}"], cases[f"load chain {small}"]

    def resolve_flat() -> None:
        registry = load_flat()
        assert isinstance(registry, Registry)
        for key in registry:
            registry.resolve(key)

    def resolve_chain() -> None:
        registry = load_chain()
        assert isinstance(registry, Registry)
        registry.resolve(f"bench:chain{small - 1}")  # walks the whole chain

    cases["resolve flat"] = resolve_flat
    cases["resolve chain"] = resolve_chain
    times = measure(cases, rounds=3 if quick else 7)
    rows: list[TableRow] = []
    for shape in ("flat", "chain"):
        for count in SIZES:
            baseline = times[f"toml {shape} {count}"]
            seconds = times[f"load {shape} {count}"]
            rows.append(
                (f"tomllib.loads ({shape}, {count:,} entries)", baseline, "(baseline)", 1.0, None)
            )
            rows.append(
                (f"load ({shape}, {count:,})", seconds, "tomllib.loads", seconds / baseline, TARGET)
            )
            floor = times[f"hand {shape} {count}"]
            rows.append(
                (
                    f"  the floor: by hand ({shape}, {count:,})",
                    floor,
                    "tomllib.loads",
                    floor / baseline,
                    None,
                )
            )
        what = "resolve every key" if shape == "flat" else "resolve the last"
        seconds = times[f"resolve {shape}"]
        baseline = times[f"toml {shape} {small}"]
        rows.append(
            (
                f"load + {what} ({shape}, {small:,})",
                seconds,
                "tomllib.loads",
                seconds / baseline,
                None,
            )
        )
    large = SIZES[1]
    for shape in ("flat", "chain"):
        for who, target in (("toml", None), ("load", GROWTH)):
            per_small = times[f"{who} {shape} {small}"] / small
            per_large = times[f"{who} {shape} {large}"] / large
            name = "tomllib.loads" if who == "toml" else "load"
            rows.append(
                (
                    f"{name} ({shape}) per entry at {large:,}",
                    per_large,
                    f"the same at {small:,}",
                    per_large / per_small,
                    target,
                )
            )
    title = f"Declarative files: {small:,} and {large:,} registrations in one TOML file"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return table(title, rows)


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv[1:]))
