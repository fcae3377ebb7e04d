from __future__ import annotations

import copy
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

from cinnamon import (
    Callback,
    CallbackPipeline,
    CallbackPipelineConfig,
    CinnamonError,
    Component,
    Configuration,
    OrderedPipeline,
    Param,
    Pipeline,
    PipelineConfig,
    Ref,
    RegistrationKey,
    Registry,
    guard,
)
from cinnamon.errors import ConfigurationError, CycleError, NotFoundError, UsageError


class Part(Component):
    def __init__(self, name: str = "part") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Part {self.name}>"


class Named(Callback):
    """Appends (name, hookpoint, logs) to a shared journal."""

    def __init__(self, name: str = "cb", journal: list[Any] | None = None) -> None:
        self.name = name
        self.journal: list[Any] = [] if journal is None else journal

    def on_fit_begin(self, logs: Any) -> None:
        self.journal.append((self.name, "on_fit_begin", logs))

    def on_fit_end(self, logs: Any) -> None:
        self.journal.append((self.name, "on_fit_end", logs))

    def __repr__(self) -> str:
        return f"<Named {self.name}>"


class Quiet(Callback):
    """Has no fit hooks."""


def names(journal: list[Any]) -> list[str]:
    return [entry[0] for entry in journal]


# -- Pipeline ---------------------------------------------------------------------------


def test_a_pipeline_holds_its_children_in_order() -> None:
    a, b = Part("a"), Part("b")
    pipeline = Pipeline([a, b])
    assert pipeline.get_pipeline() == [a, b]
    assert pipeline.components == (a, b)
    assert list(pipeline.children()) == [("components[0]", a), ("components[1]", b)]
    assert list(pipeline.walk()) == [pipeline, a, b]
    assert Pipeline().get_pipeline() == []
    assert Pipeline(components=iter([a])).components == (a,)


def test_get_pipeline_returns_a_fresh_list() -> None:
    a = Part("a")
    pipeline = Pipeline([a])
    pipeline.get_pipeline().append(Part("b"))
    assert pipeline.get_pipeline() == [a]


def test_changing_the_children() -> None:
    a, b, c, d = (Part(n) for n in "abcd")
    pipeline = Pipeline([a])
    pipeline.append(c)
    pipeline.insert(1, b)
    pipeline.extend([d])
    assert pipeline.get_pipeline() == [a, b, c, d]
    pipeline.remove(c)
    assert pipeline.get_pipeline() == [a, b, d]
    pipeline.components = [d, a]
    assert pipeline.get_pipeline() == [d, a]
    with pytest.raises(NotFoundError, match=r"<Part c> is not in the pipeline"):
        pipeline.remove(c)
    assert pipeline.get_pipeline() == [d, a]


def test_remove_compares_by_identity_and_takes_the_first() -> None:
    a = Part("a")
    pipeline = Pipeline([a, Part("b"), a])
    pipeline.remove(a)
    assert [p.name for p in pipeline.get_pipeline()] == ["b", "a"]


