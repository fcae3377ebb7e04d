from __future__ import annotations

import pickle
from typing import Any

import pytest

import cinnamon._core.resolve
from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry, condition
from cinnamon._core.conditions import check_conditions, conditions_of
from cinnamon.errors import ConditionError, UsageError


class Model(Component):
    def __init__(self, n_features: int) -> None:
        self.n_features = n_features


class Data(Component):
    def __init__(self, n_features: int) -> None:
        self.n_features = n_features


class Trainer(Component):
    def __init__(self, model: Model, data: Data) -> None:
        self.model, self.data = model, data


class ModelConfig(Configuration, component=Model):
    n_features: int = Param(4, ge=1)

    @condition
    def few_features(self) -> bool:
        return self.n_features <= 100


class DataConfig(Configuration, component=Data):
    n_features: int = 4


class TrainerConfig(Configuration, component=Trainer):
    model: Ref[ModelConfig] = RegistrationKey("model")
    data: Ref[DataConfig] = RegistrationKey("data")

    @condition("features match")
    def features_match(self) -> bool:
        # Conditions run on resolved trees: the references are configurations here.
        assert isinstance(self.model, ModelConfig)
        assert isinstance(self.data, DataConfig)
        return self.model.n_features == self.data.n_features


def registry_with(model: int = 4, data: int = 4) -> Registry:
    registry = Registry()
    registry.register(ModelConfig(n_features=model), name="model")
    registry.register(DataConfig(n_features=data), name="data")
    registry.register(TrainerConfig(), name="trainer")
    return registry


# -- declaring ----------------------------------------------------------------------------


def test_conditions_are_named_by_the_decorator_or_after_the_method() -> None:
    assert [name for name, _ in conditions_of(TrainerConfig)] == ["features match"]
    assert [name for name, _ in conditions_of(ModelConfig)] == ["few_features"]
    assert conditions_of(DataConfig) == ()

    class Empty(Configuration):
        @condition()
        def empty_parentheses(self) -> bool:
            return True

    assert [name for name, _ in conditions_of(Empty)] == ["empty_parentheses"]


def test_conditions_are_computed_once_per_class() -> None:
    assert conditions_of(TrainerConfig) is conditions_of(TrainerConfig)


def test_subclasses_inherit_conditions_bases_first_and_can_drop_them() -> None:
    class Base(Configuration):
        @condition("first")
        def one(self) -> bool:
            return True

        @condition("second")
        def two(self) -> bool:
            return True

    class Child(Base):
        @condition("third")
        def three(self) -> bool:
            return True

    class Dropper(Base):
        def one(self) -> bool:  # redefined without the mark: no longer a condition
            return False

    assert [name for name, _ in conditions_of(Child)] == ["first", "second", "third"]
    assert [name for name, _ in conditions_of(Dropper)] == ["second"]


def test_condition_refuses_what_is_not_a_method() -> None:
    with pytest.raises(UsageError, match=r"@condition marks a plain method"):
        condition("named")(staticmethod(lambda: True))  # type: ignore[type-var]
    with pytest.raises(UsageError, match=r"condition\(\) takes a non-empty name, not ''"):
        condition("")
    with pytest.raises(UsageError, match=r"condition\(\) takes a non-empty name, not 3"):
        condition(3)  # type: ignore[call-overload]


# -- checking -----------------------------------------------------------------------------


def test_a_condition_across_the_tree_is_checked_when_resolving_and_building() -> None:
    registry = registry_with(model=8, data=4)
    with pytest.raises(ConditionError, match=r"^trainer: condition 'features match' failed$"):
        registry.resolve("trainer")
    with pytest.raises(ConditionError, match=r"^trainer: condition 'features match' failed$"):
        registry.build("trainer")
    with pytest.raises(ConditionError, match=r"^TrainerConfig: condition 'features match'"):
        registry.build(TrainerConfig())
    fine = registry_with(model=4, data=4)
    assert isinstance(fine.build("trainer"), Trainer)
    assert fine.resolve("trainer").model == ModelConfig(n_features=4)


def test_the_error_keeps_its_parts_is_a_value_error_and_pickles() -> None:
    with pytest.raises(ValueError, match="features match") as caught:
        registry_with(model=8).resolve("trainer")
    error = caught.value
    assert isinstance(error, ConditionError)
    assert (error.path, error.condition, error.reason) == ("trainer", "features match", "")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ConditionError
    assert (str(copy), vars(copy)) == (str(error), vars(error))


def test_a_node_deep_in_the_tree_is_named_by_its_dotted_path() -> None:
    registry = registry_with(model=101, data=101)
    with pytest.raises(ConditionError, match=r"^trainer\.model: condition 'few_features' failed$"):
        registry.resolve("trainer")


