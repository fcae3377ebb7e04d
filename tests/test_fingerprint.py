from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cinnamon import Configuration, Param, RegistrationKey, Registry, fingerprint
from cinnamon.errors import UsageError
from tests.fakes import HolderConfig, Leaf, LeafConfig, ModelConfig, NodeConfig


def test_same_tree_same_fingerprint_and_hex_form() -> None:
    first = fingerprint(ModelConfig(encoder=LeafConfig(size=1)))
    assert first == fingerprint(ModelConfig(encoder=LeafConfig(size=1)))
    assert len(first) == 64
    int(first, 16)


MODULE = """
from cinnamon import Configuration, fingerprint

class Settings(Configuration):
    {fields}

print(fingerprint(Settings(alpha=1, beta="b", gamma=[1.5, None])))
"""


def _in_another_process(tmp_path: Path, fields: list[str]) -> str:
    source = textwrap.dedent(MODULE).replace("{fields}", "\n    ".join(fields))
    module = tmp_path / "settings_module.py"
    module.write_text(source)
    result = subprocess.run(
        [sys.executable, "-c", "import settings_module"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "random", "PATH": ""},
    )
    return result.stdout.strip()


def test_stable_across_processes_and_field_order(tmp_path: Path) -> None:
    declared = ["alpha: int = 0", "beta: str = ''", "gamma: list[float | None] = []"]
    once = _in_another_process(tmp_path, declared)
    again = _in_another_process(tmp_path, declared)
    reordered = _in_another_process(tmp_path, list(reversed(declared)))
    assert once == again == reordered
    assert len(once) == 64


def test_every_change_anywhere_changes_it() -> None:
    base = NodeConfig(children=[LeafConfig(size=1), NodeConfig(children=[LeafConfig(size=2)])])
    changed = NodeConfig(children=[LeafConfig(size=1), NodeConfig(children=[LeafConfig(size=3)])])
    relabelled = NodeConfig(
        children=[LeafConfig(size=1), NodeConfig(children=[LeafConfig(size=2, label="x")])]
    )
    fewer = NodeConfig(children=[LeafConfig(size=1)])
    prints = {fingerprint(config) for config in (base, changed, relabelled, fewer)}
    assert len(prints) == 4


def test_types_and_containers_stay_apart() -> None:
    class Loose(Configuration):
        value: Any = None

    values = [1, 1.0, True, "1", [1], (1,), {"1": 1}, {1: 1}, None, b"1", RegistrationKey("a"), {1}]
    prints = {fingerprint(Loose(value=value)) for value in values}
    assert len(prints) == len(values)
    assert fingerprint(Loose(value=float("nan"))) == fingerprint(Loose(value=float("nan")))
    assert fingerprint(Loose(value={"b": 1, "a": 2})) == fingerprint(Loose(value={"a": 2, "b": 1}))


def test_sharing_and_components_count() -> None:
    registry = Registry()
    registry.register(LeafConfig(), name="leaf")
    registry.register(LeafConfig(), name="other", component=dict)
    key = RegistrationKey("leaf")
    registry.register(ModelConfig(encoder=key, head=key), name="fresh")
    registry.register(ModelConfig(encoder=key.with_shared(), head=key.with_shared()), name="shared")
    registry.register(ModelConfig(encoder=key, head=RegistrationKey("other")), name="swapped")
    fresh, shared, swapped = (
        fingerprint(registry.resolve(name)) for name in ("fresh", "shared", "swapped")
    )
    assert len({fresh, shared, swapped}) == 3
    assert fresh == fingerprint(registry.resolve("fresh"))


def test_class_identity_counts() -> None:
    class Twin(Configuration, component=Leaf):
        size: int = 3
        label: str = "leaf"

    assert fingerprint(Twin()) != fingerprint(LeafConfig())


def test_values_without_a_stable_form_are_refused_with_their_path() -> None:
    class Loose(Configuration):
        value: Any = None

    with pytest.raises(
        UsageError, match=r"HolderConfig\.child\.value\[1\]: cannot fingerprint a object"
    ):
        fingerprint(HolderConfig(child=Loose(value=[1, object()])))
    with pytest.raises(UsageError, match="takes a Configuration, not dict"):
        fingerprint({})  # type: ignore[arg-type]


def test_deep_trees_do_not_recurse() -> None:
    registry = Registry()
    registry.register(NodeConfig(), name="n0")
    for index in range(1, 5_000):
        registry.register(NodeConfig(children=[RegistrationKey(f"n{index - 1}")]), name=f"n{index}")
    assert len(fingerprint(registry.resolve("n4999"))) == 64


leaves = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(leaves, leaves)
def test_fingerprints_differ_exactly_when_values_differ(first: Any, second: Any) -> None:
    class Loose(Configuration):
        value: Any = Param(None)

    def typed(value: Any) -> Any:  # equality that tells 1, 1.0 and True apart
        if isinstance(value, list):
            return ("list", [typed(item) for item in value])
        if isinstance(value, dict):
            return ("dict", sorted((key, typed(item)) for key, item in value.items()))
        return (type(value).__name__, value)

    same = typed(first) == typed(second)
    assert (fingerprint(Loose(value=first)) == fingerprint(Loose(value=second))) is same
