from __future__ import annotations

import copy
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

from cinnamon import Callback, CinnamonError, Component, Configuration, Registry
from cinnamon.errors import HookpointError, UsageError


class Recorder(Callback):
    """Records every hook call as (hookpoint, logs)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_fit_begin(self, logs: Any) -> None:
        self.calls.append(("on_fit_begin", logs))

    def on_epoch_end(self, logs: Any = None) -> None:
        self.calls.append(("on_epoch_end", logs))


class Host(Component):
    pass


# -- hookpoints ---------------------------------------------------------------------------


def test_run_calls_the_hookpoint_with_its_logs() -> None:
    recorder = Recorder()
    recorder.run("on_fit_begin", logs={"loss": 1.0})
    recorder.run(hookpoint="on_epoch_end")
    assert recorder.calls == [("on_fit_begin", {"loss": 1.0}), ("on_epoch_end", None)]


def test_run_without_the_method_does_nothing() -> None:
    recorder = Recorder()
    recorder.run("on_anything", logs=1)
    recorder.run("on_anything", logs=2)
    assert recorder.calls == []
    Callback().run("on_fit_begin")  # the base class has no hooks at all


def test_hooks_receive_logs_by_keyword() -> None:
    seen: list[Any] = []

    class KeywordOnly(Callback):
        def on_a(self, *, logs: Any) -> None:
            seen.append(("a", logs))

        def on_b(self, *args: Any, **kwargs: Any) -> None:
            seen.append(("b", args, kwargs))

        def on_c(self, data: Any = None, logs: Any = None) -> None:
            seen.append(("c", data, logs))

    callback = KeywordOnly()
    for _ in range(2):  # the first run fills the table, the second reads it
        callback.run("on_a", logs=1)
        callback.run("on_b", logs=2)
        callback.run("on_c", logs=3)
    assert seen == [("a", 1), ("b", (), {"logs": 2}), ("c", None, 3)] * 2


def test_a_hook_whose_logs_is_positional_only_fails_as_a_keyword_call_would() -> None:
    class PositionalOnly(Callback):
        def on_x(self, logs: Any, /) -> None:
            pass

    with pytest.raises(TypeError, match="positional-only"):
        PositionalOnly().run("on_x", logs=1)


def test_static_and_class_method_hooks() -> None:
    seen: list[Any] = []

    class Odd(Callback):
        @staticmethod
        def on_static(logs: Any) -> None:
            seen.append(("static", logs))

        @classmethod
        def on_class(cls, logs: Any) -> None:
            seen.append((cls.__name__, logs))

    Odd().run("on_static", 1)
    Odd().run("on_class", 2)
    assert seen == [("static", 1), ("Odd", 2)]


def test_attributes_that_are_not_callable_are_not_hooks() -> None:
    class WithData(Callback):
        on_value = 5

    WithData().run("on_value", logs=1)  # nothing to call, nothing raised


def test_an_instance_attribute_set_before_the_first_run_is_a_hook() -> None:
    callback = Callback()
    seen: list[Any] = []

    def on_custom(logs: Any) -> None:
        seen.append(logs)

    callback.on_custom = on_custom  # type: ignore[attr-defined]
    callback.run("on_custom", logs=7)
    assert seen == [7]


@pytest.mark.parametrize(
    ("hookpoint", "error", "match"),
    [
        (None, UsageError, "must be a string .* not None"),
        (5, UsageError, "must be a string .* not 5"),
        ([], UsageError, r"not \[\]"),
        (b"on_fit", UsageError, "must be a string"),
        ("", HookpointError, "invalid hookpoint ''"),
        ("fit", HookpointError, "invalid hookpoint 'fit': .* starts with 'on_'"),
        ("on_", HookpointError, "invalid hookpoint 'on_'"),
        ("on_fit begin", HookpointError, "invalid hookpoint 'on_fit begin'"),
        ("on-fit", HookpointError, "invalid hookpoint 'on-fit'"),
    ],
)
def test_invalid_hookpoints_are_refused(hookpoint: Any, error: type[Exception], match: str) -> None:
    recorder = Recorder()
    for _ in range(2):  # a refused name is never remembered as valid
        with pytest.raises(error, match=match) as caught:
            recorder.run(hookpoint)
        assert isinstance(caught.value, CinnamonError)
    assert issubclass(UsageError, TypeError)
    assert issubclass(HookpointError, ValueError)


# -- errors raised by hooks -----------------------------------------------------------------


def test_a_hook_error_propagates_unchanged_with_a_note() -> None:
    failure = RuntimeError("disk full")

    class Failing(Callback):
        def on_save(self, logs: Any) -> None:
            raise failure

    with pytest.raises(RuntimeError) as caught:
        Failing().run("on_save")
    assert caught.value is failure
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_save' of Failing"]


def test_the_note_names_where_a_built_callback_sits() -> None:
    class Failing(Callback):
        def on_save(self, logs: Any) -> None:
            raise KeyError(logs)

    class Holder(Component):
        def __init__(self, callback: Failing) -> None:
            self.callback = callback

    class FailingConfig(Configuration, component=Failing):
        pass

    class HolderConfig(Configuration, component=Holder):
        callback: FailingConfig = FailingConfig()

    holder = Registry().build(HolderConfig())
    with pytest.raises(KeyError) as caught:
        holder.callback.run("on_save", logs="x")
    assert caught.value.__notes__ == [
        "cinnamon: raised in hookpoint 'on_save' of Failing at 'HolderConfig.callback'"
    ]


def test_errors_are_noted_through_an_overridden_run_and_for_plain_functions() -> None:
    class Failing(Callback):
        def run(self, hookpoint: str, logs: Any = None) -> None:
            super().run(hookpoint, logs)

        def on_save(self, logs: Any) -> None:
            raise OSError(logs)

    with pytest.raises(OSError, match="full") as caught:
        Failing().run("on_save", "full")
    assert caught.value.__notes__ == ["cinnamon: raised in hookpoint 'on_save' of Failing"]

    def on_load(logs: Any) -> None:
        raise OSError(logs)

    callback = Callback()
    callback.on_load = on_load  # type: ignore[attr-defined]
    with pytest.raises(OSError, match="gone") as caught:
        callback.run("on_load", "gone")
    assert caught.value.__notes__[0].startswith(
        "cinnamon: raised in hookpoint 'on_load' of <function "
    )


# -- setup and clear ----------------------------------------------------------------------


def test_setup_attaches_a_component_and_a_path_and_clear_detaches_them(tmp_path: Path) -> None:
    callback, host = Recorder(), Host()
    assert callback.component is None
    assert callback.save_path is None
    callback.setup(component=host, save_path=str(tmp_path))
    assert callback.component is host
    assert callback.save_path == tmp_path
    assert isinstance(callback.save_path, Path)
    callback.setup(host)
    assert callback.save_path is None
    callback.clear()
    assert callback.component is None
    assert callback.save_path is None


def test_the_host_is_not_a_child_of_its_callback() -> None:
    callback, host = Recorder(), Host()
    callback.setup(component=host)
    assert list(callback.children()) == []
    assert list(callback.walk()) == [callback]


def test_component_can_be_assigned_in_a_subclass_constructor() -> None:
    class Bound(Callback):
        def __init__(self, component: Component) -> None:
            self.component = component

    host = Host()
    assert Bound(host).component is host


# -- subclasses that dispatch by themselves -----------------------------------------------


def test_a_subclass_may_override_run_and_still_use_the_base_run() -> None:
    class Filtering(Recorder):
        def run(self, hookpoint: str, logs: Any = None) -> None:
            if hookpoint != "on_epoch_end":
                super().run(hookpoint, logs)

    callback = Filtering()
    callback.run("on_fit_begin", 1)
    callback.run("on_epoch_end", 2)
    assert callback.calls == [("on_fit_begin", 1)]
    with pytest.raises(HookpointError):
        callback.run("fit")


# -- copies and threads ---------------------------------------------------------------------


def test_pickling_and_copying_keep_the_state_but_not_the_tables(tmp_path: Path) -> None:
    callback = Recorder()
    callback.setup(component=Host(), save_path=tmp_path)
    callback.run("on_fit_begin", 1)
    for twin in (pickle.loads(pickle.dumps(callback)), copy.deepcopy(callback)):
        assert twin.calls == [("on_fit_begin", 1)]
        assert isinstance(twin.component, Host)
        assert twin.save_path == tmp_path
        assert not any(name.startswith("_cinnamon") for name in vars(twin))
        twin.run("on_fit_begin", 2)  # bound to the copy, not to the original
        assert twin.calls[-1] == ("on_fit_begin", 2)
    assert callback.calls == [("on_fit_begin", 1)]


def test_run_from_many_threads_calls_every_hook_once() -> None:
    class Counter(Callback):
        def __init__(self) -> None:
            self.seen: list[int] = []

        def on_tick(self, logs: int) -> None:
            self.seen.append(logs)  # list.append is atomic

    counter = Counter()
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        start.wait()
        for i in range(1_000):
            counter.run("on_tick", offset + i)

    threads = [threading.Thread(target=work, args=(n * 1_000,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counter.seen) == list(range(8_000))
