"""Each build makes a new tree: its values are its own, and the configuration is unchanged.

Run through both forms of the tree walk (see conftest.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pydantic
import pytest

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry


class Bag(Component):
    def __init__(self, items: Any) -> None:
        self.items = items


class BagConfig(Configuration, component=Bag):
    items: list[int] = Param(default_factory=lambda: [1, 2])


class AnyBagConfig(Configuration, component=Bag):
    items: Any = None


class Holder(Component):
    def __init__(self, bag: Bag, bags: list[Bag]) -> None:
        self.bag, self.bags = bag, bags


class HolderConfig(Configuration, component=Holder):
    bag: Ref[BagConfig] = Param(default_factory=BagConfig)
    bags: list[Ref[BagConfig]] = Param(default_factory=list)


class Point(pydantic.BaseModel):
    xs: list[int]


@dataclasses.dataclass
class Box:
    content: dict[str, list[int]]


def test_the_issue_example_a_component_mutating_its_list_changes_nothing_else() -> None:
    registry = Registry()
    registry.register(BagConfig(), name="bag")
    first = registry.build("bag")
    first.items.append(3)
    assert registry.build("bag").items == [1, 2]
    assert registry.get("bag").config.items == [1, 2]


def test_children_by_reference_and_inline_get_their_own_values() -> None:
    registry = Registry()
    registry.register(BagConfig(), name="bag")
    registry.register(
        HolderConfig(bags=[RegistrationKey("bag"), BagConfig(items=[7])]), name="holder"
    )
    first = registry.build("holder")
    first.bag.items.append(99)
    first.bags[0].items.append(99)
    first.bags[1].items.append(99)
    second = registry.build("holder")
    assert second.bag.items == [1, 2]
    assert [bag.items for bag in second.bags] == [[1, 2], [7]]
    assert registry.get("bag").config.items == [1, 2]
    assert registry.get("holder").config.bags[1].items == [7]


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2], "b": {"c": {3, 4}}},
        ([1], [2]),  # a tuple of lists: the tuple is immutable, its items are not
        [{"deep": [[1], [2, [3]]]}],
        {1, 2, 3},
        Point(xs=[1, 2]),
        Box(content={"k": [1]}),
        bytearray(b"ab"),
    ],
    ids=[
        "nested-dicts",
        "tuple-of-lists",
        "deep-lists",
        "set",
        "pydantic-model",
        "dataclass",
        "bytearray",
    ],
)
def test_mutable_values_at_any_depth_are_copied_for_each_build(value: Any) -> None:
    registry = Registry()
    registry.register(AnyBagConfig(items=value), name="bag")
    original = repr(value)
    first, second = registry.build("bag"), registry.build("bag")
    assert first.items == value
    assert first.items is not value
    assert first.items is not second.items
    _mutate_everything(first.items)
    assert repr(registry.get("bag").config.items) == original
    assert repr(registry.build("bag").items) == original


def _mutate_everything(value: Any) -> None:
    """Change every mutable container inside ``value``, at every depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            item.append("x")
        elif isinstance(item, dict):
            stack.extend(item.values())
            item["x"] = "x"
        elif isinstance(item, set):
            item.add("x")
        elif isinstance(item, tuple):
            stack.extend(item)
        elif isinstance(item, bytearray):
            item.extend(b"x")
        elif isinstance(item, pydantic.BaseModel) or dataclasses.is_dataclass(item):
            stack.extend(vars(item).values())


def test_immutable_values_are_passed_as_they_are() -> None:
    value = ("a", 1, frozenset({2.5}), (None, b"x"))
    registry = Registry()
    registry.register(AnyBagConfig(items=value), name="bag")
    assert registry.build("bag").items is value


def test_a_list_changed_in_place_after_a_build_is_seen_by_the_next_build() -> None:
    registry = Registry()
    registry.register(BagConfig(), name="bag")
    assert registry.build("bag").items == [1, 2]
    registry.get("bag").config.items.append(5)
    assert registry.build("bag").items == [1, 2, 5]
    registry.get("bag").config.items[0] = {"now": "a dict"}  # type: ignore[call-overload]
    built = registry.build("bag").items
    built[0]["now"] = "changed"
    assert registry.get("bag").config.items[0] == {"now": "a dict"}


def test_references_added_in_place_after_a_build_are_seen_by_the_next_build() -> None:
    registry = Registry()
    registry.register(BagConfig(), name="bag")
    registry.register(BagConfig(items=[9]), name="nine")
    registry.register(HolderConfig(bags=[RegistrationKey("bag")]), name="holder")
    assert [bag.items for bag in registry.build("holder").bags] == [[1, 2]]
    registry.get("holder").config.bags.append(RegistrationKey("nine"))
    assert [bag.items for bag in registry.build("holder").bags] == [[1, 2], [9]]
    registry.get("holder").config.bags[0] = RegistrationKey("nine")
    assert [bag.items for bag in registry.build("holder").bags] == [[9], [9]]


def test_a_reference_changed_in_place_to_a_missing_key_fails_on_the_next_build() -> None:
    registry = Registry()
    registry.register(BagConfig(), name="bag")
    registry.register(HolderConfig(bags=[RegistrationKey("bag")]), name="holder")
    registry.build("holder")
    registry.get("holder").config.bags.append(RegistrationKey("gone"))
    with pytest.raises(
        LookupError, match=r"holder\.bags\[1\]: no registration 'gone' in namespace 'default'"
    ):
        registry.build("holder")


def test_resolve_returns_a_tree_that_shares_no_mutable_value_with_the_registry() -> None:
    registry = Registry()
    registry.register(AnyBagConfig(items={"a": [1]}), name="bag")
    tree = registry.resolve("bag")
    tree.items["a"].append(2)
    assert registry.get("bag").config.items == {"a": [1]}
    assert registry.build("bag").items == {"a": [1]}


def test_shared_references_stay_one_instance_within_a_build() -> None:
    registry = Registry()
    registry.register(BagConfig(), name="bag")
    shared = RegistrationKey("bag").with_shared()
    registry.register(HolderConfig(bag=shared, bags=[shared, RegistrationKey("bag")]), name="h")
    holder = registry.build("h")
    assert holder.bag is holder.bags[0]
    assert holder.bags[1] is not holder.bag
    assert registry.build("h").bag is not holder.bag