@pytest.mark.parametrize(
    ("components", "match"),
    [
        ([Part(), 5], "holds Component instances, not int 5"),
        (["text"], "holds Component instances, not str 'text'"),
        (Part("x"), "must be an iterable of components, not <Part x>"),
        ("ab", "must be an iterable of components, not 'ab'"),
        (5, "must be an iterable of components, not 5"),
    ],
)
def test_a_pipeline_refuses_what_is_not_components(components: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        Pipeline(components)
    pipeline = Pipeline([Part("kept")])
    with pytest.raises(UsageError):
        pipeline.components = components
    assert [p.name for p in pipeline.get_pipeline()] == ["kept"]


def test_a_pipeline_cannot_contain_itself() -> None:
    outer = Pipeline()
    with pytest.raises(UsageError, match="it would contain itself"):
        outer.append(outer)
    middle = Pipeline([outer])
    top = Pipeline([middle])
    with pytest.raises(UsageError, match="it would contain itself"):
        outer.append(top)
    assert outer.get_pipeline() == []


# -- OrderedPipeline --------------------------------------------------------------------


def test_an_ordered_pipeline_runs_the_named_positions_first() -> None:
    a, b, c = (Part(n) for n in "abc")
    assert OrderedPipeline([a, b, c], order=[2, 0, 1]).get_pipeline() == [c, a, b]
    assert OrderedPipeline([a, b, c], order=[2]).get_pipeline() == [c, a, b]
    assert OrderedPipeline([a, b, c], order=[1, 2]).get_pipeline() == [b, c, a]
    assert OrderedPipeline([a, b, c]).get_pipeline() == [a, b, c]
    assert OrderedPipeline([a, b, c], order=[]).get_pipeline() == [a, b, c]
    pipeline = OrderedPipeline([a, b, c])
    pipeline.order = (1, 0)
    assert pipeline.order == (1, 0)
    assert pipeline.get_pipeline() == [b, a, c]
    assert pipeline.components == (a, b, c)


def test_the_order_follows_its_children_when_they_move() -> None:
    a, b, c, d = (Part(n) for n in "abcd")
    pipeline = OrderedPipeline([a, b, c], order=[2, 0])
    pipeline.insert(0, d)  # positions shift; the order still names c, then a
    assert pipeline.order == (3, 1)
    assert pipeline.get_pipeline() == [c, a, d, b]
    pipeline.remove(c)  # a removed child drops out of the order
    assert pipeline.order == (1,)
    assert pipeline.get_pipeline() == [a, d, b]
    pipeline.components = [b, a]
    assert pipeline.get_pipeline() == [a, b]


@pytest.mark.parametrize(
    ("order", "error", "match"),
    [
        ([3], NotFoundError, "names position 3, but the pipeline has no child there .it has 3"),
        ([-1], NotFoundError, "names position -1"),
        ([0, 0], ConfigurationError, r"order: names position 0 more than once: \[0, 0\]"),
        (["a"], UsageError, r"holds positions \(int\), not 'a'"),
        ([True], UsageError, r"holds positions \(int\), not True"),
        ([1.0], UsageError, r"not 1\.0"),
        ("12", UsageError, "must be a sequence of positions, not '12'"),
        (5, UsageError, "must be a sequence of positions, not 5"),
    ],
)
def test_an_order_that_names_a_missing_child_is_refused(
    order: Any, error: type[CinnamonError], match: str
) -> None:
    parts = [Part(n) for n in "abc"]
    with pytest.raises(error, match=match):
        OrderedPipeline(parts, order=order)
    pipeline = OrderedPipeline(parts, order=[1])
    with pytest.raises(error, match=match):
        pipeline.order = order
    assert pipeline.order == (1,)


# -- CallbackPipeline ---------------------------------------------------------------------


def test_run_reaches_every_child_in_order_and_skips_those_without_the_hook() -> None:
    journal: list[Any] = []
    pipeline = CallbackPipeline([Named("a", journal), Quiet(), Named("b", journal)])
    pipeline.run("on_fit_begin", logs=1)
    pipeline.run("on_fit_end", logs=2)
    pipeline.run("on_other", logs=3)
    assert journal == [
        ("a", "on_fit_begin", 1),
        ("b", "on_fit_begin", 1),
        ("a", "on_fit_end", 2),
        ("b", "on_fit_end", 2),
    ]


def test_a_callback_pipeline_holds_callbacks_only() -> None:
    with pytest.raises(UsageError, match="CallbackPipeline holds Callback instances, not Part"):
        CallbackPipeline([Named(), Part()])
    pipeline = CallbackPipeline()
    with pytest.raises(UsageError, match="holds Callback instances"):
        pipeline.append(Pipeline())  # a plain pipeline is not a callback


def test_a_get_pipeline_override_that_yields_a_non_callback_is_refused() -> None:
    class Sneaky(CallbackPipeline):
        def get_pipeline(self) -> list[Component]:
            return [Part("intruder")]

    with pytest.raises(UsageError, match="Sneaky holds Callback instances, not <Part intruder>"):
        Sneaky().run("on_fit_begin")


def test_a_callback_pipeline_refuses_bad_hookpoints() -> None:
    pipeline = CallbackPipeline([Named()])
    with pytest.raises(UsageError, match="must be a string"):
        pipeline.run(None)  # type: ignore[arg-type]
    with pytest.raises(CinnamonError, match="invalid hookpoint 'fit_begin'"):
        pipeline.run("fit_begin")


def test_setup_and_clear_reach_every_nested_child(tmp_path: Path) -> None:
    leaves = [Named(str(i)) for i in range(4)]
    inner = CallbackPipeline([leaves[1], CallbackPipeline([leaves[2]])])
    pipeline = CallbackPipeline([leaves[0], inner, leaves[3]])
    host = Part("host")
    pipeline.setup(component=host, save_path=tmp_path)
    everything = [pipeline, inner, inner.components[1], *leaves]
    assert all(c.component is host and c.save_path == tmp_path for c in everything)
    pipeline.clear()
    assert all(c.component is None and c.save_path is None for c in everything)


def test_nested_pipelines_run_depth_first_in_order() -> None:
    journal: list[Any] = []

    def named(name: str) -> Named:
        return Named(name, journal)

    pipeline = CallbackPipeline(
        [
            named("1"),
            CallbackPipeline([named("2"), CallbackPipeline([named("3")]), named("4")]),
            named("5"),
        ]
    )
    pipeline.run("on_fit_begin")
    assert names(journal) == ["1", "2", "3", "4", "5"]


def test_pipelines_nest_to_any_depth(tmp_path: Path) -> None:
    journal: list[Any] = []
    leaf = Named("leaf", journal)
    pipeline = CallbackPipeline([leaf])
    for _ in range(3_000):  # far deeper than the recursion limit
        pipeline = CallbackPipeline([pipeline])
    pipeline.setup(component=Part(), save_path=tmp_path)
    assert leaf.save_path == tmp_path
    pipeline.run("on_fit_begin", 1)

    @guard("fit")
    def fit(callbacks: Callback) -> int:
        return 2

    fit(pipeline)
    assert journal == [
        ("leaf", "on_fit_begin", 1),
        ("leaf", "on_fit_begin", None),
        ("leaf", "on_fit_end", 2),
    ]
    pipeline.clear()
    assert leaf.component is None


def test_a_pipeline_inside_a_pipeline_inside_a_component() -> None:
    journal: list[Any] = []

    class Trainer(Component):
        def __init__(self, callbacks: CallbackPipeline) -> None:
            self.callbacks = callbacks

        @guard()
        def fit(self, callbacks: Callback | None = None) -> str:
            return "done"

    inner = CallbackPipeline([Named("x", journal), Named("y", journal)])
    trainer = Trainer(CallbackPipeline([inner, Named("z", journal)]))
    trainer.callbacks.setup(component=trainer)
    assert trainer.fit(callbacks=trainer.callbacks) == "done"
    assert names(journal) == ["x", "y", "z"] * 2
    assert inner.components[0].component is trainer
    assert list(trainer.walk())[:3] == [trainer, trainer.callbacks, inner]


def test_a_hookpoint_is_looked_up_once_per_child() -> None:
    lookups: list[str] = []

    class Counting(Callback):
        @property
        def on_fit_begin(self) -> Any:
            lookups.append("looked up")
            return lambda logs: None

    pipeline = CallbackPipeline([Counting(), Quiet(), Counting()])
    for _ in range(100):
        pipeline.run("on_fit_begin")
    assert lookups == ["looked up"] * 2


def test_a_pipeline_sees_changes_to_its_children() -> None:
    journal: list[Any] = []
    a, b, c = Named("a", journal), Named("b", journal), Named("c", journal)
    pipeline = CallbackPipeline([a])

    @guard("fit")
    def fit(callbacks: Callback) -> None:
        pass

    def fired() -> list[str]:
        journal.clear()
        pipeline.run("on_fit_begin")
        run_names = names(journal)
        journal.clear()
        fit(pipeline)
        assert names(journal) == run_names * 2  # begin, then end
        return run_names

    assert fired() == ["a"]
    pipeline.append(b)
    assert fired() == ["a", "b"]
    pipeline.insert(0, c)
    assert fired() == ["c", "a", "b"]
    pipeline.remove(a)
    assert fired() == ["c", "b"]
    pipeline.extend([a])
    assert fired() == ["c", "b", "a"]
    pipeline.components = [b]
    assert fired() == ["b"]


def test_changes_to_a_nested_pipeline_reach_every_pipeline_holding_it() -> None:
    journal: list[Any] = []
    inner = CallbackPipeline([Named("a", journal)])
    left, right = CallbackPipeline([inner]), CallbackPipeline([inner])
    top = CallbackPipeline([left, right])
    top.run("on_fit_begin")
    left.run("on_fit_begin")
    journal.clear()
    inner.append(Named("b", journal))
    top.run("on_fit_begin")
    assert names(journal) == ["a", "b", "a", "b"]
    journal.clear()
    left.run("on_fit_begin")
    assert names(journal) == ["a", "b"]
    journal.clear()
    left.remove(inner)  # no longer a parent: changes to inner no longer concern it
    inner.append(Named("c", journal))
    left.run("on_fit_begin")
    top.run("on_fit_begin")
    assert names(journal) == ["a", "b", "c"]


def test_an_ordered_callback_pipeline_dispatches_in_its_order() -> None:
    class OrderedCallbacks(OrderedPipeline, CallbackPipeline):
        pass

    journal: list[Any] = []
    pipeline = OrderedCallbacks([Named(n, journal) for n in "abc"], order=[2, 0])
    pipeline.run("on_fit_begin")
    assert names(journal) == ["c", "a", "b"]
    journal.clear()
    pipeline.order = [1]
    pipeline.run("on_fit_begin")
    assert names(journal) == ["b", "a", "c"]
    with pytest.raises(UsageError, match="holds Callback instances"):
        pipeline.append(Part())


def test_hooks_of_a_pipeline_subclass_fire_before_its_children() -> None:
    journal: list[Any] = []

    class Announcing(CallbackPipeline):
        def on_fit_begin(self, logs: Any) -> None:
            journal.append(("pipeline", "on_fit_begin", logs))

    announcing = Announcing([Named("child", journal)])
    announcing.run("on_fit_begin", 0)
    CallbackPipeline([announcing]).run("on_fit_begin", 0)
    assert names(journal) == ["pipeline", "child"] * 2


def test_children_that_override_run_or_setup_are_called_through_them(tmp_path: Path) -> None:
    journal: list[Any] = []

    class Gate(CallbackPipeline):
        open = True

        def run(self, hookpoint: str, logs: Any = None) -> None:
            if self.open:
                super().run(hookpoint, logs)

        def setup(self, component: Any = None, save_path: Any = None) -> None:
            journal.append("gate setup")
            super().setup(component, save_path)

    gate = Gate([Named("inside", journal)])
    pipeline = CallbackPipeline([Named("before", journal), gate])
    pipeline.setup(component=Part(), save_path=tmp_path)
    assert journal == ["gate setup"]
    assert gate.components[0].save_path == tmp_path
    journal.clear()

    @guard("fit")
    def fit(callbacks: Callback) -> None:
        pass

    fit(pipeline)
    gate.open = False  # read on every call, because the gate's own run is called
    fit(pipeline)
    assert names(journal) == ["before", "inside", "before", "inside", "before", "before"]


def test_hook_errors_in_a_pipeline_propagate_with_the_failing_callback_named() -> None:
    class Broken(Callback):
        def on_fit_end(self, logs: Any) -> None:
            raise ValueError(logs)

    pipeline = CallbackPipeline([Named(), CallbackPipeline([Broken()]), Named()])
    with pytest.raises(ValueError, match="7") as caught:
        pipeline.run("on_fit_end", 7)
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_end' of Broken"]


def test_copies_of_nested_pipelines_keep_working_and_stay_linked() -> None:
    journal: list[Any] = []
    inner = CallbackPipeline([Named("a", journal)])
    top = CallbackPipeline([inner])
    top.run("on_fit_begin")
    for twin in (copy.deepcopy(top), pickle.loads(pickle.dumps(top))):
        twin_inner = twin.components[0]
        assert isinstance(twin_inner, CallbackPipeline)
        twin.run("on_fit_begin")
        twin_inner.append(Named("b"))  # must reach the copied parent's table
        twin_journal = twin_inner.components[0].journal  # type: ignore[attr-defined]
        twin_journal.clear()
        twin.run("on_fit_begin", 1)
        assert [e[0] for e in twin_journal] == ["a"]
        assert twin_inner.components[1].journal == [("b", "on_fit_begin", 1)]  # type: ignore[attr-defined]
    assert names(journal) == ["a"]


def test_changing_a_pipeline_while_other_threads_dispatch_leaves_no_stale_table() -> None:
    counts: list[int] = []
    pipeline = CallbackPipeline()
    stop = threading.Event()

    class Tick(Callback):
        def on_tick(self, logs: Any) -> None:
            counts.append(1)

    def dispatch() -> None:
        while not stop.is_set():
            pipeline.run("on_tick")

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(200):
            pipeline.append(Tick())
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    counts.clear()
    pipeline.run("on_tick")
    assert len(counts) == 200


@guard("fit")
def _fit(callbacks: Callback) -> None:
    pass


@pytest.mark.parametrize("through", ["run", "guard"])
def test_a_change_made_while_a_table_is_being_filled_is_not_lost(through: str) -> None:
    journal: list[Any] = []
    late = Named("late", journal)
    pipeline = CallbackPipeline()

    class Meddler(Callback):
        """Changes the pipeline while the pipeline looks up its hook."""

        @property
        def on_fit_begin(self) -> Any:
            if late not in pipeline.components:
                pipeline.append(late)
            return lambda logs: journal.append(("meddler", "on_fit_begin", logs))

    def dispatch() -> None:
        if through == "run":
            pipeline.run("on_fit_begin")
        else:
            _fit(pipeline)

    def begins() -> list[str]:
        return [name for name, hookpoint, _ in journal if hookpoint == "on_fit_begin"]

    pipeline.append(Meddler())
    dispatch()  # filled from the children before the change
    assert begins() == ["meddler"]
    journal.clear()
    dispatch()  # that table was not kept: this one sees the change
    assert begins() == ["meddler", "late"]


# -- PipelineConfig -----------------------------------------------------------------------


class PartConfig(Configuration, component=Part):
    name: str = "part"


class NamedConfig(Configuration, component=Named):
    name: str = "cb"


class CallbacksConfig(PipelineConfig, component=CallbackPipeline):
    """Callbacks, in order."""


class OrderedConfig(PipelineConfig, component=OrderedPipeline):
    order: list[int] | None = None


def test_pipeline_config_builds_its_children_by_key_and_inline() -> None:
    registry = Registry()
    registry.register(PartConfig(name="a"), name="a")
    pipeline = registry.build(
        PipelineConfig(components=[RegistrationKey("a"), PartConfig(name="b")]), Pipeline
    )
    assert type(pipeline) is Pipeline
    assert [p.name for p in pipeline.get_pipeline()] == ["a", "b"]
    assert PipelineConfig().components == []
    assert PipelineConfig.params()["components"].description == "the child components, in order"


def test_pipeline_config_bound_to_each_kind_of_pipeline() -> None:
    registry = Registry()
    registry.register(NamedConfig(name="x"), name="x")
    registry.register(
        PipelineConfig(components=[RegistrationKey("x"), NamedConfig(name="y")]),
        name="callbacks",
        component=CallbackPipeline,
    )
    registry.register(
        OrderedConfig(components=[PartConfig(name="p"), PartConfig(name="q")], order=[1]),
        name="ordered",
    )
    callbacks = registry.build("callbacks", CallbackPipeline)
    assert [c.name for c in callbacks.get_pipeline()] == ["x", "y"]  # type: ignore[attr-defined]
    ordered = registry.build("ordered", OrderedPipeline)
    assert [p.name for p in ordered.get_pipeline()] == ["q", "p"]  # type: ignore[attr-defined]
    with pytest.raises(CinnamonError, match="names position 5") as caught:
        registry.build(OrderedConfig(components=[PartConfig()], order=[5]))
    assert any("OrderedConfig" in note for note in caught.value.__notes__)


class Trainer(Component):
    def __init__(self, epochs: int, callbacks: Callback | None = None) -> None:
        self.epochs = epochs
        self.callbacks = callbacks
        if callbacks is not None:
            callbacks.setup(component=self)

    @guard()
    def fit(self, callbacks: Callback | None = None) -> dict[str, int]:
        for epoch in range(self.epochs):
            self.epoch(epoch, callbacks=callbacks)
        return {"epochs": self.epochs}

    @guard()
    def epoch(self, index: int, callbacks: Callback | None = None) -> int:
        return index


class TrainerConfig(Configuration, component=Trainer):
    epochs: int = Param(2, ge=1)
    callbacks: Ref[CallbacksConfig] | None = None


class Journal(Callback):
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, Any]] = []

    def on_fit_end(self, logs: Any) -> None:
        self.seen.append(("fit", logs))

    def on_epoch_end(self, logs: Any) -> None:
        self.seen.append(("epoch", logs))