def test_a_condition_says_why_by_raising_value_error_or_failing_an_assert() -> None:
    class Range(Configuration):
        low: int = 0
        high: int = 1

        @condition("ordered")
        def ordered(self) -> bool:
            if self.low > self.high:
                msg = f"low ({self.low}) is above high ({self.high})"
                raise ValueError(msg)
            return True

        @condition("small")
        def small(self) -> bool:
            assert self.high < 10, "high must stay below 10"
            return True

    registry = Registry()
    with pytest.raises(
        ConditionError, match=r"^Range: condition 'ordered' failed: low \(5\) is above high \(1\)$"
    ) as caught:
        registry.resolve(Range(low=5))
    assert caught.value.reason == "low (5) is above high (1)"
    assert isinstance(caught.value.__cause__, ValueError)
    with pytest.raises(ConditionError, match=r"condition 'small' failed: high must stay below 10"):
        registry.resolve(Range(high=10))


def test_a_bug_in_a_condition_comes_through_with_a_note() -> None:
    class Buggy(Configuration):
        size: int = 1

        @condition("buggy")
        def buggy(self) -> bool:
            return self.sise > 0  # type: ignore[attr-defined, no-any-return]

    with pytest.raises(AttributeError, match="sise") as caught:
        Registry().resolve(Buggy())
    assert caught.value.__notes__ == [
        "cinnamon: raised while checking condition 'buggy' at 'Buggy'"
    ]


def test_a_condition_that_returns_none_is_a_usage_error() -> None:
    class Forgetful(Configuration):
        size: int = 1

        @condition("positive")
        def positive(self) -> Any:
            self.size > 0  # noqa: B015 - the forgotten return under test

    with pytest.raises(
        UsageError, match=r"^Forgetful: condition 'positive' of Forgetful returned None"
    ):
        Registry().resolve(Forgetful())


def test_children_are_checked_before_their_parents() -> None:
    seen: list[str] = []

    class Leaf(Configuration):
        name: str

        @condition
        def record(self) -> bool:
            seen.append(self.name)
            return True

    class Node(Configuration):
        name: str
        children: list[Configuration] = Param(default_factory=list)

        @condition
        def record(self) -> bool:
            seen.append(self.name)
            return True

    tree = Node(name="root", children=[Node(name="a", children=[Leaf(name="a1")]), Leaf(name="b")])
    resolved = Registry().resolve(tree)
    assert seen == ["a1", "a", "b", "root"]
    seen.clear()
    check_conditions(resolved, "root")  # the walk over a finished tree keeps that order
    assert seen == ["a1", "a", "b", "root"]


def test_a_shared_node_is_checked_once() -> None:
    calls: list[int] = []

    class Shared(Configuration):
        @condition
        def counted(self) -> bool:
            calls.append(1)
            return True

    class Pair(Configuration):
        left: Ref[Shared]
        right: Ref[Shared]

    registry = Registry()
    registry.register(Shared(), name="shared")
    key = RegistrationKey("shared").with_shared()
    resolved = registry.resolve(Pair(left=key, right=key))
    assert calls == [1]
    check_conditions(resolved, "Pair")
    assert calls == [1, 1]


def test_configurations_are_not_checked_until_resolved() -> None:
    config = TrainerConfig(model=ModelConfig(n_features=8), data=DataConfig(n_features=4))
    assert config.model == ModelConfig(n_features=8)  # made and assigned freely
    with pytest.raises(ConditionError, match="features match"):
        Registry().resolve(config)


def test_trees_without_conditions_never_reach_the_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(nodes: object) -> None:
        msg = "no node here has a condition"
        raise AssertionError(msg)

    monkeypatch.setattr(cinnamon._core.resolve, "check_nodes", refuse)
    registry = Registry()
    registry.register(DataConfig(), name="data")
    assert registry.resolve("data") == DataConfig()
    with pytest.raises(AssertionError, match="no node here has a condition"):
        registry_with().resolve("trainer")


def test_deep_trees_are_checked_without_recursion() -> None:
    class Link(Configuration):
        depth: int = 0
        next: Ref[Link] | None = None

        @condition
        def shallow(self) -> bool:
            return self.depth < 4_999

    registry = Registry()
    for depth in range(5_000):
        following = RegistrationKey(f"n{depth + 1}") if depth < 4_999 else None
        registry.register(Link(depth=depth, next=following), name=f"n{depth}")
    with pytest.raises(ConditionError, match=r"^n0(\.next){4999}: condition 'shallow' failed$"):
        registry.resolve("n0")
    tree = Registry().resolve(Link())
    tree_end = tree
    for _ in range(5_000):
        tree_end.next = Link(depth=0)
        tree_end = tree_end.next
    check_conditions(tree, "root")
