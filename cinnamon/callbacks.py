"""Built-in callbacks for training loops: progress, metrics, early stopping, checkpoints, timing.

Each callback works alone or in a :class:`~cinnamon.CallbackPipeline` with the others,
and each has a configuration bound to it, so it can be registered or declared in a file
like any component::

    [registrations."demo:stop"]
    config = "cinnamon.callbacks:EarlyStoppingConfig"
    [registrations."demo:stop".fields]
    patience = 3

They follow the shape of a training loop that guards ``fit`` and each epoch (and
perhaps each batch) with :func:`~cinnamon.guard`:

- ``on_fit_begin`` / ``on_fit_end``: around the whole fit; the end hook receives what
  ``fit`` returned (a dict of final metrics, or anything else);
- ``on_epoch_begin`` / ``on_epoch_end``: around each epoch; the end hook receives the
  epoch's metrics as a dict, such as ``{"epoch": 3, "loss": 0.2, "val_loss": 0.3}``;
- ``on_batch_end``: after each batch, with the batch's metrics (used by the progress bar).

Epochs are numbered from 1. A callback takes the number from the ``epoch`` entry of the
logs when there is one, and otherwise counts the epochs that ended since the fit began.

Some callbacks need something from the component they are attached to with
:meth:`~cinnamon.Callback.setup` (the *host*): :class:`EarlyStopping` sets its
``stop_training`` attribute, :class:`Checkpoint` calls its ``state_dict()`` and
:class:`ProgressBar` reads its ``epochs`` and ``batches_per_epoch``, if it has them.
Callbacks that write files write them into the ``save_path`` given to ``setup``.
"""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import difflib
import json
import math
import operator
import shutil
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Literal, TextIO

from cinnamon._core.configuration import Configuration, Param
from cinnamon._files.atomic import atomic_write
from cinnamon._hooks.callback import Callback
from cinnamon.errors import NotFoundError, UsageError

__all__ = [
    "Checkpoint",
    "CheckpointConfig",
    "EarlyStopping",
    "EarlyStoppingConfig",
    "MetricsLogger",
    "MetricsLoggerConfig",
    "ProgressBar",
    "ProgressBarConfig",
    "Timer",
    "TimerConfig",
]

#: How a monitored metric improves: "min" (lower is better) or "max" (higher is better).
Mode = Literal["min", "max"]

# A plain file name that stays in its folder on every system: no folder separators, no
# ":" (on Windows "C:x" is a path on drive C), no control characters, and no "." or " "
# at the end (Windows drops those, so ".. " would be ".."); "." and ".." are refused too.
_FILE_NAME = r"^[^/\\:\x00-\x1f]*[^/\\:. \x00-\x1f]$"
# Entries of the logs that count things rather than measure them; not shown as metrics.
_COUNTERS = ("epoch", "batch")


# -- shared helpers ------------------------------------------------------------------------


def _metrics(logs: object) -> Mapping[str, Any]:
    """The logs as a mapping of metrics (empty when the hook got none)."""
    return logs if isinstance(logs, Mapping) else {}


def _epoch_of(metrics: Mapping[str, Any], counted: int) -> int:
    epoch = metrics.get("epoch")
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else counted


def _monitored(metrics: Mapping[str, Any], name: str, owner: Callback, epoch: int) -> float:
    """The value of the metric ``owner`` monitors, as a float.

    Raises:
        NotFoundError: the logs have no such metric.
        UsageError: the metric is not a number.
    """
    where = f"{type(owner).__name__}(monitor={name!r})"
    if name not in metrics:
        available = [key for key in metrics if key not in _COUNTERS]
        msg = (
            f"{where}: the logs of epoch {epoch} have no metric {name!r} "
            f"(they have {', '.join(map(repr, available)) or 'none'})"
        )
        close = difflib.get_close_matches(name, available, n=1)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        raise NotFoundError(msg)
    value = metrics[name]
    try:
        return float(value)
    except (TypeError, ValueError):
        msg = f"{where}: the metric {name!r} of epoch {epoch} is {value!r:.60}, not a number"
        raise UsageError(msg) from None


