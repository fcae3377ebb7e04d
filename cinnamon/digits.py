"""A real-data job: a small neural network that reads handwritten digits, in numpy.

The data is scikit-learn's copy of the UCI handwritten digits (1,797 images of 8x8
pixels, shipped inside the package, so nothing is downloaded). A one-hidden-layer
network (:class:`MLP`) is trained with mini-batch gradient descent with momentum
(:class:`MomentumSGD`) by a :class:`DigitsTrainer` whose fit, epochs and batches are
guarded, so the built-in callbacks see it all: a learning-rate schedule, a CSV log,
early stopping that restores the best weights, and checkpoints of the best epochs in
numpy's ``.npz`` format. Everything is seeded; a run takes a few seconds on a CPU.
Run it declared in a file with::

    cinnamon run digits:trainer --config configs/digits.toml

Needs ``pip install "cinnamon[digits]"`` (numpy and scikit-learn).
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import field_validator

from cinnamon._core.component import Component
from cinnamon._core.configuration import Configuration, Param, Ref
from cinnamon._hooks.callback import Callback
from cinnamon._hooks.guard import guard
from cinnamon.demo import make_run_dir, save_config
from cinnamon.errors import UsageError

try:
    import numpy as np
    from numpy.typing import NDArray
except ImportError as error:  # pragma: no cover - the extra is installed where tests run
    _MISSING = "cinnamon.digits needs numpy; install it with: pip install 'cinnamon[digits]'"
    raise UsageError(_MISSING) from error

__all__ = [
    "MLP",
    "DigitsData",
    "DigitsDataConfig",
    "DigitsTrainer",
    "DigitsTrainerConfig",
    "MLPConfig",
    "MomentumSGD",
    "MomentumSGDConfig",
]

Array = NDArray[np.float64]
#: Pixels per image and classes: fixed by the data set.
N_PIXELS, N_CLASSES = 64, 10


def _load_digits() -> tuple[Array, NDArray[np.int64]]:
    try:
        datasets: Any = importlib.import_module("sklearn.datasets")
    except ImportError:
        msg = "DigitsData needs scikit-learn; install it with: pip install 'cinnamon[digits]'"
        raise UsageError(msg) from None
    bunch = datasets.load_digits()
    return np.asarray(bunch.data, dtype=np.float64) / 16.0, np.asarray(bunch.target, np.int64)


class DigitsData(Component):
    """The digits, scaled to [0, 1], split at random into training, validation and test.

    Args:
        validation_split: the fraction of the images held out for validation.
        test_split: the fraction held out for the final test.
        batch_size: images per mini-batch.
        seed: the seed of the split and of the shuffling of each epoch.
    """

    def __init__(
        self,
        *,
        validation_split: float = 0.15,
        test_split: float = 0.2,
        batch_size: int = 32,
        seed: int = 0,
    ) -> None:
        images, labels = _load_digits()
        order = np.random.default_rng(seed).permutation(len(labels))
        n_test = round(len(labels) * test_split)
        n_validation = round(len(labels) * validation_split)
        test, validation = order[:n_test], order[n_test : n_test + n_validation]
        train = order[n_test + n_validation :]
        self.train = (images[train], labels[train])
        self.validation = (images[validation], labels[validation])
        self.test = (images[test], labels[test])
        self.batch_size = batch_size
        self.seed = seed

    @property
    def batches_per_epoch(self) -> int:
        """The number of mini-batches in one pass over the training images."""
        return math.ceil(len(self.train[1]) / self.batch_size)

    def batches(self, epoch: int) -> Iterator[tuple[Array, NDArray[np.int64]]]:
        """Yield the training images of ``epoch``, shuffled, in mini-batches.

        The order depends on the seed and the epoch only.
        """
        images, labels = self.train
        order = np.random.default_rng([self.seed, epoch]).permutation(len(labels))
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            yield images[chosen], labels[chosen]


class MLP(Component):
    """A network with one hidden layer of ReLU units and a softmax output.

    Its parameters are numpy arrays, named ``w1``, ``b1``, ``w2``, ``b2``; the loss is
    the cross-entropy, plus ``weight_decay`` times the sum of the squared weights.

    Args:
        hidden: the number of hidden units.
        weight_decay: the strength of the L2 penalty on the weights.
        seed: the seed of the initial weights (He-scaled normal; biases start at 0).
    """

    def __init__(self, hidden: int = 64, weight_decay: float = 1e-4, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.hidden = hidden
        self.weight_decay = weight_decay
        self.parameters: dict[str, Array] = {
            "w1": rng.normal(0.0, math.sqrt(2.0 / N_PIXELS), (N_PIXELS, hidden)),
            "b1": np.zeros(hidden),
            "w2": rng.normal(0.0, math.sqrt(2.0 / hidden), (hidden, N_CLASSES)),
            "b2": np.zeros(N_CLASSES),
        }

    def probabilities(self, images: Array) -> Array:
        """The probability of each class for each image."""
        return self._forward(images)[1]

    def evaluate(self, images: Array, labels: NDArray[np.int64]) -> tuple[float, float]:
        """The mean cross-entropy and the accuracy on ``images``."""
        probabilities = self.probabilities(images)
        picked = probabilities[np.arange(len(labels)), labels]
        loss = float(-np.mean(np.log(np.maximum(picked, 1e-12))))
        return loss, float(np.mean(probabilities.argmax(axis=1) == labels))

    def gradients(self, images: Array, labels: NDArray[np.int64]) -> tuple[float, dict[str, Array]]:
        """The loss on a batch (with the penalty) and its gradient for each parameter."""
        p = self.parameters
        hidden, probabilities = self._forward(images)
        n = len(labels)
        picked = probabilities[np.arange(n), labels]
        penalty = self.weight_decay * float(np.sum(p["w1"] ** 2) + np.sum(p["w2"] ** 2))
        loss = float(-np.mean(np.log(np.maximum(picked, 1e-12)))) + penalty
        d_logits = probabilities.copy()
        d_logits[np.arange(n), labels] -= 1.0
        d_logits /= n
        d_hidden = (d_logits @ p["w2"].T) * (hidden > 0)
        decay = 2.0 * self.weight_decay
        return loss, {
            "w1": images.T @ d_hidden + decay * p["w1"],
            "b1": d_hidden.sum(axis=0),
            "w2": hidden.T @ d_logits + decay * p["w2"],
            "b2": d_logits.sum(axis=0),
        }

    def state_dict(self) -> dict[str, Array]:
        """The parameters (the arrays themselves: copy them to keep them)."""
        return dict(self.parameters)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set the parameters from :meth:`state_dict`'s result (copied)."""
        self.parameters = {
            name: np.array(state[name], dtype=np.float64) for name in self.parameters
        }

    def _forward(self, images: Array) -> tuple[Array, Array]:
        p = self.parameters
        hidden = np.maximum(images @ p["w1"] + p["b1"], 0.0)
        logits = hidden @ p["w2"] + p["b2"]
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return hidden, exp / exp.sum(axis=1, keepdims=True)


