from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, Mock

import pytest

from cinnamon import Callback, CallbackPipeline, CinnamonError, Component, guard
from cinnamon.callbacks import EarlyStopping
from cinnamon.errors import HookpointError, UsageError


class Recorder(Callback):
    """Records each fit hook as (hookpoint, logs), in a shared journal if given."""

    def __init__(self, journal: list[Any] | None = None) -> None:
        self.journal: list[Any] = [] if journal is None else journal

    def on_fit_begin(self, logs: Any) -> None:
        self.journal.append(("on_fit_begin", logs))

    def on_fit_end(self, logs: Any) -> None:
        self.journal.append(("on_fit_end", logs))

    def on_fit_exception(self, logs: Any) -> None:
        self.journal.append(("on_fit_exception", logs))


# -- which hookpoints ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "decorate",
    [guard(), guard("fit"), guard("on_fit"), guard, guard(hookpoint="fit")],
    ids=["guard()", "guard('fit')", "guard('on_fit')", "bare", "keyword"],
)
def test_every_spelling_means_the_same_pair(decorate: Any) -> None:
    journal: list[Any] = []

    def fit(x: int, callbacks: Callback | None = None) -> int:
        journal.append(("call", x))
        return x + 1

    guarded = decorate(fit)
    assert guarded(1, callbacks=Recorder(journal)) == 2
    assert journal == [("on_fit_begin", None), ("call", 1), ("on_fit_end", 2)]


def test_the_default_name_is_the_function_name_without_a_second_on() -> None:
    journal: list[Any] = []

    class Hooks(Callback):
        def on_train_step_begin(self, logs: Any) -> None:
            journal.append("train_step")

        def on_epoch_begin(self, logs: Any) -> None:
            journal.append("epoch")

    @guard()
    def train_step(callbacks: Callback) -> None:
        pass

    @guard()
    def on_epoch(callbacks: Callback) -> None:
        pass

    train_step(Hooks())
    on_epoch(Hooks())
    assert journal == ["train_step", "epoch"]


