"""Run a cinnamon callback (or a whole pipeline) inside Keras 3's ``model.fit``.

``KerasCallback(callbacks)`` is a ``keras.callbacks.Callback``. Keras calls its
``set_model`` before training, which sets the cinnamon callbacks up with the Keras
model as their component; its hooks then fire cinnamon's hookpoints:

================================  ====================================================
Keras hook                        cinnamon hookpoint, with its logs
================================  ====================================================
``on_train_begin(logs)``          ``on_fit_begin``, Keras's logs (often empty)
``on_epoch_begin(epoch, logs)``   ``on_epoch_begin``, ``{"epoch": epoch + 1, ...}``
``on_train_batch_begin``          ``on_batch_begin``, ``{"batch": batch + 1, ...}``
``on_train_batch_end``            ``on_batch_end``, ``{"batch": batch + 1, "loss": ...}``
``on_epoch_end(epoch, logs)``     ``on_epoch_end``, ``{"epoch": epoch + 1, "loss": ...,
                                  "val_loss": ...}``
``on_train_end(logs)``            ``on_fit_end``, Keras's logs; then the callbacks are
                                  cleared
================================  ====================================================

Epochs and batches are numbered from 1, as everywhere in cinnamon. Entries that the
cinnamon callbacks add to the logs (a timer's ``epoch_seconds``) are copied back into
Keras's logs, for the Keras callbacks after this one. Keras has no hook for a failed
fit. A Keras model has ``stop_training``, so cinnamon's ``EarlyStopping`` and
``TerminateOnNaN`` stop its fit; its ``optimizer.learning_rate`` follows
:class:`~cinnamon.callbacks.HasLearningRate`, so the learning-rate callbacks work with
their default ``target``. Keras models have no ``state_dict()``: use Keras's own
``ModelCheckpoint`` for checkpoints.

Needs ``pip install "cinnamon[keras]"`` (Keras 3 and JAX); choose the backend with the
``KERAS_BACKEND`` environment variable (``jax``) before Keras is first imported.
"""

from __future__ import annotations

import os
from typing import Any

from cinnamon._hooks.callback import Callback
from cinnamon.integrations._adapt import checked, folder, framework, numbers

__all__ = ["KerasCallback"]

keras: Any = framework("keras", "keras")


class KerasCallback(keras.callbacks.Callback):  # type: ignore[misc]  # keras is untyped
    """A Keras callback that fires the hookpoints of a cinnamon callback.

    Args:
        callbacks: the cinnamon :class:`~cinnamon.Callback` or
            :class:`~cinnamon.CallbackPipeline` to run.
        save_path: the folder given to the callbacks' ``setup`` (for the ones that write
            files); ``None`` for none.

    Attributes:
        callbacks: what was wrapped.

    Raises:
        UsageError: ``callbacks`` is not a cinnamon Callback.
    """

    def __init__(
        self, callbacks: Callback, save_path: str | os.PathLike[str] | None = None
    ) -> None:
        super().__init__()
        self.callbacks = checked(callbacks, "KerasCallback")
        self.save_path = folder(save_path)

    def set_model(self, model: Any) -> None:
        """Keep the model, and give it to the cinnamon callbacks as their component."""
        super().set_model(model)
        self.callbacks.setup(component=model, save_path=self.save_path)

    def on_train_begin(self, logs: Any = None) -> None:
        """Fire ``on_fit_begin``."""
        self._fire("on_fit_begin", {}, logs)

    def on_train_end(self, logs: Any = None) -> None:
        """Fire ``on_fit_end``, then detach the callbacks from the model."""
        try:
            self._fire("on_fit_end", {}, logs)
        finally:
            self.callbacks.clear()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        """Fire ``on_epoch_begin`` with the epoch's number (from 1)."""
        self._fire("on_epoch_begin", {"epoch": epoch + 1}, logs)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Fire ``on_epoch_end`` with the epoch's number (from 1) and metrics."""
        self._fire("on_epoch_end", {"epoch": epoch + 1}, logs)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        """Fire ``on_batch_begin`` with the batch's number (from 1)."""
        self._fire("on_batch_begin", {"batch": batch + 1}, logs)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Fire ``on_batch_end`` with the batch's number (from 1) and metrics."""
        self._fire("on_batch_end", {"batch": batch + 1}, logs)

    def _fire(self, hookpoint: str, counters: dict[str, Any], logs: Any) -> None:
        ours = {**counters, **numbers(logs)}
        self.callbacks.run(hookpoint, ours)
        if isinstance(logs, dict):  # what the cinnamon callbacks added, for Keras's
            logs.update({k: v for k, v in ours.items() if k not in counters})
