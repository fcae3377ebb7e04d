"""Threads: one registry and one pipeline used from many threads at once lose nothing.

Every test starts its threads together on a barrier and joins them with a timeout, so a
deadlock fails the test instead of hanging the suite. The figures (threads, operations)
are listed in ``docs/guarantees.md``; what is and is not thread safe is documented there.
"""

# The threads check the errors they catch: failing is one of the allowed outcomes there.
# ruff: noqa: PT017

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from cinnamon import (
    Callback,
    CallbackPipeline,
    Component,
    Configuration,
    Param,
    Ref,
    RegistrationKey,
    Registry,
    guard,
    registration,
)
from cinnamon.errors import CinnamonError, DeclarationError

THREADS = 8
OPERATIONS = 300  # per thread, in the mixed registry test
JOIN_SECONDS = 120.0  # far above the real time (well under a second each): a deadlock


class Part(Component):
    def __init__(self, size: int, other: Any = None) -> None:
        self.size = size
        self.other = other


class PartConfig(Configuration, component=Part):
    """A part that may hold another one."""

    size: int = Param(0, ge=0)
    other: Ref[PartConfig] | None = None


ALIASES = {"PartConfig": PartConfig}


def run_together(work: Callable[[int], None], threads: int = THREADS) -> None:
    """Run ``work(n)`` in ``threads`` threads started at once; re-raise the first failure."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def body(number: int) -> None:
        try:
            start.wait()
            work(number)
        except BaseException as error:
            failures.append(error)

    pool = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in pool), "a thread is stuck: a deadlock?"
    if failures:
        raise failures[0]


# -- the registry ----------------------------------------------------------------------------


def _file(worker: int, index: int, *, broken: bool = False) -> str:
    """Two registrations, the second referring to the first; or a broken second one."""
    a, b = f"t{worker}-f{index}-a", f"t{worker}-f{index}-b"
    second = "size = -1\n" if broken else f'other = {{ "@ref" = "{a}" }}\nsize = {index}\n'
    return (
        f'[registrations."{a}"]\nconfig = "PartConfig"\nfields = {{ size = {worker} }}\n\n'
        f'[registrations."{b}"]\nconfig = "PartConfig"\n[registrations."{b}".fields]\n{second}'
    )


def test_threads_registering_loading_collecting_and_building_lose_nothing() -> None:
    """8 threads x 300 operations: register, load, a broken load, collect, build, resolve."""
    registry = Registry()
    registry.register(PartConfig(size=1), name="leaf", namespace="shared")
    registry.register(
        PartConfig(size=2, other=RegistrationKey("leaf", namespace="shared")),
        name="root",
        namespace="shared",
    )
    added: list[list[RegistrationKey]] = [[] for _ in range(THREADS)]
    refused: list[list[str]] = [[] for _ in range(THREADS)]

    def work(worker: int) -> None:
        mine = added[worker]
        for index in range(OPERATIONS):
            kind = index % 6
            if kind == 0:
                mine.append(registry.register(PartConfig(size=index), name=f"t{worker}-r{index}"))
            elif kind == 1:
                mine.extend(registry.loads(_file(worker, index), aliases=ALIASES))
            elif kind == 2:
                with pytest.raises(DeclarationError, match="greater than or equal to 0"):
                    registry.loads(_file(worker, index, broken=True), aliases=ALIASES)
                refused[worker] += [f"t{worker}-f{index}-a", f"t{worker}-f{index}-b"]
            elif kind == 3:
                root = registry.build("shared:root", Part)
                assert (root.size, root.other.size) == (2, 1)
            elif kind == 4:
                loaded = registry.build(f"t{worker}-f{index - 3}-b", Part)
                assert (loaded.size, loaded.other.size) == (index - 3, worker)
                assert registry.resolve(mine[-1]).size == registry.get(mine[-1]).config.size
            else:

                def make(size: int = index) -> PartConfig:
                    return PartConfig(size=size)

                mine.extend(registry.collect(registration(f"t{worker}-c{index}")(make)))
            if index % 25 == 0:
                assert len(registry.keys()) >= len(mine)  # reading the keys as they change

    run_together(work)
    expected = {
        RegistrationKey("leaf", namespace="shared"),
        RegistrationKey("root", namespace="shared"),
    }
    for keys in added:
        expected.update(keys)
    assert set(registry.keys()) == expected
    assert len(registry) == len(expected) == 2 + THREADS * (OPERATIONS // 6) * 4
    assert not any(name in registry for names in refused for name in names)
    for key in registry:
        assert isinstance(registry.build(key), Part)


def test_threads_loading_the_same_file_leave_exactly_one_whole_load() -> None:
    """8 threads load the same three keys: one load wins whole, the others change nothing."""
    registry = Registry()
    outcomes: list[str] = []

    def work(worker: int) -> None:
        text = "".join(
            f'[registrations.{name}]\nconfig = "PartConfig"\ndescription = "thread {worker}"\n'
            for name in ("x", "y", "z")
        )
        try:
            registry.loads(text, aliases=ALIASES)
            outcomes.append("won")
        except CinnamonError as error:
            assert "already registered" in str(error)
            outcomes.append("lost")

    for _ in range(20):  # 20 rounds x 8 threads
        registry = Registry()
        outcomes.clear()
        run_together(work)
        assert sorted(outcomes) == ["lost"] * (THREADS - 1) + ["won"]
        descriptions = {registry.get(name).description for name in ("x", "y", "z")}
        assert len(descriptions) == 1  # all three from the same load


def test_a_build_that_starts_after_an_assignment_sees_it() -> None:
    """1 thread assigns 500 times, 7 build meanwhile; a build after an assignment sees it."""
    registry = Registry()
    leaf = PartConfig(size=0)
    registry.register(leaf, name="leaf")
    registry.register(PartConfig(other=RegistrationKey("leaf")), name="root")
    done = threading.Event()
    seen: list[set[int]] = [set() for _ in range(THREADS)]

    def work(worker: int) -> None:
        if worker == 0:
            try:
                for size in range(1, 501):
                    leaf.size = size
                    assert registry.build("root", Part).other.size == size
            finally:
                done.set()
        else:
            while not done.is_set():
                seen[worker].add(registry.build("root", Part).other.size)

    run_together(work)
    assert registry.build("root", Part).other.size == 500
    assert set().union(*seen) <= set(range(501))  # only values that were assigned


# -- guarded functions on shared pipelines ---------------------------------------------------


class Tally(Callback):
    """Records each hook it receives as (thread, hookpoint, logs)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []

    def _note(self, hookpoint: str, logs: Any) -> None:
        self.events.append((threading.current_thread().name, hookpoint, logs))  # atomic

    def on_fit_begin(self, logs: Any) -> None:
        self._note("fit_begin", logs)

    def on_fit_end(self, logs: Any) -> None:
        self._note("fit_end", logs)

    def on_fit_exception(self, logs: Any) -> None:
        self._note("fit_exception", type(logs).__name__)

    def on_epoch_begin(self, logs: Any) -> None:
        self._note("epoch_begin", logs)

    def on_epoch_end(self, logs: Any) -> None:
        self._note("epoch_end", logs)


