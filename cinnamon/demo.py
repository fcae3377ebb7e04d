"""A small, real training job: linear regression on synthetic data, in pure Python.

It shows a whole component tree at work: a data set, a model and an optimizer, put
together by a :class:`Trainer` whose ``fit`` and epochs are guarded, so that callbacks
(such as those of :mod:`cinnamon.callbacks`) see the fit happen. Everything is seeded,
so a configuration always gives the same numbers; a run takes a fraction of a second.
Run it declared in a file with::

    cinnamon run demo:trainer --config configs/demo.toml
"""

from __future__ import annotations

import math
import os
import random
import re
import secrets
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import field_validator

from cinnamon._core.component import Component
from cinnamon._core.conditions import condition
from cinnamon._core.configuration import Configuration, Param, Ref
from cinnamon._files.dump import dump
from cinnamon._hooks.callback import Callback
from cinnamon._hooks.guard import guard
from cinnamon.errors import CinnamonError, ConfigurationError, UsageError

__all__ = [
    "SGD",
    "LinearModel",
    "LinearModelConfig",
    "SGDConfig",
    "Sample",
    "SyntheticData",
    "SyntheticDataConfig",
    "Trainer",
    "TrainerConfig",
]

#: One example: its features and its target.
Sample = tuple[tuple[float, ...], float]


class SyntheticData(Component):
    """A regression data set: targets are a random linear function of the features, plus noise.

    The features are standard normal; the true weights are drawn uniformly from
    ``[-1, 1]``. The first ``validation_split`` of the samples are held out for
    validation, the rest are trained on in mini-batches, shuffled anew each epoch.

    Args:
        n_samples: how many samples to make.
        n_features: how many features each sample has.
        noise: the standard deviation of the noise added to the targets.
        seed: the seed of everything random about the data.
        batch_size: samples per mini-batch.
        validation_split: the fraction of the samples held out for validation.
    """

    def __init__(
        self,
        *,
        n_samples: int = 1000,
        n_features: int = 8,
        noise: float = 0.1,
        seed: int = 0,
        batch_size: int = 32,
        validation_split: float = 0.2,
    ) -> None:
        self.n_features = n_features
        self.batch_size = batch_size
        self.seed = seed
        rng = random.Random(seed)  # noqa: S311 - seeded for repeatability, not secrecy
        self.true_weights = tuple(rng.uniform(-1.0, 1.0) for _ in range(n_features))
        self.true_bias = rng.uniform(-0.5, 0.5)
        samples: list[Sample] = []
        for _ in range(n_samples):
            x = tuple(rng.gauss(0.0, 1.0) for _ in range(n_features))
            y = _dot(self.true_weights, x) + self.true_bias + rng.gauss(0.0, noise)
            samples.append((x, y))
        held_out = min(round(n_samples * validation_split), n_samples - 1)
        self.validation: tuple[Sample, ...] = tuple(samples[:held_out])
        self.train: tuple[Sample, ...] = tuple(samples[held_out:])

    @property
    def batches_per_epoch(self) -> int:
        """The number of mini-batches in one pass over the training samples."""
        return math.ceil(len(self.train) / self.batch_size)

    def batches(self, epoch: int) -> list[tuple[Sample, ...]]:
        """Return the training samples of ``epoch``, shuffled and cut into mini-batches.

        The order depends on the seed and the epoch only, so resuming at an epoch sees
        the same batches as an uninterrupted run.
        """
        order = list(self.train)
        shuffler = random.Random(self.seed * 1_000_003 + epoch)  # noqa: S311 - as above
        shuffler.shuffle(order)
        size = self.batch_size
        return [tuple(order[start : start + size]) for start in range(0, len(order), size)]


