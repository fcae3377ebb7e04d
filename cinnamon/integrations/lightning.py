"""Run a cinnamon callback (or a whole pipeline) inside a Lightning ``Trainer``.

``LightningCallback(callbacks)`` is a ``lightning.pytorch.Callback``. Lightning calls
its ``setup`` before fitting, which sets the cinnamon callbacks up with the
``LightningModule`` as their component; its hooks then fire cinnamon's hookpoints:

===================================  ================================================
Lightning hook                       cinnamon hookpoint, with its logs
===================================  ================================================
``on_train_start``                   ``on_fit_begin``, no logs
``on_train_epoch_start``             ``on_epoch_begin``, ``{"epoch": n}``
``on_train_batch_start``             ``on_batch_begin``, ``{"batch": n}``
``on_train_batch_end``               ``on_batch_end``, ``{"batch": n, "loss": ...}``
``on_train_epoch_end``               ``on_epoch_end``, ``{"epoch": n, **metrics}``
``on_train_end``                     ``on_fit_end``, the metrics
``on_exception``                     ``on_fit_exception``, the exception
``teardown``                         the callbacks are cleared
===================================  ================================================

Epochs and batches are numbered from 1. The metrics are the trainer's
``callback_metrics`` (what the module logged with ``self.log``), as floats; the epoch's
end comes after its validation, so they include the validation metrics.

A ``LightningModule`` has no ``stop_training``; the adapter gives it one (``False``)
when training starts, and after each epoch and batch ends, turns a ``True`` into
``trainer.should_stop = True``: so cinnamon's ``EarlyStopping`` and ``TerminateOnNaN``
stop Lightning's fit. The module's ``state_dict()``/``load_state_dict()`` make
``EarlyStopping(restore_best=True)`` work. Its tensors are neither JSON nor numpy
arrays: use Lightning's ``ModelCheckpoint`` for checkpoints.

Needs ``pip install "cinnamon[lightning]"`` (Lightning, which brings PyTorch).
"""

# Lightning calls its hooks with fixed signatures, whether or not they read every argument.
# ruff: noqa: ARG002

from __future__ import annotations

import os
from typing import Any

from cinnamon._hooks.callback import Callback
from cinnamon.integrations._adapt import checked, folder, framework, numbers

__all__ = ["LightningCallback"]

pytorch: Any = framework("lightning.pytorch", "lightning")


class LightningCallback(pytorch.Callback):  # type: ignore[misc]  # lightning is untyped here
    """A Lightning callback that fires the hookpoints of a cinnamon callback.

    Args:
        callbacks: the cinnamon :class:`~cinnamon.Callback` or
            :class:`~cinnamon.CallbackPipeline` to run.
        save_path: the folder given to the callbacks' ``setup``; ``None`` uses the
            trainer's ``default_root_dir``.

    Attributes:
        callbacks: what was wrapped.

    Raises:
        UsageError: ``callbacks`` is not a cinnamon Callback.
    """

    def __init__(
        self, callbacks: Callback, save_path: str | os.PathLike[str] | None = None
    ) -> None:
        super().__init__()
        self.callbacks = checked(callbacks, "LightningCallback")
        self.save_path = folder(save_path)

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        """Give the module to the cinnamon callbacks as their component."""
        save_path = self.save_path if self.save_path is not None else trainer.default_root_dir
        self.callbacks.setup(component=pl_module, save_path=save_path)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        """Detach the cinnamon callbacks from the module."""
        self.callbacks.clear()

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        """Fire ``on_fit_begin``."""
        if not hasattr(pl_module, "stop_training"):
            pl_module.stop_training = False
        self.callbacks.run("on_fit_begin", None)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        """Fire ``on_fit_end`` with the last metrics."""
        self.callbacks.run("on_fit_end", numbers(trainer.callback_metrics))

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        """Fire ``on_epoch_begin`` with the epoch's number (from 1)."""
        self.callbacks.run("on_epoch_begin", {"epoch": trainer.current_epoch + 1})

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Fire ``on_epoch_end`` with the epoch's number and the trainer's metrics."""
        logs = {"epoch": trainer.current_epoch + 1, **numbers(trainer.callback_metrics)}
        self.callbacks.run("on_epoch_end", logs)
        _stop_if_asked(trainer, pl_module)

    def on_train_batch_start(
        self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int
    ) -> None:
        """Fire ``on_batch_begin`` with the batch's number (from 1)."""
        self.callbacks.run("on_batch_begin", {"batch": batch_idx + 1})

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """Fire ``on_batch_end`` with the batch's number and its loss."""
        logs: dict[str, Any] = {"batch": batch_idx + 1}
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            logs.update(numbers({"loss": loss}))
        self.callbacks.run("on_batch_end", logs)
        _stop_if_asked(trainer, pl_module)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        """Fire ``on_fit_exception`` with the exception."""
        self.callbacks.run("on_fit_exception", exception)


def _stop_if_asked(trainer: Any, pl_module: Any) -> None:
    if getattr(pl_module, "stop_training", False):
        trainer.should_stop = True