EPOCHS = 5
FITS = 60  # per thread


@guard("epoch")
def _epoch(number: int, callbacks: Callback | None = None) -> int:
    return number


@guard("fit")
def _fit(run: int, callbacks: Callback | None = None) -> int:
    for epoch in range(EPOCHS):
        _epoch(epoch, callbacks=callbacks)
    if run % 10 == 9:
        msg = f"run {run} fails"
        raise RuntimeError(msg)
    return run


def test_guarded_calls_from_many_threads_fire_every_hook_once_in_order() -> None:
    """8 threads x 60 fits x 5 epochs through one nested pipeline: 2,880 calls per tally."""
    tallies = [Tally() for _ in range(4)]
    pipeline = CallbackPipeline(
        [
            tallies[0],
            CallbackPipeline([tallies[1], CallbackPipeline([tallies[2]])]),
            Callback(),
            tallies[3],
        ]
    )

    def work(worker: int) -> None:
        for run in range(FITS):
            try:
                _fit(run, callbacks=pipeline)
            except RuntimeError:
                assert run % 10 == 9

    run_together(work)
    expected: list[tuple[str, Any]] = []
    for run in range(FITS):
        expected.append(("fit_begin", None))
        for epoch in range(EPOCHS):
            expected += [("epoch_begin", None), ("epoch_end", epoch)]
        expected.append(("fit_exception", "RuntimeError") if run % 10 == 9 else ("fit_end", run))
    for tally in tallies:
        assert len(tally.events) == THREADS * FITS * (2 + 2 * EPOCHS)
        by_thread: dict[str, list[tuple[str, Any]]] = {}
        for thread, hookpoint, logs in tally.events:
            by_thread.setdefault(thread, []).append((hookpoint, logs))
        assert len(by_thread) == THREADS
        for events in by_thread.values():  # each thread saw its own calls, in order
            assert events == expected


