"""Callbacks that change a learning rate: on a plateau, or on a schedule.

They act on any component that follows :class:`HasLearningRate`: it has a
``learning_rate`` attribute that ``float()`` reads and that assignment changes. The
component is found from the host by a dotted attribute path, ``target``
(``"optimizer"`` by default: ``host.optimizer.learning_rate``; ``""`` is the host itself).
"""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import math
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol, runtime_checkable

from cinnamon._core.component import Component
from cinnamon._core.configuration import Configuration, Param, Ref
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import Mode, _epoch_of, _improved, _metrics, _monitored
from cinnamon.errors import UsageError

__all__ = [
    "HasLearningRate",
    "LearningRateScheduler",
    "LearningRateSchedulerConfig",
    "ReduceLROnPlateau",
    "ReduceLROnPlateauConfig",
    "StepDecay",
    "StepDecayConfig",
]

#: A schedule: ``schedule(epoch, learning_rate)`` returns the rate for ``epoch``
#: (numbered from 1), given the rate in force before it.
Schedule = Callable[[int, float], float]


@runtime_checkable
class HasLearningRate(Protocol):
    """A component whose learning rate the callbacks may read and set.

    ``float(component.learning_rate)`` reads it; ``component.learning_rate = 0.01``
    sets it. A plain float attribute does (cinnamon's demo optimizers), and so does a
    Keras 3 optimizer, whose ``learning_rate`` is a variable that assignment updates.
    """

    learning_rate: Any


def _holder(callback: Callback, target: str) -> HasLearningRate:
    """The component that holds the learning rate, ``target`` attributes from the host."""
    where = f"{type(callback).__name__}(target={target!r})"
    found: Any = callback.component
    if found is None:
        msg = f"{where} is attached to no component: call setup(component=...)"
        raise UsageError(msg)
    for part in target.split(".") if target else ():
        if not hasattr(found, part):
            msg = f"{where}: {found!r:.80} has no attribute {part!r}"
            raise UsageError(msg)
        found = getattr(found, part)
    if not isinstance(found, HasLearningRate):
        msg = (
            f"{where}: {found!r:.80} has no 'learning_rate' attribute "
            "(see cinnamon.callbacks.HasLearningRate)"
        )
        raise UsageError(msg)
    return found


def _rate_of(holder: HasLearningRate, where: str) -> float:
    try:
        return float(holder.learning_rate)
    except (TypeError, ValueError):
        msg = f"{where}: the learning rate {holder.learning_rate!r:.60} is not a number"
        raise UsageError(msg) from None


def _log_rate(logs: object, rate: float) -> None:
    if isinstance(logs, MutableMapping):
        logs["learning_rate"] = rate


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a metric stops improving.

    At each epoch's end the callback writes the rate used in that epoch into the logs
    as ``learning_rate`` (so callbacks after it see it), then compares the monitored
    metric with the best so far, as :class:`~cinnamon.callbacks.EarlyStopping` does.
    After ``patience`` epochs without improvement it sets the rate to
    ``max(rate * factor, min_lr)`` and waits ``cooldown`` epochs before counting again.

    Attributes:
        best: the best value of the metric so far, or ``None``.
        wait: epochs since the last improvement.
        reductions: ``(epoch, new_rate)`` for each reduction of the last fit.

    Args:
        monitor: the name of the metric in the epoch's logs.
        mode: ``"min"`` if lower is better, ``"max"`` if higher is better.
        factor: what the rate is multiplied by, between 0 and 1.
        patience: epochs without improvement before a reduction.
        min_delta: how much a change must exceed to count as an improvement.
        cooldown: epochs after a reduction during which no wait is counted.
        min_lr: the rate is never reduced below this.
        target: the dotted attribute path from the host to the :class:`HasLearningRate`.

    Raises:
        NotFoundError: at an epoch's end, the logs have no metric ``monitor``.
        UsageError: at the fit's beginning, ``target`` leads to no learning rate.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: Mode = "min",
        *,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        target: str = "optimizer",
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        ReduceLROnPlateauConfig(
            monitor=monitor,
            mode=mode,
            factor=factor,
            patience=patience,
            min_delta=min_delta,
            cooldown=cooldown,
            min_lr=min_lr,
            target=target,
        )
        self.monitor = monitor
        self.mode: Mode = mode
        self.factor = factor
        self.patience = patience
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.target = target
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.wait = 0
        self.reductions: list[tuple[int, float]] = []
        self._cooling = 0
        self._epoch = 0

    def on_fit_begin(self, logs: object = None) -> None:
        """Forget the previous fit, and check there is a learning rate to change."""
        _holder(self, self.target)
        self._reset()

    def on_epoch_end(self, logs: object = None) -> None:
        """Log the rate; reduce it if the metric has not improved for long enough."""
        metrics = _metrics(logs)
        self._epoch = epoch = _epoch_of(metrics, self._epoch + 1)
        holder = _holder(self, self.target)
        rate = _rate_of(holder, type(self).__name__)
        _log_rate(logs, rate)
        current = _monitored(metrics, self.monitor, self, epoch)
        improved = _improved(current, self.best, self.mode, self.min_delta)
        if improved:
            self.best = current
        if self._cooling:  # an epoch of the cooldown: nothing counted
            self._cooling -= 1
            self.wait = 0
            return
        if improved:
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.wait = 0
            new = max(rate * self.factor, self.min_lr)
            if new < rate:
                holder.learning_rate = new
                self.reductions.append((epoch, new))
                self._cooling = self.cooldown


