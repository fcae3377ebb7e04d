"""MetricsLogger: each epoch's metrics appended to a JSON Lines file."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cinnamon._core.configuration import Configuration, Param
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import _FILE_NAME, _folder, _metrics, _plain

__all__ = ["MetricsLogger", "MetricsLoggerConfig"]


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
