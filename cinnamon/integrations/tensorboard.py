"""A callback that writes the metrics of each epoch to a TensorBoard event file.

The event file format is small and stable: TFRecord framing (a length, a masked CRC-32C
of it, the payload and a masked CRC-32C of that) around ``Event`` protocol buffers, each
holding a wall time, a step and scalar values. Writing it here by hand keeps the logger
free of dependencies: neither TensorFlow, PyTorch nor the ``tensorboard`` package (about
150 MB with its dependencies) is needed to log; ``pip install "cinnamon[tensorboard]"``
installs TensorBoard to look at the files (``tensorboard --logdir runs``).
"""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import math
import os
import socket
import struct
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from cinnamon._core.configuration import Configuration, Param
from cinnamon._hooks.callback import Callback
from cinnamon.errors import UsageError

__all__ = ["EventFileWriter", "TensorBoardLogger", "TensorBoardLoggerConfig"]

_COUNTERS = ("epoch", "batch")  # entries of the logs that count rather than measure
_FOLDER = r"^[^/\\:\x00-\x1f]*[^/\\:. \x00-\x1f]$"  # a plain folder name, as callbacks use


# -- the file format ----------------------------------------------------------------------


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) checksum of ``data``, as TFRecord files use."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> bytes:
    crc = crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def _varint(number: int) -> bytes:
    out = bytearray()
    number &= 0xFFFFFFFFFFFFFFFF  # int64 as protocol buffers encode it
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _event(
    wall_time: float, step: int, *, version: str = "", scalars: Mapping[str, float]
) -> bytes:
    # Event: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5.
    # Summary: repeated Value value = 1; Value: tag = 1 (string), simple_value = 2 (float).
    event = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(step)
    if version:
        event += _field(3, version.encode())
    if scalars:
        values = b"".join(
            _field(1, _field(1, tag.encode()) + b"\x15" + struct.pack("<f", value))
            for tag, value in scalars.items()
        )
        event += _field(5, values)
    return event


class EventFileWriter:
    """Appends scalar events to a new TensorBoard event file in ``folder``.

    Each event is flushed as it is written, so TensorBoard shows a fit while it runs
    and the file is whole up to the last event if the process dies.

    Args:
        folder: the log folder (made if needed); the file is
            ``events.out.tfevents.<time>.<host>.<pid>`` inside it.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}"
        self.path = self.folder / name
        suffix = 0
        while self.path.exists():  # two writers in one second of one process
            suffix += 1
            self.path = self.folder / f"{name}.{suffix}"
        self._file: IO[bytes] | None = self.path.open("xb")
        self._record(_event(time.time(), 0, version="brain.Event:2", scalars={}))

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Write the scalar ``values`` (tag to number) at ``step``."""
        if values:
            self._record(_event(time.time(), step, scalars=values))

    def close(self) -> None:
        """Close the file; later writes are refused."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _record(self, data: bytes) -> None:
        if self._file is None:
            msg = f"the event file {self.path} is closed"
            raise UsageError(msg)
        length = struct.pack("<Q", len(data))
        self._file.write(length + _masked(length) + data + _masked(data))
        self._file.flush()


# -- the callback ---------------------------------------------------------------------------


class TensorBoardLogger(Callback):
    """Log each epoch's metrics (and, if asked, each batch's) as TensorBoard scalars.

    The event file goes into ``<save_path>/<folder>``; point TensorBoard at the folder
    above the run folders (``tensorboard --logdir runs``) to compare runs, such as the
    variants of a sweep. Each numeric entry of an epoch's logs is a scalar of that name
    at step ``epoch``; with ``batches``, each batch's entries are logged as
    ``batch/<name>`` at a step counting batches across the fit. Entries that are not
    numbers (and NaN, which TensorBoard cannot plot) are left out.

    Args:
        folder: the folder's name inside the ``save_path``.
        metrics: the metrics to log; ``None`` logs every number in the logs.
        batches: also log the metrics of each batch.
    """

    def __init__(
        self, folder: str = "tensorboard", metrics: list[str] | None = None, batches: bool = False
    ) -> None:
        TensorBoardLoggerConfig(folder=folder, metrics=metrics, batches=batches)
        self.folder = folder
        self.metrics = None if metrics is None else tuple(metrics)
        self.batches = batches
        self.writer: EventFileWriter | None = None
        self._epoch = 0
        self._step = 0

    def on_fit_begin(self, logs: object = None) -> None:
        """Open a new event file in the run folder."""
        if self.save_path is None:
            msg = (
                "TensorBoardLogger has no folder to write to: call "
                "setup(component=..., save_path=<folder>) before the fit"
            )
            raise UsageError(msg)
        self.close()
        self.writer = EventFileWriter(self.save_path / self.folder)
        self._epoch = self._step = 0

    def on_batch_end(self, logs: object = None) -> None:
        """Log the batch's metrics, if ``batches``."""
        if not self.batches or self.writer is None:
            return
        self._step += 1
        scalars = self._scalars(logs)
        self.writer.scalars(self._step, {f"batch/{name}": value for name, value in scalars.items()})

    def on_epoch_end(self, logs: object = None) -> None:
        """Log the epoch's metrics at step ``epoch``."""
        if self.writer is None:
            return
        epoch = logs.get("epoch") if isinstance(logs, Mapping) else None
        valid = isinstance(epoch, int) and not isinstance(epoch, bool)
        self._epoch = epoch if valid else self._epoch + 1  # type: ignore[assignment]
        self.writer.scalars(self._epoch, self._scalars(logs))

    def on_fit_end(self, logs: object = None) -> None:
        """Close the event file."""
        self.close()

    def on_fit_exception(self, logs: object = None) -> None:
        """Close the event file: what was logged stays readable."""
        self.close()

    def close(self) -> None:
        """Close the event file, if one is open."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _scalars(self, logs: object) -> dict[str, float]:
        if not isinstance(logs, Mapping):
            return {}
        names = self.metrics if self.metrics is not None else tuple(logs)
        found: dict[str, float] = {}
        for name in names:
            value: Any = logs.get(name)
            if name in _COUNTERS and self.metrics is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isnan(value):
                found[str(name)] = float(value)
        return found


class TensorBoardLoggerConfig(Configuration, component=TensorBoardLogger):
    """Log each epoch's metrics to a TensorBoard event file in the run folder."""

    folder: str = Param(
        "tensorboard", description="the folder's name in the save path", pattern=_FOLDER
    )
    metrics: list[str] | None = Param(
        None, description="the metrics to log (default: every number in the logs)"
    )
    batches: bool = Param(default=False, description="also log the metrics of each batch")
