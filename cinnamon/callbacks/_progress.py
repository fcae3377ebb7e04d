"""ProgressBar: a text progress bar of the epochs, with the latest metrics."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from cinnamon._core.configuration import Configuration, Param
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import _COUNTERS, _epoch_of, _metrics

__all__ = ["ProgressBar", "ProgressBarConfig"]


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