class JournalConfig(Configuration, component=Journal):
    name: str = "journal"


@pytest.mark.parametrize("inline", [False, True], ids=["by key", "inline"])
def test_one_build_makes_trainer_pipeline_and_callbacks(inline: bool) -> None:
    registry = Registry()
    registry.register(JournalConfig(name="first"), name="first")
    callbacks = CallbacksConfig(
        components=[
            RegistrationKey("first"),
            CallbacksConfig(components=[JournalConfig(name="nested")]),
        ]
    )
    if inline:
        registry.register(TrainerConfig(callbacks=callbacks), name="trainer")
    else:
        registry.register(callbacks, name="callbacks")
        registry.register(TrainerConfig(callbacks=RegistrationKey("callbacks")), name="trainer")
    trainer = registry.build("trainer", Trainer)
    assert isinstance(trainer.callbacks, CallbackPipeline)
    first, nested = trainer.callbacks.get_pipeline()
    assert isinstance(first, Journal)
    assert isinstance(nested, CallbackPipeline)
    last = nested.get_pipeline()[0]
    assert isinstance(last, Journal)
    assert first.component is trainer
    assert last.component is trainer
    assert trainer.fit(callbacks=trainer.callbacks) == {"epochs": 2}
    expected = [("epoch", 0), ("epoch", 1), ("fit", {"epochs": 2})]
    assert first.seen == expected
    assert last.seen == expected
    assert last.__cinnamon__ is not None
    assert last.__cinnamon__.path == "trainer.callbacks.components[1].components[0]"


