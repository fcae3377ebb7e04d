"""History: the logs of every epoch, kept on the callback for after the fit."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

from typing import Any

from cinnamon._core.configuration import Configuration
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import _epoch_of, _metrics

__all__ = ["History", "HistoryConfig"]


class History(Callback):
    """Keep a copy of the logs of every epoch, to read after the fit.

    Each fit starts a new history. The copies are shallow: an entry that a later
    callback adds to the logs in place is kept only if it was added before the
    history's turn, so put the history after callbacks that add entries (a timer, a
    learning-rate callback).

    Attributes:
        logs: the logs of each epoch, in order (each a dict).
        epochs: the epoch number of each, in order.
        result: what the fit returned, once it ended.

    Example:
        ``history.history["val_loss"]`` is the list of every epoch's ``val_loss``.
    """

    def __init__(self) -> None:
        self.logs: list[dict[str, Any]] = []
        self.epochs: list[int] = []
        self.result: Any = None

    @property
    def history(self) -> dict[str, list[Any]]:
        """Every metric's values by name, one per epoch, as Keras's ``History.history``.

        A metric missing from some epochs' logs has ``None`` in their place, so every
        list is as long as :attr:`epochs`.
        """
        names: dict[str, None] = {}
        for logs in self.logs:
            names.update(dict.fromkeys(logs))
        return {name: [logs.get(name) for logs in self.logs] for name in names}

    def on_fit_begin(self, logs: object = None) -> None:
        """Start a new history."""
        self.logs, self.epochs, self.result = [], [], None

    def on_epoch_end(self, logs: object = None) -> None:
        """Keep a copy of the epoch's logs."""
        metrics = dict(_metrics(logs))
        self.epochs.append(_epoch_of(metrics, len(self.epochs) + 1))
        self.logs.append(metrics)

    def on_fit_end(self, logs: object = None) -> None:
        """Keep what the fit returned."""
        self.result = logs


class HistoryConfig(Configuration, component=History):
    """Keep the logs of every epoch on the callback."""