@pytest.mark.parametrize(
    ("hookpoint", "error", "match"),
    [
        ("", HookpointError, "'' does not make a hookpoint"),
        ("on_", HookpointError, "'on_' does not make a hookpoint"),
        ("fit epoch", HookpointError, "'fit epoch' does not make a hookpoint"),
        ("fit-epoch", HookpointError, "'fit-epoch' does not make a hookpoint"),
        (5, UsageError, "guard.. takes a hookpoint name such as 'fit', not 5"),
        (b"fit", UsageError, "takes a hookpoint name"),
    ],
)
def test_bad_hookpoint_names_are_refused(hookpoint: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        guard(hookpoint)


def test_a_function_without_a_usable_name_needs_an_explicit_hookpoint() -> None:
    anonymous = lambda callbacks=None: None  # noqa: E731
    with pytest.raises(HookpointError, match=r"'<lambda>' \(the name of .*\) does not make"):
        guard()(anonymous)
    assert guard("fit")(anonymous)(callbacks=Recorder()) is None

    class Nameless:
        def __call__(self, callbacks: Any = None) -> int:
            return 3

    with pytest.raises(UsageError, match="has no name to make a hookpoint of"):
        guard()(Nameless())
    assert guard("fit")(Nameless())() == 3


# -- finding the callbacks ----------------------------------------------------------------


def test_callbacks_by_keyword_by_position_and_from_the_default() -> None:
    default = Recorder()

    @guard()
    def fit(x: int, callbacks: Callback | None = default) -> int:
        return x

    given = Recorder()
    fit(1, callbacks=given)
    fit(2, given)
    fit(3)
    assert given.journal == [
        ("on_fit_begin", None),
        ("on_fit_end", 1),
        ("on_fit_begin", None),
        ("on_fit_end", 2),
    ]
    assert default.journal == [("on_fit_begin", None), ("on_fit_end", 3)]


def test_callbacks_none_is_a_plain_call() -> None:
    calls: list[Any] = []

    @guard()
    def fit(x: int, *, callbacks: Callback | None = None) -> int:
        calls.append(callbacks)
        return x * 2

    assert fit(4) == 8
    assert fit(5, callbacks=None) == 10
    assert calls == [None, None]


@pytest.mark.parametrize(
    "value",
    [5, "callbacks", [Recorder()], Callback, object()],
    ids=["int", "str", "list", "the class", "object"],
)
def test_callbacks_that_are_not_a_callback_are_refused_at_call_time(value: Any) -> None:
    calls: list[Any] = []

    @guard()
    def fit(callbacks: Any = None) -> None:
        calls.append(callbacks)

    with pytest.raises(UsageError, match=r"fit\(\): callbacks must be a Callback or None, not "):
        fit(value)
    with pytest.raises(TypeError):
        fit(callbacks=value)
    assert calls == []


@pytest.mark.parametrize("mock", [Mock, MagicMock])
def test_objects_with_every_attribute_are_still_refused(mock: type[Mock]) -> None:
    @guard()
    def fit(callbacks: Any = None) -> None:
        pass

    with pytest.raises(UsageError, match="callbacks must be a Callback"):
        fit(mock())


def test_a_function_without_a_callbacks_parameter_is_refused_when_decorated() -> None:
    def no_callbacks(x: int) -> int:
        return x

    def star_args(*callbacks: Any) -> None:
        pass

    def star_kwargs(**callbacks: Any) -> None:
        pass

    def only_kwargs(**kwargs: Any) -> None:
        pass

    for function in (no_callbacks, star_args, star_kwargs, only_kwargs):
        with pytest.raises(UsageError, match="a parameter named 'callbacks'") as caught:
            guard()(function)
        assert isinstance(caught.value, TypeError)
        assert function.__qualname__ in str(caught.value)


def test_generator_functions_are_refused() -> None:
    def numbers(callbacks: Any = None) -> Any:
        yield 1

    async def stream(callbacks: Any = None) -> Any:
        yield 1

    for function in (numbers, stream):
        with pytest.raises(UsageError, match="cannot wrap the generator function"):
            guard("fit")(function)


def test_things_that_are_not_functions_are_refused() -> None:
    with pytest.raises(UsageError, match="decorates functions and methods, not 5"):
        guard("fit")(5)  # type: ignore[call-overload]
    with pytest.raises(UsageError, match="cannot read the signature"):
        guard("fit")(min)


# -- the wrapper looks like the function --------------------------------------------------


def test_the_wrapper_has_the_function_name_doc_and_signature() -> None:
    marker: list[int] = []

    def fit(
        a: int,
        /,
        b: str,
        c: float = 1.5,
        *rest: int,
        callbacks: Callback | None = None,
        d: list[int] = marker,
        **options: Any,
    ) -> tuple[Any, ...]:
        """Fit the thing."""
        return a, b, c, rest, callbacks, d, options

    guarded = guard()(fit)
    assert guarded.__name__ == "fit"
    assert guarded.__qualname__ == fit.__qualname__
    assert guarded.__doc__ == "Fit the thing."
    assert guarded.__wrapped__ is fit  # type: ignore[attr-defined]
    assert guarded.__annotations__ == fit.__annotations__
    assert inspect.signature(guarded) == inspect.signature(fit)
    assert inspect.signature(guarded, follow_wrapped=False) == inspect.signature(fit)
    assert guarded.__code__.co_name == "fit"  # tracebacks name the function
    result = guarded(1, "b", 2.5, 7, 8, callbacks=None, extra=True)
    assert result == (1, "b", 2.5, (7, 8), None, marker, {"extra": True})
    assert guarded(1, "b")[3:] == ((), None, marker, {})
    assert guarded(1, "b")[5] is marker  # the very same default object
    recorder = Recorder()
    assert guarded(1, b="b", callbacks=recorder, z=1)[6] == {"z": 1}
    assert recorder.journal[-1][0] == "on_fit_end"
    with pytest.raises(TypeError, match="positional"):
        guarded(a=1, b="b")


def test_positional_only_callbacks() -> None:
    @guard("fit")
    def fit(x: int, callbacks: Callback | None, /) -> int:
        return x

    recorder = Recorder()
    assert fit(3, recorder) == 3
    assert recorder.journal == [("on_fit_begin", None), ("on_fit_end", 3)]


def test_parameters_named_like_the_generated_code_are_fine() -> None:
    @guard("fit")
    def fit(_cinnamon_fn: int, _cinnamon_b: int, callbacks: Callback | None = None) -> int:
        return _cinnamon_fn + _cinnamon_b

    recorder = Recorder()
    assert fit(1, 2, callbacks=recorder) == 3
    assert recorder.journal == [("on_fit_begin", None), ("on_fit_end", 3)]


def test_stacked_guards_fire_outside_in() -> None:
    journal: list[Any] = []

    class Both(Callback):
        def on_outer_begin(self, logs: Any) -> None:
            journal.append("outer begin")

        def on_outer_end(self, logs: Any) -> None:
            journal.append("outer end")

        def on_inner_begin(self, logs: Any) -> None:
            journal.append("inner begin")

        def on_inner_end(self, logs: Any) -> None:
            journal.append("inner end")

    @guard("outer")
    @guard("inner")
    def work(callbacks: Callback) -> None:
        journal.append("work")

    work(Both())
    assert journal == ["outer begin", "inner begin", "work", "inner end", "outer end"]


# -- methods --------------------------------------------------------------------------------


class Model:
    def __init__(self) -> None:
        self.fitted = 0

    @guard()
    def fit(self, data: int, callbacks: Callback | None = None) -> int:
        self.fitted += data
        return self.fitted

    @guard("fit")
    @classmethod
    def make(cls, callbacks: Callback | None = None) -> type[Model]:
        return cls

    @classmethod
    @guard("fit")
    def make_too(cls, callbacks: Callback | None = None) -> type[Model]:
        return cls

    @guard("fit")
    @staticmethod
    def double(x: int, callbacks: Callback | None = None) -> int:
        return 2 * x

    @staticmethod
    @guard("fit")
    def triple(x: int, callbacks: Callback | None = None) -> int:
        return 3 * x


class SubModel(Model):
    pass


def test_methods_classmethods_and_staticmethods() -> None:
    recorder = Recorder()
    model = SubModel()
    assert model.fit(2, callbacks=recorder) == 2
    assert model.fit(3, recorder) == 5
    assert SubModel.make(callbacks=recorder) is SubModel
    assert model.make_too(recorder) is SubModel
    assert Model.double(2, callbacks=recorder) == 4
    assert model.triple(2, recorder) == 6
    ends = [logs for hookpoint, logs in recorder.journal if hookpoint == "on_fit_end"]
    assert ends == [2, 5, SubModel, SubModel, 4, 6]
    assert len(recorder.journal) == 12
    assert isinstance(inspect.getattr_static(Model, "make"), classmethod)
    assert isinstance(inspect.getattr_static(Model, "double"), staticmethod)
    assert list(inspect.signature(model.fit).parameters) == ["data", "callbacks"]
    assert list(inspect.signature(Model.make).parameters) == ["callbacks"]
    assert list(inspect.signature(Model.double).parameters) == ["x", "callbacks"]


# -- async ----------------------------------------------------------------------------------


def test_async_functions_fire_around_the_awaited_call() -> None:
    journal: list[Any] = []

    @guard()
    async def fit(x: int, callbacks: Callback | None = None) -> int:
        journal.append("started")
        await asyncio.sleep(0)
        journal.append("finished")
        return x

    assert inspect.iscoroutinefunction(fit)
    coroutine = fit(1, callbacks=Recorder(journal))
    assert journal == []  # nothing fires until the coroutine runs
    assert asyncio.run(coroutine) == 1
    assert journal == [("on_fit_begin", None), "started", "finished", ("on_fit_end", 1)]
    assert asyncio.run(fit(2)) == 2


def test_async_methods_and_their_exceptions() -> None:
    failure = LookupError("missing")

    class Service:
        @guard("fit")
        async def fetch(self, key: str, callbacks: Callback | None = None) -> str:
            await asyncio.sleep(0)
            if key == "bad":
                raise failure
            return key.upper()

    recorder = Recorder()
    service = Service()
    assert asyncio.run(service.fetch("a", callbacks=recorder)) == "A"
    with pytest.raises(LookupError) as caught:
        asyncio.run(service.fetch("bad", recorder))
    assert caught.value is failure
    assert recorder.journal == [
        ("on_fit_begin", None),
        ("on_fit_end", "A"),
        ("on_fit_begin", None),
        ("on_fit_exception", failure),
    ]


# -- exceptions ---------------------------------------------------------------------------


def test_an_exception_propagates_unchanged_and_fires_the_exception_hook() -> None:
    failure = ValueError("diverged")

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        raise failure

    recorder = Recorder()
    quiet = Callback()  # no exception hook: nothing to call, nothing swallowed
    pipeline = CallbackPipeline([recorder, quiet, Recorder(recorder.journal)])
    with pytest.raises(ValueError, match="diverged") as caught:
        fit(callbacks=pipeline)
    assert caught.value is failure
    assert not hasattr(failure, "__notes__")
    assert recorder.journal == [
        ("on_fit_begin", None),
        ("on_fit_begin", None),
        ("on_fit_exception", failure),
        ("on_fit_exception", failure),
    ]
    with pytest.raises(ValueError) as again:
        fit(callbacks=quiet)
    assert again.value is failure


def test_base_exceptions_fire_the_exception_hook_too() -> None:
    class Interrupted(BaseException):
        pass

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        raise Interrupted

    recorder = Recorder()
    with pytest.raises(Interrupted):
        fit(recorder)
    assert [hookpoint for hookpoint, _ in recorder.journal] == ["on_fit_begin", "on_fit_exception"]


def test_an_error_in_the_begin_hook_stops_the_call() -> None:
    failure = RuntimeError("no disk")
    calls: list[int] = []

    class Failing(Recorder):
        def on_fit_begin(self, logs: Any) -> None:
            raise failure

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        calls.append(1)

    callback = Failing()
    with pytest.raises(RuntimeError) as caught:
        fit(callback)
    assert caught.value is failure
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_begin' of Failing"]
    assert calls == []
    assert callback.journal == []  # neither the end nor the exception hook


def test_an_error_in_the_end_hook_propagates_with_a_note() -> None:
    class Failing(Recorder):
        def on_fit_end(self, logs: Any) -> None:
            raise KeyError(logs)

    @guard()
    def fit(callbacks: Callback | None = None) -> str:
        return "result"

    callback = Failing()
    with pytest.raises(KeyError, match="result") as caught:
        fit(CallbackPipeline([Recorder(), callback]))
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_end' of Failing"]
    assert callback.journal == [("on_fit_begin", None)]


def test_an_error_in_the_exception_hook_chains_to_the_original() -> None:
    original = ValueError("first")

    class Failing(Callback):
        def on_fit_exception(self, logs: Any) -> None:
            raise RuntimeError(logs)

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        raise original

    with pytest.raises(RuntimeError, match="first") as caught:
        fit(Failing())
    assert caught.value.__context__ is original
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_exception' of Failing"]


def test_hooks_that_take_logs_by_keyword_only_work_through_the_guard() -> None:
    seen: list[Any] = []

    class KeywordOnly(Callback):
        def on_fit_begin(self, *, logs: Any) -> None:
            seen.append(("begin", logs))

        def on_fit_end(self, **kwargs: Any) -> None:
            seen.append(("end", kwargs))

    @guard()
    def fit(callbacks: Callback | None = None) -> int:
        return 1

    for callbacks in (KeywordOnly(), CallbackPipeline([KeywordOnly(), KeywordOnly()])):
        seen.clear()
        fit(callbacks)
        fit(callbacks)
        begins = [entry for entry in seen if entry[0] == "begin"]
        assert begins == [("begin", None)] * (len(seen) // 2)
        assert ("end", {"logs": 1}) in seen


# -- pipelines and run overrides ----------------------------------------------------------


def test_only_the_children_that_implement_the_hooks_are_called() -> None:
    journal: list[Any] = []
    idle = [Callback() for _ in range(9)]
    pipeline = CallbackPipeline([*idle[:4], Recorder(journal), *idle[4:]])

    @guard()
    def fit(callbacks: Callback | None = None) -> int:
        return 5

    for _ in range(3):
        fit(callbacks=pipeline)
    assert journal == [("on_fit_begin", None), ("on_fit_end", 5)] * 3


def test_a_callback_that_overrides_run_receives_every_hookpoint() -> None:
    seen: list[Any] = []

    class Everything(Callback):
        def run(self, hookpoint: str, logs: Any = None) -> None:
            seen.append((hookpoint, logs))

    @guard()
    def fit(callbacks: Callback | None = None) -> int:
        raise ValueError

    with pytest.raises(ValueError):
        fit(CallbackPipeline([Everything()]))
    assert [hookpoint for hookpoint, _ in seen] == [
        "on_fit_begin",
        "on_fit_exception",
        "on_exception",
    ]


def test_a_pipeline_change_reaches_the_guard() -> None:
    journal: list[Any] = []
    pipeline = CallbackPipeline([Recorder(journal)])

    @guard()
    def fit(callbacks: Callback | None = None) -> int:
        return 0

    fit(pipeline)
    pipeline.append(Recorder(journal))
    journal.clear()
    fit(pipeline)
    assert len(journal) == 4
    pipeline.components = []
    journal.clear()
    fit(pipeline)
    assert journal == []


# -- threads ------------------------------------------------------------------------------


def test_many_threads_sharing_one_pipeline_fire_every_hook_exactly_once() -> None:
    class Counter(Callback):
        def __init__(self) -> None:
            self.begins: list[int] = []
            self.ends: list[int] = []
            self.errors: list[int] = []

        def on_step_begin(self, logs: Any) -> None:
            self.begins.append(1)  # list.append is atomic

        def on_step_end(self, logs: int) -> None:
            self.ends.append(logs)

        def on_step_exception(self, logs: BaseException) -> None:
            self.errors.append(logs.args[0])

    counters = [Counter() for _ in range(3)]
    pipeline = CallbackPipeline([counters[0], Callback(), CallbackPipeline(counters[1:])])

    @guard()
    def step(value: int, callbacks: Callback | None = None) -> int:
        if value % 100 == 99:
            raise ValueError(value)
        return value

    start = threading.Barrier(8)

    def work(thread: int) -> None:
        start.wait()  # every thread's first call races to fill the tables
        for i in range(1_000):
            with pytest.raises(ValueError) if i % 100 == 99 else contextlib.nullcontext():
                step(thread * 1_000 + i, callbacks=pipeline)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    values = range(8_000)
    for counter in counters:
        assert len(counter.begins) == 8_000
        assert sorted(counter.ends) == [v for v in values if v % 100 != 99]
        assert sorted(counter.errors) == [v for v in values if v % 100 == 99]


def test_the_decorator_shows_its_hookpoint() -> None:
    assert repr(guard()) == "guard()"
    assert repr(guard("on_fit")) == "guard('fit')"


def test_every_guard_error_is_a_cinnamon_error() -> None:
    with pytest.raises(CinnamonError):
        guard("")
    with pytest.raises(CinnamonError):
        guard()(lambda: None)


# -- the fast path: errors told apart once the tables are filled -----------------------------


@pytest.mark.parametrize("warm", [False, True], ids=["first call", "tables filled"])
def test_each_step_that_fails_is_told_apart_on_both_paths(warm: bool) -> None:
    """The first call takes the slow path; later calls the fast one: same outcomes."""
    fail_at: set[str] = set()

    class Steps(Recorder):
        def on_fit_begin(self, logs: Any) -> None:
            if "begin" in fail_at:
                msg = "begin"
                raise OSError(msg)
            super().on_fit_begin(logs)

        def on_fit_end(self, logs: Any) -> None:
            if "end" in fail_at:
                msg = "end"
                raise KeyError(msg)
            super().on_fit_end(logs)

    @guard()
    def fit(callbacks: Callback | None = None) -> str:
        if "call" in fail_at:
            msg = "call"
            raise ValueError(msg)
        return "done"

    callback = Steps()
    pipeline = CallbackPipeline([callback, Callback()])
    if warm:
        assert fit(callbacks=pipeline) == "done"
    callback.journal.clear()
    fail_at.add("begin")
    with pytest.raises(OSError, match="begin") as begin:
        fit(callbacks=pipeline)
    assert begin.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_begin' of Steps"]
    fail_at.clear()
    fail_at.add("call")
    with pytest.raises(ValueError, match="call") as call:
        fit(callbacks=pipeline)
    assert not hasattr(call.value, "__notes__")
    assert callback.journal == [("on_fit_begin", None), ("on_fit_exception", call.value)]
    fail_at.clear()
    fail_at.add("end")
    with pytest.raises(KeyError, match="end") as end:
        fit(callbacks=pipeline)
    assert end.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_end' of Steps"]


def test_a_fan_out_names_the_callback_that_raised_among_many() -> None:
    class Named(Callback):
        def __init__(self, name: str) -> None:
            self.name = name

        def on_fit_end(self, logs: Any) -> None:
            if self.name == logs:
                raise LookupError(self.name)

    class Odd(Named):
        pass

    @guard()
    def fit(which: str, callbacks: Callback | None = None) -> str:
        return which

    callbacks = [Named(f"n{i}") for i in range(40)]
    callbacks[23] = Odd("n23")
    pipeline = CallbackPipeline(callbacks)
    assert fit("none", callbacks=pipeline) == "none"
    with pytest.raises(LookupError, match="n23") as caught:
        fit("n23", callbacks=pipeline)
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_fit_end' of Odd"]


# -- the general exception hook --------------------------------------------------------------


class Watcher(Callback):
    """Records the specific and the general exception hooks."""

    def __init__(self, journal: list[Any]) -> None:
        self.journal = journal

    def on_fit_exception(self, logs: Any) -> None:
        self.journal.append(("on_fit_exception", type(self).__name__))

    def on_exception(self, logs: Any) -> None:
        self.journal.append(("on_exception", type(self).__name__, logs["hookpoint"], logs["error"]))


class GeneralOnly(Watcher):
    on_fit_exception = None  # type: ignore[assignment]  # not a hook: only the general one


def test_the_general_exception_hook_reaches_every_callback_after_the_specific_ones() -> None:
    journal: list[Any] = []
    failure = ValueError("diverged")

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        raise failure

    pipeline = CallbackPipeline([Watcher(journal), Callback(), GeneralOnly(journal)])
    for _ in range(2):  # the slow path, then the fast one
        journal.clear()
        with pytest.raises(ValueError, match="diverged") as caught:
            fit(callbacks=pipeline)
        assert caught.value is failure
        assert journal == [
            ("on_fit_exception", "Watcher"),
            ("on_exception", "Watcher", "on_fit_exception", failure),
            ("on_exception", "GeneralOnly", "on_fit_exception", failure),
        ]
        del failure._cinnamon_reported_to  # type: ignore[attr-defined]  # a fresh raise


def test_the_general_hook_fires_once_per_exception_through_nested_guards() -> None:
    journal: list[Any] = []

    @guard()
    def epoch(callbacks: Callback | None = None) -> None:
        raise KeyboardInterrupt

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        epoch(callbacks=callbacks)

    watcher = Watcher(journal)
    with pytest.raises(KeyboardInterrupt):
        fit(callbacks=watcher)
    assert [entry[:3] for entry in journal] == [
        ("on_exception", "Watcher", "on_epoch_exception"),  # innermost first
        ("on_fit_exception", "Watcher"),
    ]
    # other callbacks in an outer guard still hear of it
    journal.clear()
    outer = Watcher(journal)

    @guard("fit")
    def fit_with_others(callbacks: Callback | None = None) -> None:
        epoch(callbacks=watcher)

    with pytest.raises(KeyboardInterrupt):
        fit_with_others(callbacks=outer)
    assert [entry[:3] for entry in journal] == [
        ("on_exception", "Watcher", "on_epoch_exception"),
        ("on_fit_exception", "Watcher"),
        ("on_exception", "Watcher", "on_fit_exception"),
    ]


def test_an_error_in_the_general_hook_chains_to_the_original_and_stops_the_others() -> None:
    journal: list[Any] = []
    original = ValueError("first")

    class Failing(Callback):
        def on_exception(self, logs: Any) -> None:
            raise RuntimeError(logs["hookpoint"])

    @guard()
    def fit(callbacks: Callback | None = None) -> None:
        raise original

    with pytest.raises(RuntimeError, match="on_fit_exception") as caught:
        fit(CallbackPipeline([Failing(), Watcher(journal)]))
    assert caught.value.__context__ is original
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_exception' of Failing"]
    assert journal == [("on_fit_exception", "Watcher")]  # the specific hooks ran first


# -- setup=True ---------------------------------------------------------------------------------


class NeedsHost(Callback):
    """Fails at the begin hook unless set up, as the built-in EarlyStopping does."""

    def __init__(self) -> None:
        self.hosts: list[Any] = []

    def on_fit_begin(self, logs: Any) -> None:
        if self.component is None:
            msg = "not set up"
            raise AssertionError(msg)
        self.hosts.append((self.component, self.save_path))


def test_setup_true_gives_the_callbacks_their_component_before_the_begin_hook() -> None:
    class Trainer(Component):
        def __init__(self) -> None:
            self.stop_training = False

        @guard("fit", setup=True)
        def fit(self, callbacks: Callback | None = None) -> dict[str, float]:
            return {"val_loss": 1.0}

        @guard("fit")
        def fit_plainly(self, callbacks: Callback | None = None) -> dict[str, float]:
            return {"val_loss": 1.0}

    trainer, other = Trainer(), Trainer()
    needs, stop = NeedsHost(), EarlyStopping()
    pipeline = CallbackPipeline([needs, CallbackPipeline([stop])])
    pipeline.setup(save_path="runs/a")
    for host in (trainer, other, trainer):  # twice through the fast path
        host.fit(callbacks=pipeline)
    assert needs.hosts == [
        (trainer, Path("runs/a")),
        (other, Path("runs/a")),
        (trainer, Path("runs/a")),
    ]
    assert stop.component is trainer  # nested callbacks too, and they stay attached
    assert Trainer().fit() == {"val_loss": 1.0}  # callbacks=None: nothing to set up
    with pytest.raises(AssertionError, match="not set up"):
        Trainer().fit_plainly(callbacks=NeedsHost())  # without setup=True, nobody sets up


def test_an_error_in_setup_stops_the_call_with_a_note() -> None:
    class Picky(NeedsHost):
        def setup(self, component: Any = None, save_path: Any = None) -> None:
            msg = "not my kind of host"
            raise TypeError(msg)

    class Host(Component):
        @guard("fit", setup=True)
        def fit(self, callbacks: Callback | None = None) -> int:
            msg = "not reached"
            raise AssertionError(msg)

    picky = Picky()
    for _ in range(2):
        with pytest.raises(TypeError, match="not my kind") as caught:
            Host().fit(callbacks=picky)
        assert caught.value.__notes__[-1] == (
            "cinnamon: raised in setup(component=...) of the callbacks, before 'on_fit_begin'"
        )
    assert picky.hosts == []


def test_setup_true_needs_a_first_argument() -> None:
    with pytest.raises(UsageError, match=r"setup=True.*first argument"):

        @guard("fit", setup=True)
        def fit(callbacks: Callback | None = None) -> None:
            pass

    with pytest.raises(UsageError, match=r"setup=\.\.\.\) takes True or False"):
        guard("fit", setup="yes")  # type: ignore[arg-type]
    assert repr(guard("fit", setup=True)) == "guard('fit', setup=True)"


def test_setup_true_on_an_async_method() -> None:
    class Host(Component):
        @guard("fit", setup=True)
        async def fit(self, callbacks: Callback | None = None) -> int:
            await asyncio.sleep(0)
            return 3

    host, needs = Host(), NeedsHost()
    assert asyncio.run(host.fit(callbacks=needs)) == 3
    assert needs.hosts == [(host, None)]
