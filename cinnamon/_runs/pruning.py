"""Pruning: stop a tuning's trial early when its curve says it will not win.

A trial reports a monitored value at each step (the :class:`Pruning` callback does it
at each epoch's end). The driver of :func:`~cinnamon.tune` knows the curves of the
trials that have finished; when it sends a trial out it sends with it a small table,
one **threshold** per step, computed by the pruner from those curves. The trial
compares each value it reports with the threshold of its step, in its own process,
and stops when it is worse. Nothing travels back during the trial, so this works the
same on every executor (a local pool, threads, a Dask cluster), with no shared
database; the price is that a trial is judged against the trials that had finished
when it started, not against those that finish while it runs.
"""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import bisect
import contextvars
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import final

from cinnamon.errors import UsageError

__all__ = [
    "Board",
    "HalvingPruner",
    "MedianPruner",
    "Pruner",
    "TrialContext",
    "current_trial",
    "leave_trial",
    "trial_context",
]


@final
class Board:
    """The curves of the finished trials, kept as sorted values per step."""

    __slots__ = ("finished", "steps")

    def __init__(self) -> None:
        self.finished = 0
        self.steps: dict[int, list[float]] = {}

    def add(self, curve: Iterable[tuple[int, float]]) -> None:
        """Count one finished trial and keep the values of its curve."""
        self.finished += 1
        for step, value in curve:
            if not math.isnan(value):
                bisect.insort(self.steps.setdefault(step, []), value)


class Pruner:
    """Decides, from the finished trials' curves, the value each step must reach.

    Args:
        startup: finished trials to wait for before pruning anything.
        warmup: steps of each trial never pruned (the first ``warmup`` steps).
    """

    __slots__ = ("startup", "warmup")

    def __init__(self, *, startup: int = 5, warmup: int = 0) -> None:
        for name, value in (("startup", startup), ("warmup", warmup)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"{type(self).__name__}: {name} must be a whole number >= 0, not {value!r}"
                raise UsageError(msg)
        self.startup = startup
        self.warmup = warmup

    def thresholds(self, board: Board, *, minimize: bool) -> dict[int, float]:
        """Map each step to the worst value a trial may report there and go on."""
        if board.finished < self.startup:
            return {}
        return {
            step: found
            for step, values in board.steps.items()
            if step > self.warmup
            and (found := self._threshold(values, minimize=minimize)) is not None
        }

    def _threshold(self, values: list[float], *, minimize: bool) -> float | None:
        raise NotImplementedError


@final
class MedianPruner(Pruner):
    """Stop a trial whose value at a step is worse than the finished trials' median there."""

    __slots__ = ()

    def _threshold(self, values: list[float], *, minimize: bool) -> float | None:
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    def __repr__(self) -> str:
        return f"MedianPruner(startup={self.startup}, warmup={self.warmup})"


@final
class HalvingPruner(Pruner):
    """Successive halving: at each rung, only the best ``1/reduction`` of trials go on.

    Rungs are the steps ``min_steps * reduction**k``. At a rung, a trial goes on if it
    would rank among the best ``max(1, n // reduction)`` of the ``n`` values recorded
    there (the finished trials' and its own); other steps never prune.

    Args:
        min_steps: the first rung.
        reduction: how much each rung cuts the field by (at least 2).
        startup: finished trials to wait for before pruning anything.
    """

    __slots__ = ("min_steps", "reduction")

    def __init__(self, *, min_steps: int = 1, reduction: int = 3, startup: int = 0) -> None:
        super().__init__(startup=startup, warmup=0)
        if isinstance(min_steps, bool) or not isinstance(min_steps, int) or min_steps < 1:
            msg = f"HalvingPruner: min_steps must be a whole number >= 1, not {min_steps!r}"
            raise UsageError(msg)
        if isinstance(reduction, bool) or not isinstance(reduction, int) or reduction < 2:  # noqa: PLR2004
            msg = f"HalvingPruner: reduction must be a whole number >= 2, not {reduction!r}"
            raise UsageError(msg)
        self.min_steps = min_steps
        self.reduction = reduction

    def thresholds(self, board: Board, *, minimize: bool) -> dict[int, float]:
        found = super().thresholds(board, minimize=minimize)
        return {step: value for step, value in found.items() if self._is_rung(step)}

    def _is_rung(self, step: int) -> bool:
        rung = self.min_steps
        while rung < step:
            rung *= self.reduction
        return rung == step

    def _threshold(self, values: list[float], *, minimize: bool) -> float | None:
        kept = max(1, (len(values) + 1) // self.reduction)  # the trial's own value counts
        if kept > len(values):
            return None
        return values[kept - 1] if minimize else values[-kept]

    def __repr__(self) -> str:
        return (
            f"HalvingPruner(min_steps={self.min_steps}, reduction={self.reduction}, "
            f"startup={self.startup})"
        )


# -- the trial's side ---------------------------------------------------------------------


@dataclass(slots=True)
class TrialContext:
    """What a running trial knows of its tuning: the thresholds, and what it reported."""

    thresholds: Mapping[int, float]
    minimize: bool
    curve: list[tuple[int, float]] = field(default_factory=list)
    pruned_at: int | None = None

    def report(self, step: int, value: float) -> bool:
        """Record ``value`` at ``step``; return whether the trial should stop now."""
        self.curve.append((step, value))
        threshold = self.thresholds.get(step)
        if threshold is None:
            return False
        worse = value > threshold if self.minimize else value < threshold
        if worse or math.isnan(value):
            if self.pruned_at is None:
                self.pruned_at = step
            return True
        return False


_current: contextvars.ContextVar[TrialContext | None] = contextvars.ContextVar(
    "cinnamon_trial", default=None
)


def current_trial() -> TrialContext | None:
    """The trial running in this thread, or ``None`` outside a tuning."""
    return _current.get()


def trial_context(context: TrialContext) -> contextvars.Token[TrialContext | None]:
    """Make ``context`` the current trial (undo with ``_current.reset(token)``)."""
    return _current.set(context)


def leave_trial(token: contextvars.Token[TrialContext | None]) -> None:
    """Undo :func:`trial_context`."""
    _current.reset(token)


# -- the callback ------------------------------------------------------------------------
