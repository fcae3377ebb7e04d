"""Run a cinnamon callback (or a whole pipeline) inside a Hugging Face ``Trainer``.

``HuggingFaceCallback(callbacks)`` is a ``transformers.TrainerCallback``. When training
begins it sets the cinnamon callbacks up with the trainer's model as their component
(and ``args.output_dir`` as their folder), then fires cinnamon's hookpoints:

=========================  ==============================================================
Trainer event              cinnamon hookpoint, with its logs
=========================  ==============================================================
``on_train_begin``         ``on_fit_begin``, no logs
``on_epoch_begin``         ``on_epoch_begin``, ``{"epoch": n}``
``on_step_begin``          ``on_batch_begin``, ``{"batch": n}``
``on_step_end``            ``on_batch_end``, ``{"batch": n}``
end of an epoch            ``on_epoch_end``, ``{"epoch": n, **logged}``
``on_train_end``           ``on_fit_end``, what was logged last; then the callbacks
                           are cleared
=========================  ==============================================================

Epochs and batches (optimizer steps) are numbered from 1, within the fit and within the
epoch. The Trainer reports metrics through ``on_log`` and ``on_evaluate``, and does so
*after* its ``on_epoch_end``; so the adapter fires cinnamon's ``on_epoch_end`` once the
epoch's reports are in: after the evaluation with ``eval_strategy="epoch"``, after the
epoch's log otherwise (``logging_strategy="epoch"``), and at the latest when the next
epoch or the end of training comes. The logs hold what was reported during the epoch
under the Trainer's names (``loss``, ``learning_rate``, ``eval_loss``, ...), without the
Trainer's fractional ``epoch``.

The model gets a ``stop_training`` attribute (``False``) when training begins; a
cinnamon callback that sets it to ``True`` (``EarlyStopping``, ``TerminateOnNaN``) makes
the adapter set ``control.should_training_stop``. The Trainer has no hook for a failed
fit. Needs ``pip install "cinnamon[huggingface]"`` (Transformers and Accelerate; PyTorch
installed first).
"""

# The Trainer calls its events with fixed signatures, whether or not they read them.
# ruff: noqa: ARG002

from __future__ import annotations

import os
from typing import Any

from cinnamon._hooks.callback import Callback
from cinnamon.integrations._adapt import checked, folder, framework, numbers

__all__ = ["HuggingFaceCallback"]

transformers: Any = framework("transformers", "huggingface")


class HuggingFaceCallback(transformers.TrainerCallback):  # type: ignore[misc]  # untyped here
    """A Hugging Face ``TrainerCallback`` that fires the hookpoints of a cinnamon callback.

    Args:
        callbacks: the cinnamon :class:`~cinnamon.Callback` or
            :class:`~cinnamon.CallbackPipeline` to run.
        save_path: the folder given to the callbacks' ``setup``; ``None`` uses the
            Trainer's ``args.output_dir``.

    Attributes:
        callbacks: what was wrapped.

    Raises:
        UsageError: ``callbacks`` is not a cinnamon Callback.
    """

    def __init__(
        self, callbacks: Callback, save_path: str | os.PathLike[str] | None = None
    ) -> None:
        self.callbacks = checked(callbacks, "HuggingFaceCallback")
        self.save_path = folder(save_path)
        self._start(None)

    def _start(self, model: Any) -> None:
        self._model = model
        self._epoch = 0
        self._batch = 0
        self._logs: dict[str, Any] = {}
        self._pending = False  # the Trainer's epoch ended; its reports may still come
        self._last: dict[str, Any] = {}

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Set the callbacks up with the model, and fire ``on_fit_begin``."""
        model = kwargs.get("model")
        self._start(model)
        if model is not None and not hasattr(model, "stop_training"):
            model.stop_training = False
        save_path = self.save_path if self.save_path is not None else args.output_dir
        self.callbacks.setup(component=model, save_path=save_path)
        self.callbacks.run("on_fit_begin", None)

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Finish the previous epoch if its reports did not, and fire ``on_epoch_begin``."""
        self._flush(control)
        self._epoch += 1
        self._batch = 0
        self._logs = {}
        self.callbacks.run("on_epoch_begin", {"epoch": self._epoch})

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Fire ``on_batch_begin`` with the step's number in the epoch (from 1)."""
        self._batch += 1
        self.callbacks.run("on_batch_begin", {"batch": self._batch})

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Fire ``on_batch_end``; stop the Trainer if a callback asked to."""
        self.callbacks.run("on_batch_end", {"batch": self._batch})
        self._stop_if_asked(control)

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Note that the epoch ended: its logs and evaluation come next."""
        self._pending = True

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        """Keep what was logged; fire ``on_epoch_end`` if it was the epoch's last report."""
        self._keep(logs)
        evaluated = getattr(args.eval_strategy, "value", args.eval_strategy) == "epoch"
        if self._pending and not evaluated:
            self._flush(control)

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any
    ) -> None:
        """Keep the metrics; fire ``on_epoch_end`` if the epoch was waiting for them."""
        self._keep(metrics)
        self._flush(control)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Finish the last epoch, fire ``on_fit_end``, and detach the callbacks."""
        try:
            self._flush(control)
            self.callbacks.run("on_fit_end", dict(self._last))
        finally:
            self.callbacks.clear()

    def _keep(self, reported: Any) -> None:
        entries = {k: v for k, v in numbers(reported).items() if k != "epoch"}
        self._logs.update(entries)
        self._last.update(entries)

    def _flush(self, control: Any) -> None:
        if not self._pending:
            return
        self._pending = False
        self.callbacks.run("on_epoch_end", {"epoch": self._epoch, **self._logs})
        self._stop_if_asked(control)

    def _stop_if_asked(self, control: Any) -> None:
        if getattr(self._model, "stop_training", False):
            control.should_training_stop = True