class ReduceLROnPlateauConfig(Configuration, component=ReduceLROnPlateau):
    """Reduce the learning rate when a metric stops improving."""

    monitor: str = Param("val_loss", description="the metric to watch", min_length=1)
    mode: Mode = Param("min", description="'min' if lower is better, 'max' if higher is")
    factor: float = Param(0.1, description="what the rate is multiplied by", gt=0.0, lt=1.0)
    patience: int = Param(10, description="epochs without improvement before reducing", ge=1)
    min_delta: float = Param(
        1e-4, description="the smallest change that counts as an improvement", ge=0.0
    )
    cooldown: int = Param(0, description="epochs after a reduction with no waiting", ge=0)
    min_lr: float = Param(0.0, description="the lowest rate to reduce to", ge=0.0)
    target: str = Param(
        "optimizer", description="attribute path from the host to the learning rate's holder"
    )


class StepDecay(Component):
    """A schedule that multiplies the rate by ``factor`` every ``every`` epochs.

    Called as ``schedule(epoch, rate)``, it returns ``max(rate * factor, min_lr)`` at
    epochs ``every + 1``, ``2 * every + 1``, ... and ``rate`` unchanged otherwise.
    ``every=1`` is an exponential decay.

    Args:
        every: epochs between two decays.
        factor: what the rate is multiplied by.
        min_lr: the rate is never decayed below this.
    """

    def __init__(self, every: int = 10, factor: float = 0.5, min_lr: float = 0.0) -> None:
        StepDecayConfig(every=every, factor=factor, min_lr=min_lr)
        self.every = every
        self.factor = factor
        self.min_lr = min_lr

    def __call__(self, epoch: int, learning_rate: float) -> float:
        """The rate for ``epoch``, given the rate before it."""
        if epoch > 1 and (epoch - 1) % self.every == 0:
            return max(learning_rate * self.factor, self.min_lr)
        return learning_rate


class StepDecayConfig(Configuration, component=StepDecay):
    """Multiply the learning rate by a factor every few epochs."""

    every: int = Param(10, description="epochs between two decays", ge=1)
    factor: float = Param(0.5, description="what the rate is multiplied by", gt=0.0, le=1.0)
    min_lr: float = Param(0.0, description="the lowest rate to decay to", ge=0.0)


class LearningRateScheduler(Callback):
    """Set the learning rate at the beginning of each epoch from a schedule.

    The schedule is called as ``schedule(epoch, rate)`` with the epoch about to start
    (numbered from 1, counted since the fit began) and the rate in force, and returns
    the rate for that epoch: any function does, from Python; in a file, name a schedule
    component such as :class:`StepDecay`. At the epoch's end the rate is written into
    the logs as ``learning_rate``.

    Attributes:
        learning_rates: the rate of each epoch of the last fit, in order.

    Args:
        schedule: ``(epoch, rate) -> rate``.
        target: the dotted attribute path from the host to the :class:`HasLearningRate`.

    Raises:
        UsageError: ``schedule`` is not callable; at the fit's beginning, ``target``
            leads to no learning rate; the schedule returns a negative rate or not a number.
    """

    def __init__(self, schedule: Schedule, target: str = "optimizer") -> None:
        if not callable(schedule):
            msg = f"LearningRateScheduler(schedule=...) needs a function, not {schedule!r:.80}"
            raise UsageError(msg)
        self.schedule = schedule
        self.target = target
        self.learning_rates: list[float] = []
        self._epoch = 0

    def on_fit_begin(self, logs: object = None) -> None:
        """Start counting epochs, and check there is a learning rate to set."""
        _holder(self, self.target)
        self.learning_rates, self._epoch = [], 0

    def on_epoch_begin(self, logs: object = None) -> None:
        """Set the rate for the epoch about to start."""
        self._epoch += 1
        holder = _holder(self, self.target)
        rate = self.schedule(self._epoch, _rate_of(holder, "LearningRateScheduler"))
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not 0.0 <= rate < math.inf
        ):
            msg = (
                f"LearningRateScheduler: the schedule {self.schedule!r:.60} returned "
                f"{rate!r:.60} for epoch {self._epoch}, not a rate (a finite float, 0 or more)"
            )
            raise UsageError(msg)
        holder.learning_rate = float(rate)
        self.learning_rates.append(float(rate))

    def on_epoch_end(self, logs: object = None) -> None:
        """Write the epoch's rate into its logs, and follow the logs' epoch number."""
        self._epoch = _epoch_of(_metrics(logs), self._epoch)
        if self.learning_rates:
            _log_rate(logs, self.learning_rates[-1])


class LearningRateSchedulerConfig(Configuration, component=LearningRateScheduler):
    """Set the learning rate at each epoch from a schedule component."""

    schedule: Ref[Configuration] = Param(
        default_factory=StepDecayConfig, description="the schedule, e.g. a StepDecayConfig"
    )
    target: str = Param(
        "optimizer", description="attribute path from the host to the learning rate's holder"
    )