class LinearModel(Component):
    """A linear model ``y = w . x + b``, trained on the mean squared error.

    Args:
        n_features: the number of inputs.
        seed: the seed of the initial weights (small, normal); the bias starts at 0.
    """

    def __init__(self, n_features: int = 8, seed: int = 0) -> None:
        rng = random.Random(seed)  # noqa: S311 - seeded for repeatability, not secrecy
        self.n_features = n_features
        self.weights = [rng.gauss(0.0, 0.1) for _ in range(n_features)]
        self.bias = 0.0

    def predict(self, x: Sequence[float]) -> float:
        """Return the model's prediction for the features ``x``."""
        return _dot(self.weights, x) + self.bias

    def loss(self, samples: Sequence[Sample]) -> float:
        """Return the mean squared error on ``samples`` (NaN for none)."""
        if not samples:
            return math.nan
        return math.fsum((self.predict(x) - y) ** 2 for x, y in samples) / len(samples)

    def gradients(self, samples: Sequence[Sample]) -> tuple[float, list[float]]:
        """Return the loss on ``samples`` and its gradient, weights first, then the bias."""
        grads = [0.0] * (self.n_features + 1)
        total = 0.0
        for x, y in samples:
            error = self.predict(x) - y
            total += error * error
            for index, value in enumerate(x):
                grads[index] += error * value
            grads[-1] += error
        scale = 2.0 / len(samples)
        return total / len(samples), [g * scale for g in grads]

    def parameters(self) -> list[float]:
        """Return the parameters as one flat list: the weights, then the bias."""
        return [*self.weights, self.bias]

    def set_parameters(self, values: Sequence[float]) -> None:
        """Set the parameters from one flat list, as :meth:`parameters` returns it."""
        *self.weights, self.bias = values

    def state_dict(self) -> dict[str, Any]:
        """Return the weights and bias as plain data."""
        return {"weights": list(self.weights), "bias": self.bias}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the weights and bias from :meth:`state_dict`'s result."""
        self.weights = [float(w) for w in state["weights"]]
        self.bias = float(state["bias"])


class SGD(Component):
    """Mini-batch gradient descent with (heavy-ball) momentum.

    Args:
        learning_rate: the step size.
        momentum: the fraction of the previous step carried into the next one.
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity: list[float] = []

    def step(self, parameters: Sequence[float], gradients: Sequence[float]) -> list[float]:
        """Return the parameters after one step against ``gradients``."""
        if len(self.velocity) != len(parameters):
            self.velocity = [0.0] * len(parameters)
        rate, momentum = self.learning_rate, self.momentum
        self.velocity = [
            momentum * v - rate * g for v, g in zip(self.velocity, gradients, strict=True)
        ]
        return [p + v for p, v in zip(parameters, self.velocity, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        """Return the velocity as plain data."""
        return {"velocity": list(self.velocity)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the velocity from :meth:`state_dict`'s result."""
        self.velocity = [float(v) for v in state["velocity"]]