def test_every_call_reaches_the_same_callbacks_at_its_begin_and_its_end() -> None:
    """7 threads x 400 guarded calls while 1 thread adds and removes a callback 400 times."""
    calls = Counter[tuple[int, str]]()
    lock = threading.Lock()

    class Moving(Callback):
        def on_step_begin(self, logs: Any) -> None:
            with lock:
                calls[current[threading.get_ident()], "begin"] += 1

        def on_step_end(self, logs: Any) -> None:
            with lock:
                calls[logs, "end"] += 1

    current: dict[int, int] = {}
    moving = Moving()
    inner = CallbackPipeline([Callback()])
    pipeline = CallbackPipeline([CallbackPipeline([inner]), Callback()])

    @guard("step")
    def step(number: int, callbacks: Callback | None = None) -> int:
        return number

    def work(worker: int) -> None:
        if worker == 0:
            for _ in range(400):
                inner.append(moving)
                inner.remove(moving)
            return
        for index in range(400):
            number = worker * 1_000 + index
            current[threading.get_ident()] = number
            assert step(number, callbacks=pipeline) == number

    run_together(work)
    begins = {number for (number, side) in calls if side == "begin"}
    ends = {number for (number, side) in calls if side == "end"}
    assert begins == ends
    assert all(count == 1 for count in calls.values())


def test_the_pair_of_a_guarded_call_is_found_in_one_state_of_the_pipeline() -> None:
    """A change made while the pair's entries are being found waits for them to be found."""
    journal: list[str] = []
    asked, removed = threading.Event(), threading.Event()

    class Late(Callback):
        def on_fit_begin(self, logs: Any) -> None:
            journal.append("late begin")

        def on_fit_end(self, logs: Any) -> None:
            journal.append("late end")

    class Probe(Callback):
        @property
        def on_fit_end(self) -> None:  # looked up while the end entry is being found
            asked.set()
            removed.wait(timeout=0.2)  # the remover cannot change it meanwhile

    late = Late()
    inner = CallbackPipeline([late])
    outer = CallbackPipeline([Probe(), inner])

    def remove() -> None:
        asked.wait(timeout=10)
        inner.remove(late)
        removed.set()

    remover = threading.Thread(target=remove, daemon=True)
    remover.start()

    @guard("fit")
    def fit(callbacks: Callback | None = None) -> None:
        pass

    fit(callbacks=outer)
    remover.join(JOIN_SECONDS)
    assert journal == ["late begin", "late end"]  # the begin and the end of one state
    journal.clear()
    fit(callbacks=outer)
    assert journal == []  # the next call sees the change


def test_a_dispatch_never_sees_a_mix_of_two_states_of_nested_pipelines() -> None:
    """A callback moved from an inner pipeline to the outer one while a dispatch looks."""
    journal: list[str] = []
    asked, moved = threading.Event(), threading.Event()

    class Mover(Callback):
        def on_tick(self, logs: Any) -> None:
            journal.append("mover")

    class Probe(Callback):
        @property
        def on_tick(self) -> None:  # looked up while the entry is being found
            asked.set()
            moved.wait(timeout=0.2)  # the move cannot happen meanwhile

    mover = Mover()
    inner = CallbackPipeline([mover])
    outer = CallbackPipeline([Probe(), inner])

    def move() -> None:
        asked.wait(timeout=10)
        with_lock = threading.Thread(target=lambda: (inner.remove(mover), outer.append(mover)))
        with_lock.start()
        with_lock.join(JOIN_SECONDS)
        moved.set()

    mover_thread = threading.Thread(target=move, daemon=True)
    mover_thread.start()
    outer.run("on_tick")
    mover_thread.join(JOIN_SECONDS)
    assert journal == ["mover"]  # before the move or after it, but never missing
    journal.clear()
    outer.run("on_tick")
    assert journal == ["mover"]