# -- ordering constraints -------------------------------------------------------------------


class Saver(Named):
    """Runs after every Logger and before any Named subclass called 'Notifier'."""

    runs_after = ("Logger",)
    runs_before = ("Notifier",)


class Logger(Named):
    pass


class Notifier(Named):
    pass


class Last(Named):
    runs_after = (Callback,)  # after every other callback (but not after another Last)


def test_class_constraints_move_a_callback_only_as_far_as_needed() -> None:
    journal: list[Any] = []
    a, saver, logger, notifier = (
        Named("a", journal),
        Saver("saver", journal),
        Logger("logger", journal),
        Notifier("notifier", journal),
    )
    pipeline = CallbackPipeline([notifier, saver, a, logger])
    assert pipeline.get_pipeline() == [a, logger, saver, notifier]
    pipeline.run("on_fit_begin")
    assert names(journal) == ["a", "logger", "saver", "notifier"]
    assert pipeline.components == (notifier, saver, a, logger)  # the children as given


def test_constraints_on_absent_classes_are_ignored_and_same_class_keeps_its_order() -> None:
    first, second, a = Last("first"), Last("second"), Named("a")
    assert CallbackPipeline([first, a, second]).get_pipeline() == [a, first, second]
    saver = Saver("alone")
    assert CallbackPipeline([saver, a]).get_pipeline() == [saver, a]  # no Logger, no Notifier