class Trainer(Component):
    """Fits a model to data with an optimizer, notifying callbacks along the way.

    :meth:`fit` is guarded as ``fit``, each epoch as ``epoch`` and each batch as
    ``batch``: callbacks receive ``on_fit_begin``/``on_fit_end``,
    ``on_epoch_begin``/``on_epoch_end`` (with ``{"epoch": n, "loss": ...,
    "val_loss": ...}``) and ``on_batch_begin``/``on_batch_end`` (with ``{"batch": n,
    "loss": ...}``). Epochs and batches are numbered from 1. A callback stops the fit
    early by setting :attr:`stop_training`; the trainer checks it after each epoch.

    Args:
        data: the data set.
        model: the model to train.
        optimizer: the optimizer.
        epochs: the most epochs to train for.
        callbacks: the callback (often a :class:`~cinnamon.CallbackPipeline`) that
            :meth:`run` sets up and fits with.
        run_dir: the folder :meth:`run` writes to; ``None`` makes a fresh one under
            ``run_root`` for each run.
        run_root: the folder fresh run folders go under, relative to the working
            folder or absolute (on a cluster: a folder every worker shares).

    Attributes:
        stop_training: set to ``True`` (by a callback) to stop after the current epoch.
        epoch: the number of the last epoch trained.
        history: the logs of each epoch of the last fit.

    Raises:
        ConfigurationError: the model and the data disagree on the number of features.
            (A registry never gets this far: resolving the configuration fails first,
            on :class:`TrainerConfig`'s condition ``"features match"``.)
        UsageError: ``callbacks`` is not a Callback.
    """

    def __init__(
        self,
        data: SyntheticData,
        model: LinearModel,
        optimizer: SGD,
        *,
        epochs: int = 20,
        callbacks: Callback | None = None,
        run_dir: str | None = None,
        run_root: str = "runs",
    ) -> None:
        if model.n_features != data.n_features:  # built by hand: no condition checked it
            msg = _feature_mismatch(model.n_features, data.n_features)
            raise ConfigurationError([("model.n_features", msg)])
        if callbacks is not None and not isinstance(callbacks, Callback):
            msg = f"callbacks must be a Callback or None, not {callbacks!r:.80}"
            raise UsageError(msg)
        self.data = data
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.callbacks = callbacks
        self.run_dir = run_dir
        self.run_root = run_root
        self.stop_training = False
        self.epoch = 0
        self.history: list[dict[str, Any]] = []

    @property
    def batches_per_epoch(self) -> int:
        """The number of batches in each epoch (read by the progress bar)."""
        return self.data.batches_per_epoch

    def run(self) -> dict[str, Any]:
        """Run the job: make the run folder, save the configuration there, and fit.

        The folder receives ``config.toml`` (the resolved configuration, when the
        trainer was built by a registry) and whatever the callbacks write. The callbacks
        are set up with this trainer and the folder for the fit, and cleared after it.

        Returns:
            The fit's summary (see :meth:`fit`) with the run folder, as an absolute
            path, as ``run_dir``.
        """
        folder = self._make_run_dir()
        self._save_config(folder)
        callbacks = self.callbacks
        if callbacks is not None:
            callbacks.setup(component=self, save_path=folder)
        try:
            summary = self.fit(callbacks=callbacks)
        finally:
            if callbacks is not None:
                callbacks.clear()
        summary["run_dir"] = str(folder.absolute())
        return summary

    @guard("fit")
    def fit(self, callbacks: Callback | None = None) -> dict[str, Any]:
        """Train for up to :attr:`epochs` epochs, or until a callback stops the fit.

        Set ``callbacks`` up first (:meth:`run` does): callbacks that write files or
        stop the fit need to know the trainer and a folder.

        Args:
            callbacks: notified of the fit, each epoch and each batch; ``None`` for none.

        Returns:
            A summary: ``epochs`` trained, the ``initial_loss`` (before training) and
            the last epoch's ``loss`` and ``val_loss``.
        """
        self.stop_training = False
        self.history = []
        summary: dict[str, Any] = {"initial_loss": self.model.loss(self.data.train)}
        for epoch in range(1, self.epochs + 1):
            self.history.append(self.train_epoch(epoch, callbacks=callbacks))
            if self.stop_training:
                break
        last = self.history[-1]
        summary.update(epochs=len(self.history), loss=last["loss"])
        if "val_loss" in last:
            summary["val_loss"] = last["val_loss"]
        return summary

    @guard("epoch")
    def train_epoch(self, epoch: int, callbacks: Callback | None = None) -> dict[str, Any]:
        """Train on every batch once and return the epoch's logs.

        The logs hold the ``epoch``, the mean training ``loss`` over its batches and,
        with a validation set, the ``val_loss`` at the epoch's end.
        """
        total = 0.0
        batches = self.data.batches(epoch)
        for index, batch in enumerate(batches, start=1):
            total += self.train_batch(batch, index, callbacks=callbacks)["loss"] * len(batch)
        self.epoch = epoch
        logs: dict[str, Any] = {"epoch": epoch, "loss": total / len(self.data.train)}
        if self.data.validation:
            logs["val_loss"] = self.model.loss(self.data.validation)
        return logs

    @guard("batch")
    def train_batch(
        self,
        batch: Sequence[Sample],
        index: int,
        callbacks: Callback | None = None,  # noqa: ARG002 - read by the guard
    ) -> dict[str, Any]:
        """Take one optimizer step on ``batch`` and return its logs (``batch``, ``loss``)."""
        loss, gradients = self.model.gradients(batch)
        self.model.set_parameters(self.optimizer.step(self.model.parameters(), gradients))
        return {"batch": index, "loss": loss}

    def state_dict(self) -> dict[str, Any]:
        """Return what resuming needs: the epoch, the model's and the optimizer's state."""
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

    def _make_run_dir(self) -> Path:
        return make_run_dir(self.run_dir, self.run_root)

    def _save_config(self, folder: Path) -> None:
        save_config(self, folder)


