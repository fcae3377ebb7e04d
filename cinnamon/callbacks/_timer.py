"""Timer: the wall time of the fit and of each epoch."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import json
import time
from collections.abc import Callable, MutableMapping

from cinnamon._core.configuration import Configuration, Param
from cinnamon._files.atomic import atomic_write
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import _FILE_NAME

__all__ = ["Timer", "TimerConfig"]


# -- Timer -----------------------------------------------------------------------------------------


class Timer(Callback):
    """Measure the wall time of the fit and of each epoch.

    The time of each epoch is added to that epoch's logs as ``epoch_seconds`` and the
    time of the fit to the fit's result as ``fit_seconds``, when those are dicts. The
    logs are changed in place, so callbacks that run *after* the timer in a pipeline
    (a progress bar, a metrics logger) see the new entries; put the timer first. At the
    fit's end the timings are also written to ``<save_path>/<filename>`` as JSON, if
    the callback has a ``save_path``.

    Attributes:
        epoch_seconds: the time of each epoch of the last fit, in order.
        fit_seconds: the time of the last fit, or ``None`` before it ends.

    Args:
        filename: the file's name inside the ``save_path``.
        clock: the clock to read, in seconds; :func:`time.perf_counter` by default.
    """

    def __init__(
        self, filename: str = "timings.json", clock: Callable[[], float] | None = None
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        TimerConfig(filename=filename)
        self.filename = filename
        self.clock = time.perf_counter if clock is None else clock
        self.epoch_seconds: list[float] = []
        self.fit_seconds: float | None = None
        self._fit_start: float | None = None
        self._epoch_start: float | None = None

    def on_fit_begin(self, logs: object = None) -> None:
        """Start the fit's clock."""
        self.epoch_seconds, self.fit_seconds = [], None
        self._fit_start = self._epoch_start = self.clock()

    def on_epoch_begin(self, logs: object = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = self.clock()

    def on_epoch_end(self, logs: object = None) -> None:
        """Record the epoch's time and add it to its logs as ``epoch_seconds``."""
        now = self.clock()
        # Without on_epoch_begin (a host that fires only the end), time from the last end.
        start, self._epoch_start = self._epoch_start, now
        if start is None:
            return
        seconds = now - start
        self.epoch_seconds.append(seconds)
        if isinstance(logs, MutableMapping):
            logs["epoch_seconds"] = seconds

    def on_fit_end(self, logs: object = None) -> None:
        """Record the fit's time, add it to its result and write the timings file."""
        if self._fit_start is None:
            return
        self.fit_seconds = self.clock() - self._fit_start
        if isinstance(logs, MutableMapping):
            logs["fit_seconds"] = self.fit_seconds
        if self.save_path is not None:
            timings = {"fit_seconds": self.fit_seconds, "epoch_seconds": self.epoch_seconds}
            atomic_write(self.save_path / self.filename, json.dumps(timings, indent=1) + "\n")


class TimerConfig(Configuration, component=Timer):
    """Measure the fit and each epoch, adding the times to the logs."""

    filename: str = Param(
        "timings.json", description="the file's name in the save path", pattern=_FILE_NAME
    )