class MomentumSGD(Component):
    """Mini-batch gradient descent with (heavy-ball) momentum, on named numpy arrays.

    ``learning_rate`` is a plain attribute, so the learning-rate callbacks can change it
    (:class:`~cinnamon.callbacks.HasLearningRate`).

    Args:
        learning_rate: the step size.
        momentum: the fraction of the previous step carried into the next one.
    """

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity: dict[str, Array] = {}

    def step(self, parameters: dict[str, Array], gradients: Mapping[str, Array]) -> None:
        """Move ``parameters`` (in place) one step against ``gradients``."""
        for name, gradient in gradients.items():
            velocity = self.velocity.get(name)
            if velocity is None:
                velocity = np.zeros_like(gradient)
            velocity = self.momentum * velocity - self.learning_rate * gradient
            self.velocity[name] = velocity
            parameters[name] = parameters[name] + velocity

    def state_dict(self) -> dict[str, Any]:
        """The velocity of each parameter."""
        return {"velocity": dict(self.velocity)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the velocity from :meth:`state_dict`'s result (copied)."""
        self.velocity = {k: np.array(v, dtype=np.float64) for k, v in state["velocity"].items()}


class DigitsTrainer(Component):
    """Trains an :class:`MLP` on the digits, notifying callbacks, and tests it.

    :meth:`fit` is guarded as ``fit``, each epoch as ``epoch`` (its logs: ``epoch``,
    ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``) and each batch as ``batch``
    (``batch``, ``loss``). A callback stops the fit by setting :attr:`stop_training`;
    :meth:`state_dict` and :meth:`load_state_dict` hold the model and the optimizer, for
    checkpoints and for early stopping's ``restore_best``.

    Args:
        data: the data set.
        model: the network.
        optimizer: the optimizer, whose ``learning_rate`` the callbacks may change.
        epochs: the most epochs to train for.
        callbacks: the callback (often a :class:`~cinnamon.CallbackPipeline`) that
            :meth:`run` sets up and fits with.
        run_dir: the folder :meth:`run` writes to; ``None`` makes a fresh one under
            ``runs/`` for each run.

    Attributes:
        stop_training: set to ``True`` (by a callback) to stop after the current epoch.
        epoch: the number of the last epoch trained.

    Raises:
        UsageError: ``callbacks`` is not a Callback.
    """

    def __init__(
        self,
        data: DigitsData,
        model: MLP,
        optimizer: MomentumSGD,
        *,
        epochs: int = 60,
        callbacks: Callback | None = None,
        run_dir: str | None = None,
    ) -> None:
        if callbacks is not None and not isinstance(callbacks, Callback):
            msg = f"callbacks must be a Callback or None, not {callbacks!r:.80}"
            raise UsageError(msg)
        self.data = data
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.callbacks = callbacks
        self.run_dir = run_dir
        self.stop_training = False
        self.epoch = 0

    @property
    def batches_per_epoch(self) -> int:
        """The number of batches in each epoch (read by the progress bar)."""
        return self.data.batches_per_epoch

    def run(self) -> dict[str, Any]:
        """Make the run folder, save the configuration there, fit, and test.

        The callbacks are set up with this trainer and the folder for the fit, and
        cleared after it. The validation and test metrics are measured after the fit,
        so with the weights early stopping restored, if it did.

        Returns:
            The fit's summary with ``val_loss``, ``val_accuracy``, ``test_loss``,
            ``test_accuracy`` and ``run_dir``.
        """
        folder = make_run_dir(self.run_dir)
        save_config(self, folder)
        callbacks = self.callbacks
        if callbacks is not None:
            callbacks.setup(component=self, save_path=folder)
        try:
            summary = self.fit(callbacks=callbacks)
        finally:
            if callbacks is not None:
                callbacks.clear()
        # Measured again: early stopping may have restored an earlier epoch's weights.
        summary["val_loss"], summary["val_accuracy"] = self.model.evaluate(*self.data.validation)
        summary["test_loss"], summary["test_accuracy"] = self.model.evaluate(*self.data.test)
        summary["run_dir"] = str(folder)
        return summary

    @guard("fit")
    def fit(self, callbacks: Callback | None = None) -> dict[str, Any]:
        """Train for up to :attr:`epochs` epochs, or until a callback stops the fit.

        Returns:
            ``epochs`` trained and the last epoch's logs.
        """
        self.stop_training = False
        logs: dict[str, Any] = {}
        for epoch in range(1, self.epochs + 1):
            logs = self.train_epoch(epoch, callbacks=callbacks)
            if self.stop_training:
                break
        return {"epochs": self.epoch, **{k: v for k, v in logs.items() if k != "epoch"}}

    @guard("epoch")
    def train_epoch(self, epoch: int, callbacks: Callback | None = None) -> dict[str, Any]:
        """Train on every batch once and return the epoch's logs."""
        total, seen = 0.0, 0
        for index, (images, labels) in enumerate(self.data.batches(epoch), start=1):
            total += self.train_batch(images, labels, index, callbacks=callbacks)["loss"] * len(
                labels
            )
            seen += len(labels)
        self.epoch = epoch
        _, accuracy = self.model.evaluate(*self.data.train)
        val_loss, val_accuracy = self.model.evaluate(*self.data.validation)
        return {
            "epoch": epoch,
            "loss": total / seen,
            "accuracy": accuracy,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
        }

    @guard("batch")
    def train_batch(
        self,
        images: Array,
        labels: NDArray[np.int64],
        index: int,
        callbacks: Callback | None = None,  # noqa: ARG002 - read by the guard
    ) -> dict[str, Any]:
        """Take one optimizer step on a batch and return its logs (``batch``, ``loss``)."""
        loss, gradients = self.model.gradients(images, labels)
        self.optimizer.step(self.model.parameters, gradients)
        return {"batch": index, "loss": loss}

    def state_dict(self) -> dict[str, Any]:
        """The epoch, the model's parameters and the optimizer's velocity."""
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the trainer from :meth:`state_dict`'s result."""
        self.epoch = int(state["epoch"])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])