def make_run_dir(run_dir: str | None, run_root: str | os.PathLike[str] = "runs") -> Path:
    """The run folder: ``run_dir`` (made if needed), or a fresh one under ``run_root``."""
    if run_dir is not None:
        folder = Path(run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    while True:  # a clash needs two runs in one second drawing the same 24 bits
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        folder = Path(run_root) / name
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return folder


def save_config(component: Component, folder: Path) -> None:
    """Write the resolved configuration ``component`` was built from to ``config.toml``."""
    info = component.__cinnamon__
    if info is None:  # made by hand: there is no configuration to save
        return
    try:
        text = dump(info.config)
    except CinnamonError as error:
        # Saving the configuration is a convenience; it must not stop the run.
        warnings.warn(f"config.toml not written to {folder}: {error}", RuntimeWarning, stacklevel=4)
        return
    (folder / "config.toml").write_text(text, encoding="utf-8")


def _feature_mismatch(model: int, data: int) -> str:
    return f"the model takes {model} features, the data has {data}"


def _dot(left: Sequence[float], right: Sequence[float]) -> float:
    return math.fsum(a * b for a, b in zip(left, right, strict=True))


# -- configurations -----------------------------------------------------------------------


class SyntheticDataConfig(Configuration, component=SyntheticData):
    """Synthetic linear-regression data, split into training and validation samples."""

    n_samples: int = Param(1000, description="how many samples to make", ge=2)
    n_features: int = Param(8, description="features per sample", ge=1)
    noise: float = Param(0.1, description="standard deviation of the target noise", ge=0.0)
    seed: int = Param(0, description="the seed of the samples and their shuffling")
    batch_size: int = Param(32, description="samples per mini-batch", ge=1)
    validation_split: float = Param(
        0.2, description="fraction of the samples held out for validation", ge=0.0, lt=1.0
    )


class LinearModelConfig(Configuration, component=LinearModel):
    """A linear model trained on the mean squared error."""

    n_features: int = Param(8, description="the number of inputs (as the data has)", ge=1)
    seed: int = Param(0, description="the seed of the initial weights")


class SGDConfig(Configuration, component=SGD):
    """Mini-batch gradient descent with momentum."""

    learning_rate: float = Param(0.01, description="the step size", gt=0.0)
    momentum: float = Param(0.9, description="fraction of the previous step kept", ge=0.0, lt=1.0)


class TrainerConfig(Configuration, component=Trainer):
    """A training job: data, model, optimizer, epochs and callbacks."""

    data: Ref[SyntheticDataConfig] = Param(
        default_factory=SyntheticDataConfig, description="the data set"
    )
    model: Ref[LinearModelConfig] = Param(
        default_factory=LinearModelConfig, description="the model to train"
    )
    optimizer: Ref[SGDConfig] = Param(default_factory=SGDConfig, description="the optimizer")
    epochs: int = Param(20, description="the most epochs to train for", ge=1)
    callbacks: Ref[Configuration] | None = Param(
        None, description="the callbacks of the fit (often a CallbackPipeline)"
    )
    run_dir: str | None = Param(
        None, description="the run folder (default: a fresh one under run_root)", min_length=1
    )
    run_root: str = Param(
        "runs",
        description="where fresh run folders go (absolute: shared storage for a cluster)",
        min_length=1,
    )

    @field_validator("run_dir", "run_root")
    @classmethod
    def _stays_below(cls, run_dir: str | None) -> str | None:
        # A configuration may come from someone else's file: it must not send the
        # run's files up and out of the working folder (an absolute path is explicit).
        if run_dir is not None and ".." in re.split(r"[\\/]", run_dir):
            msg = f"{run_dir!r} climbs out with '..'; name a folder below the working one"
            raise ValueError(msg)
        return run_dir

    @condition("features match")
    def features_match(self) -> bool:
        """The model takes as many features as the data has (checked when resolved)."""
        model, data = self.model, self.data
        if (
            isinstance(model, LinearModelConfig)
            and isinstance(data, SyntheticDataConfig)
            and model.n_features != data.n_features
        ):
            raise ValueError(_feature_mismatch(model.n_features, data.n_features))
        return True
