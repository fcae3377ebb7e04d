"""TerminateOnNaN: stop the fit as soon as the loss is NaN or infinite."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import math

from cinnamon._core.configuration import Configuration, Param
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import _host, _metrics

__all__ = ["TerminateOnNaN", "TerminateOnNaNConfig"]


class TerminateOnNaN(Callback):
    """Ask the host to stop when the monitored loss becomes NaN or infinite.

    After each batch and each epoch, if the logs hold ``monitor`` and it is not a
    finite number, the callback sets ``stop_training = True`` on its host, as
    :class:`~cinnamon.callbacks.EarlyStopping` does; the host's loop decides where it
    checks the flag (cinnamon's demo trainers: after each epoch). Logs without the
    metric are passed over, since batch logs often have fewer entries.

    Attributes:
        terminated: ``"batch"`` or ``"epoch"``, where the bad value was seen, or ``None``.
        value: the bad value, or ``None``.

    Args:
        monitor: the name of the loss in the logs.
    """

    def __init__(self, monitor: str = "loss") -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        TerminateOnNaNConfig(monitor=monitor)
        self.monitor = monitor
        self.terminated: str | None = None
        self.value: float | None = None

    def on_fit_begin(self, logs: object = None) -> None:
        """Forget the previous fit, and check the host can be stopped."""
        _host(self, "stop_training")
        self.terminated, self.value = None, None

    def on_batch_end(self, logs: object = None) -> None:
        """Stop if the batch's loss is NaN or infinite."""
        self._check(logs, "batch")

    def on_epoch_end(self, logs: object = None) -> None:
        """Stop if the epoch's loss is NaN or infinite."""
        self._check(logs, "epoch")

    def _check(self, logs: object, where: str) -> None:
        value = _metrics(logs).get(self.monitor)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):  # absent, or not a number: not for this callback
            return
        if math.isfinite(number):
            return
        if self.terminated is None:
            self.terminated, self.value = where, number
        _host(self, "stop_training").stop_training = True


class TerminateOnNaNConfig(Configuration, component=TerminateOnNaN):
    """Stop the fit when the loss is NaN or infinite."""

    monitor: str = Param("loss", description="the loss to watch", min_length=1)
