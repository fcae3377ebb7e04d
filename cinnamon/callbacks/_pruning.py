"""Pruning: report a monitored value to the tuning each epoch; stop a hopeless trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cinnamon._core.configuration import Configuration, Param
from cinnamon._hooks.callback import Callback
from cinnamon._runs.pruning import current_trial
from cinnamon.errors import NotFoundError, UsageError

__all__ = ["Pruning", "PruningConfig"]


class Pruning(Callback):
    """Report a monitored metric at each epoch's end, and stop a hopeless trial.

    Inside a trial of :func:`~cinnamon.tune` with a pruner, the value of ``monitor``
    in each epoch's logs is reported at the step of the epoch's number; when the
    pruner judges it worse than the other trials at that step, the callback sets
    ``stop_training = True`` on its host (as :class:`~cinnamon.callbacks.EarlyStopping`
    does) and the trial is recorded as ``pruned``. Outside a tuning it does nothing.

    Args:
        monitor: the name of the metric in the epoch's logs.

    Raises:
        NotFoundError: inside a trial, the logs of an epoch have no metric ``monitor``.
        UsageError: inside a trial, the metric is not a number, or the host has no
            ``stop_training``.
    """

    def __init__(self, monitor: str = "val_loss") -> None:
        PruningConfig(monitor=monitor)  # hand-made callbacks meet the same constraints
        self.monitor = monitor
        self.epochs = 0

    def on_fit_begin(self, logs: object = None) -> None:  # noqa: ARG002 - the hook signature
        """Start counting epochs; in a trial, check the host can be stopped."""
        self.epochs = 0
        if current_trial() is not None:
            self._host()

    def on_epoch_end(self, logs: object = None) -> None:
        """Report the metric; in a trial the pruner judges hopeless, stop the fit."""
        self.epochs += 1
        trial = current_trial()
        if trial is None:
            return
        metrics: Mapping[str, Any] = logs if isinstance(logs, Mapping) else {}
        epoch = metrics.get("epoch", self.epochs)
        step = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else self.epochs
        if trial.report(step, self._value(metrics, step)):
            self._host().stop_training = True

    def _value(self, metrics: Mapping[str, Any], step: int) -> float:
        where = f"Pruning(monitor={self.monitor!r})"
        if self.monitor not in metrics:
            shown = ", ".join(repr(key) for key in metrics if key not in ("epoch", "batch"))
            msg = (
                f"{where}: the logs of epoch {step} have no metric {self.monitor!r} "
                f"(they have {shown or 'none'})"
            )
            raise NotFoundError(msg)
        value = metrics[self.monitor]
        try:
            return float(value)
        except (TypeError, ValueError):
            msg = f"{where}: the metric of epoch {step} is {value!r:.60}, not a number"
            raise UsageError(msg) from None

    def _host(self) -> Any:
        host = self.component
        if host is None or not hasattr(host, "stop_training"):
            msg = (
                "Pruning stops a trial through its component's stop_training attribute, "
                f"and {'no component is set up' if host is None else f'{host!r:.60} has none'}"
            )
            raise UsageError(msg)
        return host


class PruningConfig(Configuration, component=Pruning):
    """Report a metric to the tuning each epoch and stop the trial if it is hopeless."""

    monitor: str = Param("val_loss", description="the metric to report", min_length=1)