def test_constraints_apply_again_when_the_children_change_and_through_the_guard() -> None:
    journal: list[Any] = []
    saver, logger = Saver("saver", journal), Logger("logger", journal)
    pipeline = CallbackPipeline([saver])

    @guard()
    def fit(callbacks: Callback | None = None) -> int:
        return 1

    fit(callbacks=pipeline)
    pipeline.append(logger)
    journal.clear()
    fit(callbacks=pipeline)
    assert journal == [
        ("logger", "on_fit_begin", None),
        ("saver", "on_fit_begin", None),
        ("logger", "on_fit_end", 1),
        ("saver", "on_fit_end", 1),
    ]


def test_a_cycle_of_constraints_is_refused_naming_it() -> None:
    class Ping(Named):
        runs_after = ("Pong",)

    class Pong(Named):
        runs_after = ("Ping",)

    with pytest.raises(
        CycleError, match=r"'Ping \(child 1\)' -> 'Pong \(child 2\)' -> 'Ping"
    ) as caught:
        CallbackPipeline([Named(), Ping(), Pong()])
    assert caught.value.cycle == ("Ping (child 1)", "Pong (child 2)", "Ping (child 1)")
    assert "contradict each other" in caught.value.__notes__[0]
    pipeline = CallbackPipeline([Ping()])
    with pytest.raises(CycleError, match="Pong"):
        pipeline.append(Pong())  # refused when the change is made
    assert len(pipeline.components) == 1


