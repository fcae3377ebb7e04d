from __future__ import annotations

from typing import Any

from cinnamon import Component
from tests.fakes import Leaf


class Tree(Component):
    def __init__(self, **children: Any) -> None:
        for name, value in children.items():
            setattr(self, name, value)


def test_components_are_ordinary_classes() -> None:
    leaf = Leaf(size=3)
    assert leaf.size == 3
    assert leaf.__cinnamon__ is None
    assert list(leaf.children()) == []
    assert list(leaf.walk()) == [leaf]
    assert repr(leaf) == "<Leaf>"


def test_children_cover_attributes_lists_tuples_and_dicts() -> None:
    a, b, c, d = Leaf(1), Leaf(2), Leaf(3), Leaf(4)
    tree = Tree(first=a, many=[b, "not a component", c], pair=(d,), named={"x": a}, number=5)
    assert list(tree.children()) == [
        ("first", a),
        ("many[0]", b),
        ("many[2]", c),
        ("pair[0]", d),
        ("named['x']", a),
    ]


def test_walk_is_pre_order_and_visits_each_component_once() -> None:
    leaves = [Leaf(i) for i in range(3)]
    inner = Tree(left=leaves[0], right=leaves[1])
    root = Tree(inner=inner, last=leaves[2], again=leaves[0])
    assert list(root.walk()) == [root, inner, leaves[0], leaves[1], leaves[2]]


def test_walk_survives_cycles_and_depth() -> None:
    root = Tree()
    node = root
    for _ in range(20_000):
        child = Tree()
        node.child = child  # type: ignore[attr-defined]
        node = child
    node.back = root  # type: ignore[attr-defined]
    assert sum(1 for _ in root.walk()) == 20_001


def test_subclasses_need_not_call_super() -> None:
    class Plain(Component):
        def __init__(self) -> None:
            self.value = 1

    plain = Plain()
    assert plain.value == 1
    assert list(plain.walk()) == [plain]
