"""The cost of a guarded call, next to a bare call and hand-written hooks.

Run: python benchmarks/bench_guard.py   (or python benchmarks/run.py guard)

The cases are statements timed with :mod:`timeit` rather than the callables of
``harness.measure``: a lambda around each case would add a call to every case and hide
most of the guard's own cost. As in the harness, the cases are measured in interleaved
rounds, each case next to its baseline, and reported as medians; the cost of timeit's
empty loop is subtracted, and a ratio is the median of a case over that of its baseline.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import table

from cinnamon import Callback, CallbackPipeline, guard


def work(x: int, callbacks: Any = None) -> int:  # noqa: ARG001 - the guard reads it
    return x


async def awork(x: int, callbacks: Any = None) -> int:  # noqa: ARG001 - the guard reads it
    return x


guarded = guard("fit")(work)
aguarded = guard("fit")(awork)


class Hooks(Callback):
    def on_fit_begin(self, logs: Any) -> None:
        pass

    def on_fit_end(self, logs: Any) -> None:
        pass

    def on_fit_exception(self, logs: Any) -> None:
        pass


class Idle(Callback):
    def on_epoch_end(self, logs: Any) -> None:
        pass


one = Hooks()
hundred = [Hooks() for _ in range(100)]


async def by_hand(x: int, callbacks: Any = None) -> int:
    """The hand-written begin/call/end of an async function, hooks called positionally."""
    one.on_fit_begin(None)
    try:
        r = await awork(x, callbacks)
    except BaseException as error:
        one.on_fit_exception(error)
        raise
    one.on_fit_end(r)
    return r


begin, end = one.on_fit_begin, one.on_fit_end


def forward(x: int, callbacks: Any = None) -> int:
    """The least a wrapper can do: one more frame, its hooks known without a lookup."""
    if callbacks is None:
        return work(x, callbacks)
    begin(None)
    r = work(x, callbacks)
    end(r)
    return r


# A coroutine that never suspends finishes on its first send(), without an event loop
# whose own cost would hide the guard's.
DRIVE = "try:\n    {}.send(None)\nexcept StopIteration:\n    pass"

NAMESPACE: dict[str, Any] = {
    "work": work,
    "awork": awork,
    "guarded": guarded,
    "aguarded": aguarded,
    "by_hand": by_hand,
    "forward": forward,
    "one": one,
    "hundred": hundred,
    "ten_pipeline": CallbackPipeline([Idle() for _ in range(9)] + [one]),
    "hundred_pipeline": CallbackPipeline(hundred),
}


@dataclass(frozen=True)
class Case:
    name: str
    statement: str
    baseline: str | None = None
    target: float | None = None


# Every baseline is the fastest honest hand-written code doing the same work: hooks
# called positionally on the callbacks that implement them (as Keras's loop calls them).
CASES = [
    Case("bare call", "work(1, callbacks=None)"),
    Case("guarded, callbacks=None", "guarded(1, callbacks=None)", "bare call", 2.0),
    # The same work as the guard's, the exception hook included (a try costs next to
    # nothing in CPython 3.11 and later, until something raises).
    Case(
        "by hand, positional",
        "one.on_fit_begin(None)\n"
        "try:\n"
        "    r = work(1, callbacks=one)\n"
        "except BaseException as error:\n"
        "    one.on_fit_exception(error)\n"
        "    raise\n"
        "one.on_fit_end(r)",
    ),
    # Not a target: what any wrapper pays for its own frame, for reading the row below.
    Case("floor: a forwarding wrapper", "forward(1, callbacks=one)", "by hand, positional"),
    Case(
        "guarded, 10 callbacks (1 with hooks)",
        "guarded(1, callbacks=ten_pipeline)",
        "by hand, positional",
        1.3,
    ),
    Case(
        "by hand, loop over 100",
        "for c in hundred: c.on_fit_begin(None)\n"
        "try:\n"
        "    r = work(1, callbacks=hundred)\n"
        "except BaseException as error:\n"
        "    for c in hundred: c.on_fit_exception(error)\n"
        "    raise\n"
        "for c in hundred: c.on_fit_end(r)",
    ),
    Case(
        "guarded, 100 callbacks (all with hooks)",
        "guarded(1, callbacks=hundred_pipeline)",
        "by hand, loop over 100",
        1.1,
    ),
    Case("async: bare await", DRIVE.format("awork(1, callbacks=None)")),
    Case(
        "async: guarded, callbacks=None",
        DRIVE.format("aguarded(1, callbacks=None)"),
        "async: bare await",
        2.0,
    ),
    Case("async: by hand, positional", DRIVE.format("by_hand(1, callbacks=one)")),
    Case(
        "async: guarded, 10 callbacks (1)",
        DRIVE.format("aguarded(1, callbacks=ten_pipeline)"),
        "async: by hand, positional",
        1.3,
    ),
]


def _loops(timer: timeit.Timer, seconds: float) -> int:
    """How many loops of ``timer`` take about ``seconds``."""
    number = 1
    while (elapsed := timer.timeit(number)) < seconds / 10:
        number *= 10
    return max(1, round(number * seconds / elapsed))


def measure(rounds: int = 15, seconds: float = 0.02) -> dict[str, list[float]]:
    """Time every case in ``rounds`` interleaved rounds.

    Returns:
        Per case name, the seconds per call of each round, empty-loop cost subtracted.
    """
    timers = {case.name: timeit.Timer(case.statement, globals=NAMESPACE) for case in CASES}
    timers["empty loop"] = timeit.Timer("pass")
    for case in CASES:  # fill the dispatch tables before timing
        exec(case.statement, dict(NAMESPACE))
    loops = {name: _loops(timer, seconds) for name, timer in timers.items()}
    raw: dict[str, list[float]] = {name: [] for name in timers}
    names = list(timers)
    for round_index in range(rounds):
        # Each case follows its baseline in CASES; running the rounds forwards and
        # backwards in turn keeps the two side by side and neither always first.
        for name in names if round_index % 2 == 0 else reversed(names):
            raw[name].append(timers[name].timeit(loops[name]) / loops[name])
    empty = raw.pop("empty loop")
    return {name: [t - e for t, e in zip(times, empty, strict=True)] for name, times in raw.items()}


def main(rounds: int = 15) -> str:
    """Measure every case and return the table."""
    times = measure(rounds)
    rows = []
    for case in CASES:
        seconds = statistics.median(times[case.name])
        if case.baseline is None:
            rows.append((case.name, seconds, "(baseline)", 1.0, None))
            continue
        ratio = seconds / statistics.median(times[case.baseline])
        rows.append((case.name, seconds, case.baseline, ratio, case.target))
    return table("guard: a guarded call next to the same work by hand", rows)


if __name__ == "__main__":
    print(main())
