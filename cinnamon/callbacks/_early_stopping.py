"""EarlyStopping: stop the fit when a metric stops improving, and perhaps restore its best."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import copy
from typing import Any

from cinnamon._core.configuration import Configuration, Param
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import Mode, _epoch_of, _host, _improved, _metrics, _monitored

__all__ = ["EarlyStopping", "EarlyStoppingConfig"]


class EarlyStopping(Callback):
    """Stop the fit when a metric has not improved for ``patience`` epochs.

    At each epoch's end the monitored metric is compared with the best value so far;
    it improves when it is lower (``mode="min"``) or higher (``mode="max"``) by more
    than ``min_delta``. After ``patience`` epochs in a row without improvement the
    callback sets ``stop_training = True`` on its host, as Keras does; the host's loop
    checks that flag after each epoch and stops. The host must have the attribute.

    With ``baseline``, an improvement resets the count of epochs without improvement
    only if it also beats the baseline: a fit that never reaches the baseline stops
    after ``patience`` epochs. With ``start_from_epoch``, the first epochs (those
    numbered up to it) are not watched at all, to let a fit warm up.

    With ``restore_best``, the callback keeps a copy of the host's state
    (``copy.deepcopy(host.state_dict())``) each time the metric improves, and at the
    fit's end gives the best one back with ``host.load_state_dict(state)``, unless the
    last epoch was the best. The host then needs both methods, the protocol that
    :class:`~cinnamon.callbacks.Checkpoint` uses too.

    Attributes:
        best: the best value of the metric so far, or ``None``.
        best_epoch: the epoch it was reached in, or ``None``.
        wait: epochs since the last improvement (that beat the baseline).
        stopped_epoch: the epoch after which the callback asked to stop, or ``None``.
        restored_epoch: the epoch whose state was restored at the fit's end, or ``None``.

    Args:
        monitor: the name of the metric in the epoch's logs.
        mode: ``"min"`` if lower is better, ``"max"`` if higher is better.
        patience: epochs without improvement to wait before stopping.
        min_delta: how much a change must exceed to count as an improvement.
        baseline: a value the metric must beat for an improvement to reset the wait.
        start_from_epoch: the number of first epochs left unwatched.
        restore_best: restore the host's best state at the fit's end.

    Raises:
        NotFoundError: at an epoch's end, the logs have no metric ``monitor``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: Mode = "min",
        patience: int = 3,
        min_delta: float = 0.0,
        *,
        baseline: float | None = None,
        start_from_epoch: int = 0,
        restore_best: bool = False,
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        EarlyStoppingConfig(
            monitor=monitor,
            mode=mode,
            patience=patience,
            min_delta=min_delta,
            baseline=baseline,
            start_from_epoch=start_from_epoch,
            restore_best=restore_best,
        )
        self.monitor = monitor
        self.mode: Mode = mode
        self.patience = patience
        self.min_delta = min_delta
        self.baseline = baseline
        self.start_from_epoch = start_from_epoch
        self.restore_best = restore_best
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.restored_epoch: int | None = None
        self._best_state: Any = None
        self._epoch = 0

    def on_fit_begin(self, logs: object = None) -> None:
        """Forget the previous fit, and check the host can be stopped (and restored)."""
        _host(self, "stop_training")
        if self.restore_best:
            _host(self, "state_dict")
            _host(self, "load_state_dict")
        self._reset()

    def on_epoch_end(self, logs: object = None) -> None:
        """Compare the metric with the best so far; ask the host to stop if it is time."""
        metrics = _metrics(logs)
        self._epoch = epoch = _epoch_of(metrics, self._epoch + 1)
        if epoch <= self.start_from_epoch:
            return
        current = _monitored(metrics, self.monitor, self, epoch)
        if _improved(current, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch = current, epoch
            if self.restore_best:
                # A copy: a host may hand out its live arrays, which training changes.
                self._best_state = copy.deepcopy(_host(self, "state_dict").state_dict())
            if self.baseline is None or _improved(current, self.baseline, self.mode, 0.0):
                self.wait = 0
                return
        self.wait += 1
        if self.wait >= self.patience:
            if self.stopped_epoch is None:
                self.stopped_epoch = epoch
            _host(self, "stop_training").stop_training = True

    def on_fit_end(self, logs: object = None) -> None:
        """With ``restore_best``, give the host back its state of the best epoch."""
        if self._best_state is None or self.best_epoch == self._epoch:
            return
        _host(self, "load_state_dict").load_state_dict(self._best_state)
        self.restored_epoch = self.best_epoch


class EarlyStoppingConfig(Configuration, component=EarlyStopping):
    """Stop the fit when a metric stops improving."""

    monitor: str = Param("val_loss", description="the metric to watch", min_length=1)
    mode: Mode = Param("min", description="'min' if lower is better, 'max' if higher is")
    patience: int = Param(3, description="epochs without improvement before stopping", ge=1)
    min_delta: float = Param(
        0.0, description="the smallest change that counts as an improvement", ge=0.0
    )
    baseline: float | None = Param(
        None, description="a value the metric must beat for an improvement to count"
    )
    start_from_epoch: int = Param(0, description="the number of first epochs not watched", ge=0)
    restore_best: bool = Param(
        default=False, description="restore the host's best state (load_state_dict) at the end"
    )
