"""Checkpoint: the host's state saved atomically, the latest or the best few."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, NamedTuple

from cinnamon._core.configuration import Configuration, Param, Ref
from cinnamon._files.atomic import atomic_write, sync_folder
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._serializers import JsonSerializer, Serializer
from cinnamon.callbacks._shared import (
    _FILE_NAME,
    Mode,
    _epoch_of,
    _folder,
    _host,
    _improved,
    _metrics,
    _monitored,
    _plain,
)
from cinnamon.errors import UsageError

__all__ = ["Checkpoint", "CheckpointConfig", "SavedCheckpoint"]


class SavedCheckpoint(NamedTuple):
    """A checkpoint file a :class:`Checkpoint` wrote and keeps."""

    #: The epoch whose state it holds.
    epoch: int
    #: The monitored metric at that epoch, or ``None`` without a monitor.
    value: float | None
    #: The file.
    path: Path


class Checkpoint(Callback):
    """Save the host's state at the end of epochs, atomically: the latest, or the best.

    Every ``every`` epochs (those whose number is a multiple of it) the callback calls
    the host's ``state_dict()`` and writes ``{"epoch": ..., "logs": {...}, "state":
    {...}}`` with its ``serializer`` (:class:`~cinnamon.callbacks.JsonSerializer` by
    default; :class:`~cinnamon.callbacks.NpzSerializer` for numpy arrays). Each file is
    written to a temporary file next to it and renamed into place, so a crash leaves
    the previous checkpoint intact, never a half-written one.

    Which epochs are kept:

    - ``save_top_k=1`` (the default): one file, ``filename``, replaced by each due
      epoch; with ``monitor``, only by an epoch whose metric beats the best saved so far
      (so it always holds the best state: "best only").
    - ``save_top_k=k`` above 1, or ``None`` for all: one file per saved epoch,
      ``<stem>-epoch<NNNN><suffix>``, keeping the ``k`` best (with ``monitor``) or the
      ``k`` latest (without), and deleting the file that falls out, after the new one
      is written. Files of earlier fits in the folder are left alone.
    - ``save_last=True`` also writes every due epoch to ``<stem>-last<suffix>``, the
      state to resume from.

    Attributes:
        best: the best value of the monitored metric saved so far, or ``None``.
        saved_epoch: the epoch of the last checkpoint written, or ``None``.
        kept: the checkpoints kept, best (or latest) first.

    Args:
        filename: the file's name inside the ``save_path``; by default
            ``"checkpoint"`` with the serializer's suffix. Its stem and suffix name the
            files of ``save_top_k`` above 1 and ``save_last``.
        every: save every this many epochs.
        monitor: keep the epochs where this metric is best; ``None`` keeps the latest.
        mode: ``"min"`` if lower is better, ``"max"`` if higher is better.
        save_top_k: how many checkpoints to keep; ``None`` keeps every one.
        save_last: also keep the latest due epoch in ``<stem>-last<suffix>``.
        serializer: how to write the files (see :class:`~cinnamon.callbacks.Serializer`);
            ``None`` is :class:`~cinnamon.callbacks.JsonSerializer`.

    Raises:
        UsageError: ``serializer`` has no ``suffix``, ``dumps`` and ``loads``.
    """

    def __init__(
        self,
        filename: str | None = None,
        every: int = 1,
        monitor: str | None = None,
        mode: Mode = "min",
        *,
        save_top_k: int | None = 1,
        save_last: bool = False,
        serializer: Serializer | None = None,
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        CheckpointConfig(
            filename=filename,
            every=every,
            monitor=monitor,
            mode=mode,
            save_top_k=save_top_k,
            save_last=save_last,
        )
        if serializer is None:
            serializer = JsonSerializer()
        elif not isinstance(serializer, Serializer):
            msg = (
                "Checkpoint(serializer=...) needs an object with a 'suffix' and 'dumps' "
                f"and 'loads' methods, such as NpzSerializer(), not {serializer!r:.80}"
            )
            raise UsageError(msg)
        self.filename = filename
        self.every = every
        self.monitor = monitor
        self.mode: Mode = mode
        self.save_top_k = save_top_k
        self.save_last = save_last
        self.serializer = serializer
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.saved_epoch: int | None = None
        self.kept: list[SavedCheckpoint] = []
        self._epoch = 0

    @property
    def path(self) -> Path | None:
        """The single checkpoint file of ``save_top_k=1``, once there is a ``save_path``."""
        return None if self.save_path is None else self.save_path / self._name()

    @property
    def best_path(self) -> Path | None:
        """The file of the best (or, without a monitor, the latest) checkpoint kept."""
        return self.kept[0].path if self.kept else None

    def read(self, path: str | Path | None = None) -> dict[str, Any]:
        """Read a checkpoint file back with this callback's serializer.

        Args:
            path: the file; by default :attr:`best_path`.

        Raises:
            UsageError: no path is given and none has been saved yet.
        """
        if path is None:
            path = self.best_path
            if path is None:
                msg = "Checkpoint.read(): no checkpoint has been saved yet; pass a path"
                raise UsageError(msg)
        return self.serializer.loads(Path(path).read_bytes())

    def on_fit_begin(self, logs: object = None) -> None:
        """Check the host has a ``state_dict`` and there is a folder, before any work."""
        _host(self, "state_dict")
        _folder(self)
        self._reset()

    def on_epoch_end(self, logs: object = None) -> None:
        """Write a checkpoint if this epoch is due and good enough to keep."""
        metrics = _metrics(logs)
        self._epoch = epoch = _epoch_of(metrics, self._epoch + 1)
        if epoch % self.every:
            return
        value = None
        if self.monitor is not None:
            value = _monitored(metrics, self.monitor, self, epoch)
        keep = self._deserves_a_place(value)
        if not (keep or self.save_last):
            return
        state = _host(self, "state_dict").state_dict()
        payload = {"epoch": epoch, "logs": _plain(metrics, allow_nan=True), "state": state}
        # Encoded before any file is touched: state the serializer cannot hold fails here.
        data = self.serializer.dumps(payload)
        folder = _folder(self)
        if self.save_last:
            atomic_write(folder / self._name("-last"), data)
        if keep:
            self._keep(SavedCheckpoint(epoch, value, folder / self._file_of(epoch)), data)

    def _deserves_a_place(self, value: float | None) -> bool:
        if value is None:  # no monitor: the latest always does
            return True
        if math.isnan(value):
            return False
        k = self.save_top_k
        if k is None or len(self.kept) < k:
            return True
        return _improved(value, self.kept[-1].value, self.mode, 0.0)

    def _keep(self, saved: SavedCheckpoint, data: bytes) -> None:
        atomic_write(saved.path, data)
        if self.save_top_k == 1:
            self.kept = [saved]
        else:
            self.kept.append(saved)
            if self.monitor is None:
                self.kept.sort(key=lambda kept: -kept.epoch)
            else:  # stable: of equal values, the earlier epoch stays ahead
                sign = 1.0 if self.mode == "min" else -1.0
                self.kept.sort(key=lambda kept: sign * (kept.value or 0.0))
            if self.save_top_k is not None:
                for dropped in self.kept[self.save_top_k :]:
                    with contextlib.suppress(FileNotFoundError):
                        dropped.path.unlink()
                del self.kept[self.save_top_k :]
                sync_folder(saved.path.parent)
        self.saved_epoch = saved.epoch
        if saved.value is not None:
            self.best = self.kept[0].value

    def _name(self, tag: str = "") -> str:
        name = self.filename or f"checkpoint{self.serializer.suffix}"
        if not tag:
            return name
        stem, dot, suffix = name.rpartition(".")
        return f"{stem}{tag}.{suffix}" if dot and stem else f"{name}{tag}"

    def _file_of(self, epoch: int) -> str:
        return self._name() if self.save_top_k == 1 else self._name(f"-epoch{epoch:04d}")


class CheckpointConfig(Configuration, component=Checkpoint):
    """Save the host's state_dict() atomically: the latest epoch or the best few."""

    filename: str | None = Param(
        None,
        description="the file's name in the save path (default: checkpoint + the suffix)",
        pattern=_FILE_NAME,
    )
    every: int = Param(1, description="save every this many epochs", ge=1)
    monitor: str | None = Param(
        None, description="keep the epochs where this metric is best (default: the latest)"
    )
    mode: Mode = Param("min", description="'min' if lower is better, 'max' if higher is")
    save_top_k: int | None = Param(
        1, description="how many checkpoints to keep (null: all of them)", ge=1
    )
    save_last: bool = Param(
        default=False, description="also write the latest due epoch to <stem>-last<suffix>"
    )
    serializer: Ref[Configuration] | None = Param(
        None, description="how the files are written (default: JSON; NpzSerializerConfig: npz)"
    )
