from __future__ import annotations

import pickle
from typing import Any

import pytest

from cinnamon import (
    Callback,
    CallbackPipeline,
    Configuration,
    FilteredCallback,
    FilteredCallbackConfig,
    Registry,
    guard,
)
from cinnamon.errors import ConfigurationError, HookpointError, UsageError


class Counter(Callback):
    def __init__(self) -> None:
        self.batches: list[Any] = []
        self.epochs: list[Any] = []

    def on_batch_end(self, logs: Any) -> None:
        self.batches.append(logs)

    def on_epoch_end(self, logs: Any) -> None:
        self.epochs.append(logs)


class CounterConfig(Configuration, component=Counter):
    pass


def test_every_n_lets_every_nth_call_through_and_leaves_other_hookpoints_alone() -> None:
    counter = Counter()
    pipeline = CallbackPipeline([FilteredCallback(counter, "on_batch_end", every=3), Callback()])
    for step in range(1, 8):
        pipeline.run("on_batch_end", step)
        pipeline.run("on_epoch_end", step)
    assert counter.batches == [3, 6]
    assert counter.epochs == list(range(1, 8))


def test_once_at_n_and_a_predicate() -> None:
    once, when = Counter(), Counter()
    filtered = CallbackPipeline(
        [
            FilteredCallback(once, ["on_batch_end", "on_epoch_end"], once=2),
            FilteredCallback(when, "on_batch_end", when=lambda number, logs: logs["loss"] < 0.5),
        ]
    )
    for number, loss in enumerate([0.9, 0.4, 0.6, 0.1], start=1):
        filtered.run("on_batch_end", {"n": number, "loss": loss})
    filtered.run("on_epoch_end", "e1")
    filtered.run("on_epoch_end", "e2")
    assert [logs["n"] for logs in once.batches] == [2]
    assert once.epochs == ["e2"]  # each hookpoint counts its own calls
    assert [logs["n"] for logs in when.batches] == [2, 4]


def test_counts_survive_a_change_of_the_children_and_reach_the_guard() -> None:
    counter = Counter()
    inner = CallbackPipeline([counter])
    filtered = FilteredCallback(inner, "on_batch_end", every=2)

    @guard("batch")
    def batch(number: int, callbacks: Callback | None = None) -> int:
        return number

    for number in range(1, 4):
        batch(number, callbacks=filtered)
    late = Counter()
    inner.append(late)  # the tables are refilled; the count goes on
    for number in range(4, 7):
        batch(number, callbacks=filtered)
    assert counter.batches == [2, 4, 6]
    assert late.batches == [4, 6]


def test_errors_inside_a_filter_name_the_callback() -> None:
    class Failing(Counter):
        def on_batch_end(self, logs: Any) -> None:
            raise ValueError(logs)

    filtered = FilteredCallback(Failing(), "on_batch_end", every=2)
    filtered.run("on_batch_end", 1)
    with pytest.raises(ValueError, match="2") as caught:
        filtered.run("on_batch_end", 2)
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_batch_end' of Failing"]


def test_a_filter_on_a_hookpoint_the_callback_lacks_is_refused_naming_it() -> None:
    with pytest.raises(HookpointError, match=r"'on_bach_end'.*did you mean 'on_batch_end'\?"):
        FilteredCallback(Counter(), "on_bach_end", every=2)
    with pytest.raises(HookpointError, match="starts with 'on_'"):
        FilteredCallback(Counter(), "batch_end", every=2)
    with pytest.raises(HookpointError, match="at least one"):
        FilteredCallback(Counter(), [], every=2)


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({}, ConfigurationError, "exactly one of every, once and when .got none"),
        ({"every": 2, "once": 1}, ConfigurationError, "got every, once"),
        ({"every": 0}, ConfigurationError, "must be >= 1"),
        ({"once": "2"}, UsageError, "number of calls"),
        ({"every": True}, UsageError, "number of calls"),
        ({"when": 3}, UsageError, "a predicate"),
    ],
)
def test_bad_rules_are_refused(arguments: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        FilteredCallback(Counter(), "on_batch_end", **arguments)


def test_only_callbacks_are_filtered() -> None:
    with pytest.raises(UsageError, match="filters a Callback"):
        FilteredCallback("counter", "on_batch_end", every=2)  # type: ignore[arg-type]


def test_a_callback_that_dispatches_itself_is_filtered_whatever_it_names() -> None:
    seen: list[Any] = []

    class Forwarder(Callback):
        def run(self, hookpoint: str, logs: Any = None) -> None:
            seen.append((hookpoint, logs))

    filtered = FilteredCallback(Forwarder(), "on_anything", every=2)
    for number in range(1, 5):
        filtered.run("on_anything", number)
    assert seen == [("on_anything", 2), ("on_anything", 4)]


def test_a_filter_declared_in_a_configuration() -> None:
    registry = Registry()
    built = registry.build(
        FilteredCallbackConfig(callback=CounterConfig(), hookpoints=["on_epoch_end"], every=2),
        FilteredCallback,
    )
    for number in range(1, 5):
        built.run("on_epoch_end", number)
    (counter,) = built.components
    assert isinstance(counter, Counter)
    assert counter.epochs == [2, 4]
    with pytest.raises(HookpointError, match="'on_epoch_ended'"):
        registry.build(
            FilteredCallbackConfig(callback=CounterConfig(), hookpoints=["on_epoch_ended"], once=1)
        )
    with pytest.raises(ConfigurationError, match="every"):
        FilteredCallbackConfig(callback=CounterConfig(), hookpoints=["on_epoch_end"], every=0)


def test_a_copy_starts_counting_afresh() -> None:
    counter = Counter()
    filtered = FilteredCallback(counter, "on_batch_end", every=2)
    filtered.run("on_batch_end", 1)
    copy = pickle.loads(pickle.dumps(filtered))
    copy.run("on_batch_end", 1)
    copy.run("on_batch_end", 2)
    assert copy.components[0].batches == [2]
