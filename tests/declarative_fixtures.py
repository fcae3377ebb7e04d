"""Configurations and components for the declarative-file tests.

Importable as the package root ``declarative_fixtures`` (pytest puts ``tests/`` on
``sys.path``), so files can name these classes by import path with
``allow=["declarative_fixtures"]``.
"""

from __future__ import annotations

from typing import Any

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey

ROOT = "declarative_fixtures"


class MLP(Component):
    def __init__(self, hidden: int, activation: str, dropout: float) -> None:
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout


class MLPConfig(Configuration, component=MLP):
    """A small network."""

    hidden: int = Param(32, ge=1, description="hidden units")
    activation: str = "relu"
    dropout: float = Param(0.0, ge=0.0, le=1.0)


class WideMLP(MLP):
    """The same network, built another way."""


class SGD(Component):
    def __init__(self, lr: float, momentum: float) -> None:
        self.lr = lr
        self.momentum = momentum


class SGDConfig(Configuration, component=SGD):
    """Stochastic gradient descent."""

    lr: float = Param(0.1, gt=0.0)
    momentum: float = 0.0


class Loader(Component):
    def __init__(self, batch: int) -> None:
        self.batch = batch


class LoaderConfig(Configuration, component=Loader):
    """Batches of data."""

    batch: int = Param(32, ge=1)


class EarlyStop(Component):
    def __init__(self, patience: int) -> None:
        self.patience = patience


class EarlyStopConfig(Configuration, component=EarlyStop):
    """Stop when the loss stops improving."""

    patience: int = Param(3, ge=0)


class Trainer(Component):
    def __init__(
        self,
        *,
        epochs: int,
        model: Any,
        optimizer: Any,
        loader: Any,
        callbacks: list[Any],
        weights: dict[str, float],
        note: str | None,
    ) -> None:
        self.epochs = epochs
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.callbacks = callbacks
        self.weights = weights
        self.note = note


class TrainerConfig(Configuration, component=Trainer):
    """Trains a model."""

    epochs: int = Param(ge=1, description="passes over the data")
    model: Ref[MLPConfig] = RegistrationKey("mlp", namespace="demo")
    optimizer: Ref[SGDConfig] = Param(default_factory=SGDConfig)
    loader: Ref[LoaderConfig] | None = None
    callbacks: list[Ref[EarlyStopConfig]] = Param(default_factory=list)
    weights: dict[str, float] = Param(default_factory=dict)
    note: str | None = None


class Settings(Configuration):
    """Plain values of many kinds, and no component."""

    text: str = ""
    number: int = 0
    ratio: float = 0.0
    flag: bool = False
    numbers: list[int] = Param(default_factory=list)
    names: dict[str, str] = Param(default_factory=dict)
    table: list[dict[str, float]] = Param(default_factory=list)
    anything: Any = None
    maybe: int | None = None
    child: Ref[MLPConfig] | None = None
    children: list[MLPConfig] = Param(default_factory=list)
    pair: tuple[int, str] = (0, "")


class Chain(Component):
    def __init__(self, depth: int, child: Any) -> None:
        self.depth = depth
        self.child = child


class ChainConfig(Configuration, component=Chain):
    """A link of a chain of references."""

    depth: int = 0
    child: Ref[ChainConfig] | None = None


class NotAConfiguration:
    """A plain class, for errors."""