# -- configurations -----------------------------------------------------------------------


class DigitsDataConfig(Configuration, component=DigitsData):
    """The handwritten digits, split into training, validation and test images."""

    validation_split: float = Param(
        0.15, description="fraction of the images held out for validation", gt=0.0, lt=0.5
    )
    test_split: float = Param(0.2, description="fraction held out for the test", gt=0.0, lt=0.5)
    batch_size: int = Param(32, description="images per mini-batch", ge=1)
    seed: int = Param(0, description="the seed of the split and the shuffling")


class MLPConfig(Configuration, component=MLP):
    """A one-hidden-layer network with a softmax output."""

    hidden: int = Param(64, description="the number of hidden units", ge=1)
    weight_decay: float = Param(1e-4, description="the L2 penalty on the weights", ge=0.0)
    seed: int = Param(0, description="the seed of the initial weights")


class MomentumSGDConfig(Configuration, component=MomentumSGD):
    """Mini-batch gradient descent with momentum."""

    learning_rate: float = Param(0.1, description="the step size", gt=0.0)
    momentum: float = Param(0.9, description="fraction of the previous step kept", ge=0.0, lt=1.0)


class DigitsTrainerConfig(Configuration, component=DigitsTrainer):
    """A training job on the digits: data, network, optimizer, epochs and callbacks."""

    data: Ref[DigitsDataConfig] = Param(
        default_factory=DigitsDataConfig, description="the data set"
    )
    model: Ref[MLPConfig] = Param(default_factory=MLPConfig, description="the network")
    optimizer: Ref[MomentumSGDConfig] = Param(
        default_factory=MomentumSGDConfig, description="the optimizer"
    )
    epochs: int = Param(60, description="the most epochs to train for", ge=1)
    callbacks: Ref[Configuration] | None = Param(
        None, description="the callbacks of the fit (often a CallbackPipeline)"
    )
    run_dir: str | None = Param(
        None, description="the run folder (default: a fresh one under runs/)", min_length=1
    )

    @field_validator("run_dir")
    @classmethod
    def _stays_below(cls, run_dir: str | None) -> str | None:
        # As the demo's trainer: a file must not send the run's files up and out.
        if run_dir is not None and ".." in re.split(r"[\\/]", run_dir):
            msg = f"{run_dir!r} climbs out with '..'; name a folder below the working one"
            raise ValueError(msg)
        return run_dir