def _improved(current: float, best: float | None, mode: Mode, min_delta: float) -> bool:
    """Whether ``current`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
    if math.isnan(current):
        return False
    if best is None:
        return True
    return current < best - min_delta if mode == "min" else current > best + min_delta


def _folder(callback: Callback) -> Path:
    folder = callback.save_path
    if folder is None:
        msg = (
            f"{type(callback).__name__} has no folder to write to: call "
            "setup(component=..., save_path=<folder>) before the fit"
        )
        raise UsageError(msg)
    return folder


def _host(callback: Callback, needs: str) -> Any:
    host = callback.component
    if host is None:
        msg = f"{type(callback).__name__} is attached to no component: call setup(component=...)"
        raise UsageError(msg)
    if not hasattr(host, needs):
        msg = (
            f"{type(callback).__name__} needs a component with {needs!r}, and {host!r:.80} has none"
        )
        raise UsageError(msg)
    return host


def _plain(value: Any, *, allow_nan: bool) -> Any:  # noqa: PLR0911 - a return per kind
    """``value`` made of JSON types only.

    Non-finite floats become ``None`` unless ``allow_nan``; numbers of other kinds
    (numpy scalars, ``Decimal``) become ``int`` or ``float``; anything else its ``str``.
    """
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    if isinstance(value, float):
        return value if allow_nan or math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _plain(item, allow_nan=allow_nan) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item, allow_nan=allow_nan) for item in value]
    if callable(getattr(value, "tolist", None)):  # numpy arrays and scalars, duck-typed
        return _plain(value.tolist(), allow_nan=allow_nan)
    if hasattr(value, "__index__"):
        return operator.index(value)
    if hasattr(value, "__float__"):
        return _plain(float(value), allow_nan=allow_nan)
    return str(value)


# -- ProgressBar -----------------------------------------------------------------------------


class ProgressBar(Callback):
    """A text progress bar of the epochs, with the latest metrics, the rate and the ETA, on stderr.

    On a terminal (or in a Jupyter notebook) the bar is one line redrawn in place with
    a carriage return, advancing with each batch when ``batches`` is set. Otherwise (a
    log file, a CI job) it prints one line per epoch. The totals come from the host's
    ``epochs`` and ``batches_per_epoch`` attributes when it has them; without them the
    bar shows counts only. With ``eta``, each line ends with the rate (seconds per
    epoch, or batches per second while batches are shown) and, when the number of
    epochs is known, the time left at that pace (an upper bound if the fit stops early).

    Args:
        width: the bar's width in characters.
        batches: also advance the bar after each batch (on a terminal only).
        metrics: the metrics to show, in order; ``None`` shows every entry of the logs
            except the counters ``epoch`` and ``batch``.
        precision: significant digits of the numbers shown.
        eta: show the rate and the estimated time left.
        quiet: show nothing (to silence a bar that a configuration file declares).
        stream: where to write; by default ``sys.stderr`` at the time of writing.
        clock: the clock to read, in seconds; :func:`time.perf_counter` by default.
    """

    def __init__(
        self,
        width: int = 30,
        batches: bool = False,
        metrics: list[str] | None = None,
        precision: int = 4,
        stream: TextIO | None = None,
        *,
        eta: bool = True,
        quiet: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        ProgressBarConfig(
            width=width, batches=batches, metrics=metrics, precision=precision, eta=eta, quiet=quiet
        )
        self.width = width
        self.batches = batches
        self.metrics = None if metrics is None else tuple(metrics)
        self.precision = precision
        self.stream = stream
        self.eta = eta
        self.quiet = quiet
        self.clock = time.perf_counter if clock is None else clock
        self._reset()

    def _reset(self) -> None:
        self._epochs: int | None = None
        self._per_epoch: int | None = None
        self._epoch = 0  # epochs ended
        self._batch = 0  # batches ended in the current epoch
        self._shown: dict[str, Any] = {}
        self._live = False  # redrawing in place on a terminal
        self._drawn = 0  # length of the line on screen, to blank out what a redraw leaves
        self._started = self._epoch_started = self.clock()

    def on_fit_begin(self, logs: object = None) -> None:
        """Read the totals from the host and decide between redrawing and printing."""
        self._reset()
        self._epochs = _count(getattr(self.component, "epochs", None))
        self._per_epoch = _count(getattr(self.component, "batches_per_epoch", None))
        self._live = _is_terminal(self._stream()) or self._in_notebook()

    def on_epoch_begin(self, logs: object = None) -> None:
        """Start counting the batches of a new epoch."""
        self._batch = 0
        self._epoch_started = self.clock()

    def on_batch_end(self, logs: object = None) -> None:
        """Redraw with the batch's metrics, if batches are shown on a terminal."""
        if not (self.batches and self._live) or self.quiet:
            return
        metrics = _metrics(logs)
        self._batch += 1
        self._shown.update(metrics)
        self._draw(self._line(self._epoch + 1, self._batch))

    def on_epoch_end(self, logs: object = None) -> None:
        """Show the epoch's metrics: redraw the line, or print a new one."""
        if self.quiet:
            return
        metrics = _metrics(logs)
        self._epoch = _epoch_of(metrics, self._epoch + 1)
        self._shown = dict(metrics)
        line = self._line(self._epoch, None)
        if self._live:
            self._draw(line)
        else:
            self._write(line + "\n")

    def on_fit_end(self, logs: object = None) -> None:
        """End the redrawn line, so that what comes next starts on a line of its own."""
        if self._drawn:
            self._write("\n")
            self._drawn = 0

    def on_fit_exception(self, logs: object = None) -> None:
        """End the redrawn line before the traceback is printed."""
        self.on_fit_end()

    def _line(self, epoch: int, batch: int | None) -> str:
        total = self._epochs
        parts = [f"epoch {epoch}" + (f"/{total}" if total else "")]
        if total:
            done = epoch if batch is None else epoch - 1 + _fraction(batch, self._per_epoch)
            filled = round(self.width * min(done / total, 1.0))
            parts.append("[" + "#" * filled + "." * (self.width - filled) + "]")
        if batch is not None:
            parts.append(f"batch {batch}" + (f"/{self._per_epoch}" if self._per_epoch else ""))
        names = self.metrics
        if names is None:
            names = tuple(name for name in self._shown if name not in _COUNTERS)
        parts += [
            f"{name}={self._number(self._shown[name])}" for name in names if name in self._shown
        ]
        if self.eta:
            parts.append(self._timing(epoch, batch))
        return " ".join(parts)

    def _timing(self, epoch: int, batch: int | None) -> str:
        """The rate so far and, with a known total, the time left at that rate."""
        now = self.clock()
        if batch is not None:  # within an epoch: batches per second of this epoch
            spent = now - self._epoch_started
            rate = f"{batch / spent:.3g} batch/s" if spent > 0 else "- batch/s"
            done = epoch - 1 + _fraction(batch, self._per_epoch)
        else:
            spent = (now - self._started) / max(epoch, 1)
            rate = f"{spent:.3g} s/epoch"
            done = float(epoch)
        total = self._epochs
        if not total or done <= 0:
            return f"| {rate}"
        left = (now - self._started) * max(total - done, 0.0) / done
        return f"| {rate} eta {ProgressBar._duration(left)}"

    @staticmethod
    def _duration(seconds: float) -> str:
        if seconds < 60:  # noqa: PLR2004 - a minute
            return f"{seconds:.1f} s"
        minutes, rest = divmod(round(seconds), 60)
        if minutes < 60:  # noqa: PLR2004 - an hour
            return f"{minutes} min {rest:02d} s"
        return f"{minutes // 60} h {minutes % 60:02d} min"

    def _in_notebook(self) -> bool:
        """Whether the stream is a Jupyter kernel's, which redraws lines as a terminal does."""
        return type(self._stream()).__module__.startswith("ipykernel")

    def _number(self, value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.{self.precision}g}"
        return f"{value}"[:20]

    def _draw(self, line: str) -> None:
        # A line wider than the terminal would wrap, and \r only returns to its last row.
        line = line[: max(shutil.get_terminal_size().columns - 1, 1)]
        self._write("\r" + line + " " * max(self._drawn - len(line), 0))
        self._drawn = len(line)

    def _write(self, text: str) -> None:
        stream = self._stream()
        stream.write(text)
        stream.flush()

    def _stream(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr


def _count(value: object) -> int | None:
    """A positive integer total read from the host, or ``None``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _fraction(batch: int, per_epoch: int | None) -> float:
    return min(batch / per_epoch, 1.0) if per_epoch else 0.0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class ProgressBarConfig(Configuration, component=ProgressBar):
    """A text progress bar of the epochs on stderr."""

    width: int = Param(30, description="the bar's width in characters", ge=1, le=200)
    batches: bool = Param(
        default=False, description="also advance the bar after each batch (on a terminal only)"
    )
    metrics: list[str] | None = Param(
        None, description="the metrics to show, in order (default: all of them)"
    )
    precision: int = Param(4, description="significant digits of the numbers", ge=1, le=17)
    eta: bool = Param(default=True, description="show the rate and the estimated time left")
    quiet: bool = Param(default=False, description="show nothing at all")


# -- MetricsLogger -----------------------------------------------------------------------------


class MetricsLogger(Callback):
    """Append the metrics of each epoch, and of the fit's end, to a JSON Lines file.

    Each line is one JSON object: the logs of the hookpoint, after an ``event`` entry
    (``"epoch_end"``, ``"fit_end"`` or ``"fit_exception"``; logs may not use that name).
    A line is written and flushed as soon as its event happens, so the file is complete
    up to the last epoch even if the process dies. The file is appended to, never
    truncated: running again into the same folder adds to it.

    Values that JSON cannot hold are written sensibly: NaN and infinities as ``null``
    (unless ``allow_nan``), numbers of other kinds (numpy scalars, ``Decimal``) as
    numbers, arrays as lists, anything else as its ``str``.

    Args:
        filename: the file's name inside the ``save_path``.
        allow_nan: write NaN and infinities as ``NaN``/``Infinity``, which Python's
            ``json`` reads back but strict JSON readers refuse.
    """

    def __init__(self, filename: str = "metrics.jsonl", allow_nan: bool = False) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        MetricsLoggerConfig(filename=filename, allow_nan=allow_nan)
        self.filename = filename
        self.allow_nan = allow_nan

    @property
    def path(self) -> Path | None:
        """The file written to, once the callback has a ``save_path``."""
        return None if self.save_path is None else self.save_path / self.filename

    def on_fit_begin(self, logs: object = None) -> None:
        """Check, before any work is done, that there is a folder to write to."""
        _folder(self)

    def on_epoch_end(self, logs: object = None) -> None:
        """Append the epoch's metrics."""
        self._append("epoch_end", _metrics(logs))

    def on_fit_end(self, logs: object = None) -> None:
        """Append what the fit returned (its entries, if it is a dict)."""
        if logs is None or isinstance(logs, Mapping):
            self._append("fit_end", _metrics(logs))
        else:
            self._append("fit_end", {"result": logs})

    def on_fit_exception(self, logs: object = None) -> None:
        """Append which exception ended the fit."""
        self._append("fit_exception", {"error": f"{type(logs).__name__}: {logs}"})

    def _append(self, event: str, entries: Mapping[str, Any]) -> None:
        record = {"event": event, **{k: v for k, v in entries.items() if k != "event"}}
        line = json.dumps(_plain(record, allow_nan=self.allow_nan), allow_nan=self.allow_nan)
        path = _folder(self) / self.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        # Opened per line: a few lines per epoch cost nothing, and no handle is left open
        # if the fit ends without its end hook.
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
            file.flush()


class MetricsLoggerConfig(Configuration, component=MetricsLogger):
    """Append each epoch's metrics to a JSON Lines file in the run folder."""

    filename: str = Param(
        "metrics.jsonl", description="the file's name in the save path", pattern=_FILE_NAME
    )
    allow_nan: bool = Param(
        default=False, description="write NaN/Infinity (read by Python) instead of null"
    )


# -- EarlyStopping -----------------------------------------------------------------------------


class EarlyStopping(Callback):
    """Stop the fit when a metric has not improved for ``patience`` epochs.

    At each epoch's end the monitored metric is compared with the best value so far;
    it improves when it is lower (``mode="min"``) or higher (``mode="max"``) by more
    than ``min_delta``. After ``patience`` epochs in a row without improvement the
    callback sets ``stop_training = True`` on its host, as Keras does; the host's loop
    checks that flag after each epoch and stops. The host must have the attribute.

    Attributes:
        best: the best value of the metric so far, or ``None``.
        best_epoch: the epoch it was reached in, or ``None``.
        wait: epochs since the last improvement.
        stopped_epoch: the epoch after which the callback asked to stop, or ``None``.

    Args:
        monitor: the name of the metric in the epoch's logs.
        mode: ``"min"`` if lower is better, ``"max"`` if higher is better.
        patience: epochs without improvement to wait before stopping.
        min_delta: how much a change must exceed to count as an improvement.

    Raises:
        NotFoundError: at an epoch's end, the logs have no metric ``monitor``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: Mode = "min",
        patience: int = 3,
        min_delta: float = 0.0,
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        EarlyStoppingConfig(monitor=monitor, mode=mode, patience=patience, min_delta=min_delta)
        self.monitor = monitor
        self.mode: Mode = mode
        self.patience = patience
        self.min_delta = min_delta
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._epoch = 0

    def on_fit_begin(self, logs: object = None) -> None:
        """Forget the previous fit, and check the host can be stopped."""
        _host(self, "stop_training")
        self._reset()

    def on_epoch_end(self, logs: object = None) -> None:
        """Compare the metric with the best so far; ask the host to stop if it is time."""
        metrics = _metrics(logs)
        self._epoch = epoch = _epoch_of(metrics, self._epoch + 1)
        current = _monitored(metrics, self.monitor, self, epoch)
        if _improved(current, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            if self.stopped_epoch is None:
                self.stopped_epoch = epoch
            _host(self, "stop_training").stop_training = True


class EarlyStoppingConfig(Configuration, component=EarlyStopping):
    """Stop the fit when a metric stops improving."""

    monitor: str = Param("val_loss", description="the metric to watch", min_length=1)
    mode: Mode = Param("min", description="'min' if lower is better, 'max' if higher is")
    patience: int = Param(3, description="epochs without improvement before stopping", ge=1)
    min_delta: float = Param(
        0.0, description="the smallest change that counts as an improvement", ge=0.0
    )


# -- Checkpoint ----------------------------------------------------------------------------------


class Checkpoint(Callback):
    """Save the host's state as JSON at the end of epochs, atomically.

    Every ``every`` epochs (those whose number is a multiple of it) the callback calls
    the host's ``state_dict()``, which must return data that JSON can hold, and replaces
    ``<save_path>/<filename>`` with ``{"epoch": ..., "logs": {...}, "state": {...}}``.
    The file is written to a temporary file next to it and renamed over it, so a crash
    leaves the previous checkpoint intact, never a half-written one.

    With ``monitor``, a due epoch is saved only if the metric improved on the best
    value saved so far (``mode`` as for :class:`EarlyStopping`).

    Attributes:
        best: the best value of the monitored metric saved so far, or ``None``.
        saved_epoch: the epoch of the last checkpoint written, or ``None``.

    Args:
        filename: the file's name inside the ``save_path``.
        every: save every this many epochs.
        monitor: save only when this metric improves; ``None`` saves every due epoch.
        mode: ``"min"`` if lower is better, ``"max"`` if higher is better.
    """

    def __init__(
        self,
        filename: str = "checkpoint.json",
        every: int = 1,
        monitor: str | None = None,
        mode: Mode = "min",
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        CheckpointConfig(filename=filename, every=every, monitor=monitor, mode=mode)
        self.filename = filename
        self.every = every
        self.monitor = monitor
        self.mode: Mode = mode
        self.best: float | None = None
        self.saved_epoch: int | None = None
        self._epoch = 0

    @property
    def path(self) -> Path | None:
        """The checkpoint file, once the callback has a ``save_path``."""
        return None if self.save_path is None else self.save_path / self.filename

    def on_fit_begin(self, logs: object = None) -> None:
        """Check the host has a ``state_dict`` and there is a folder, before any work."""
        _host(self, "state_dict")
        _folder(self)
        self.best, self.saved_epoch, self._epoch = None, None, 0

    def on_epoch_end(self, logs: object = None) -> None:
        """Write a checkpoint if this epoch is due (and, with ``monitor``, improved)."""
        metrics = _metrics(logs)
        self._epoch = epoch = _epoch_of(metrics, self._epoch + 1)
        if epoch % self.every:
            return
        current = self.best
        if self.monitor is not None:
            current = _monitored(metrics, self.monitor, self, epoch)
            if not _improved(current, self.best, self.mode, 0.0):
                return
        state = _host(self, "state_dict").state_dict()
        payload = {"epoch": epoch, "logs": _plain(metrics, allow_nan=True), "state": state}
        # Encoded before any file is touched: state that JSON cannot hold fails here.
        text = json.dumps(payload)
        atomic_write(_folder(self) / self.filename, text + "\n")
        self.best, self.saved_epoch = current, epoch


class CheckpointConfig(Configuration, component=Checkpoint):
    """Save the host's state_dict() as JSON, atomically, at the end of epochs."""

    filename: str = Param(
        "checkpoint.json", description="the file's name in the save path", pattern=_FILE_NAME
    )
    every: int = Param(1, description="save every this many epochs", ge=1)
    monitor: str | None = Param(
        None, description="save only when this metric improves (default: always)"
    )
    mode: Mode = Param("min", description="'min' if lower is better, 'max' if higher is")


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