def test_the_pipeline_own_constraints_and_their_errors() -> None:
    a, b, logger = Named("a"), Quiet(), Logger("logger")
    pipeline = CallbackPipeline([logger, a, b], after={"Logger": ["Quiet"]})
    assert pipeline.get_pipeline() == [a, b, logger]
    assert pipeline.after == {"Logger": ("Quiet",)}
    pipeline.remove(b)  # a name gone since the pipeline was made is ignored
    assert pipeline.get_pipeline() == [logger, a]
    with pytest.raises(NotFoundError, match=r"names 'Loger'.*did you mean 'Logger'\?"):
        CallbackPipeline([logger, a], after={"Loger": ["Named"]})
    with pytest.raises(CycleError, match="Saver"):
        CallbackPipeline([Saver(), logger], after={"Logger": ["Saver"]})
    for bad, match in [
        (["Logger"], "maps class names"),
        ({"Logger": "Quiet"}, r"after\['Logger'\] is a list"),
        ({"Logger": [Quiet]}, "holds class names"),
    ]:
        with pytest.raises(UsageError, match=match):
            CallbackPipeline([logger], after=bad)  # type: ignore[arg-type]


def test_constraints_declared_in_a_configuration() -> None:
    class NamedConfig(Configuration, component=Named):
        name: str

    class LoggerConfig(NamedConfig, component=Logger):
        pass

    registry = Registry()
    config = CallbackPipelineConfig(
        components=[LoggerConfig(name="logger"), NamedConfig(name="a")],
        after={"Logger": ["Named"]},
    )
    built = registry.build(config, CallbackPipeline)
    assert [child.name for child in built.get_pipeline()] == ["a", "logger"]  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError, match="'Nobody'"):
        registry.build(
            CallbackPipelineConfig(components=[NamedConfig(name="a")], after={"Nobody": []})
        )
