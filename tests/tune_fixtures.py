"""Components for the tuning tests.

Importable as the package root ``tune_fixtures`` (pytest puts ``tests/`` on ``sys.path``,
and spawned workers inherit it), so worker processes can rebuild them.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from cinnamon import (
    Callback,
    Choice,
    Component,
    Configuration,
    IntRange,
    LogUniform,
    Param,
    Ref,
    RegistrationKey,
    Registry,
    Uniform,
    condition,
    guard,
)
from cinnamon.callbacks import PruningConfig


class Bowl(Component):
    """A bowl-shaped loss around (0.3, 4): the smaller, the better."""

    def __init__(
        self,
        x: float,
        y: int,
        *,
        fail_below: float | None = None,
        die_below: float | None = None,
        sleep: float = 0.0,
        marks: str | None = None,
    ) -> None:
        self.x, self.y = x, y
        self.fail_below, self.die_below, self.sleep, self.marks = (
            fail_below,
            die_below,
            sleep,
            marks,
        )

    def run(self) -> dict[str, Any]:
        if self.marks is not None:  # one file per trial that really ran
            Path(self.marks, f"{self.x!r}-{self.y}-{uuid.uuid4().hex}").touch()
        if self.fail_below is not None and self.x < self.fail_below:
            msg = f"x={self.x:.3f} is too small"
            raise ValueError(msg)
        if self.die_below is not None and self.x < self.die_below:
            os._exit(1)  # the worker dies without a word
        time.sleep(self.sleep)
        return {"loss": (self.x - 0.3) ** 2 + (self.y - 4) ** 2 / 10, "x": self.x}

    def score(self) -> float:
        return -((self.x - 0.3) ** 2)

    def text(self) -> str:
        return "not a number"


class BowlConfig(Configuration, component=Bowl):
    x: float = Param(0.5, search=Uniform(0.0, 1.0))
    y: int = Param(3, search=IntRange(1, 9, step=2))
    fail_below: float | None = None
    die_below: float | None = None
    sleep: float = 0.0
    marks: str | None = None


class Shallow(Component):
    def __init__(self, depth: int) -> None:
        self.depth = depth


class ShallowConfig(Configuration, component=Shallow):
    depth: int = Param(1, search=IntRange(1, 3))


class Deep(Component):
    def __init__(self, depth: int, rate: float) -> None:
        self.depth, self.rate = depth, rate


class DeepConfig(Configuration, component=Deep):
    depth: int = Param(10, search=IntRange(10, 20))
    rate: float = Param(0.01, search=LogUniform(1e-4, 1e-1))


class Net(Component):
    """Holds a body of one of two kinds; its loss depends on the body's numbers."""

    def __init__(self, body: Shallow | Deep, width: int) -> None:
        self.body, self.width = body, width

    def run(self) -> dict[str, Any]:
        return {"loss": float(self.body.depth + self.width), "kind": type(self.body).__name__}


class NetConfig(Configuration, component=Net):
    body: Ref[ShallowConfig] | Ref[DeepConfig] = Param(
        RegistrationKey("shallow"),
        search=Choice([RegistrationKey("shallow"), RegistrationKey("deep")]),
    )
    width: int = Param(4, search=Choice([4, 8, 16]))

    @condition("deep nets are narrow")
    def deep_is_narrow(self) -> bool:
        if isinstance(self.body, DeepConfig) and self.width > 8:
            msg = f"a deep body takes a width of at most 8, not {self.width}"
            raise ValueError(msg)
        return True


class Fitter(Component):
    """A training loop: each epoch's val_loss falls towards ``floor`` (lower rate, slower)."""

    def __init__(self, rate: float, epochs: int, callbacks: Callback | None = None) -> None:
        self.rate, self.epochs, self.callbacks = rate, epochs, callbacks
        self.stop_training = False

    def run(self) -> dict[str, Any]:
        if self.callbacks is not None:
            self.callbacks.setup(component=self)
        return self.fit(callbacks=self.callbacks)

    @guard("fit")
    def fit(self, callbacks: Callback | None = None) -> dict[str, Any]:
        logs: dict[str, Any] = {}
        for epoch in range(1, self.epochs + 1):
            logs = self.epoch(epoch, callbacks=callbacks)
            if self.stop_training:
                break
        return {"epochs": logs["epoch"], "val_loss": logs["val_loss"]}

    @guard("epoch")
    def epoch(self, epoch: int, callbacks: Callback | None = None) -> dict[str, Any]:
        return {"epoch": epoch, "val_loss": 1.0 / (1.0 + self.rate * epoch)}


class FitterConfig(Configuration, component=Fitter):
    rate: float = Param(1.0, search=Choice([10.0, 0.01, 0.02, 0.03, 0.04, 0.05]))
    epochs: int = 8
    callbacks: Ref[Configuration] | None = Param(default_factory=PruningConfig)


class Needy(Configuration):
    """Fields without defaults, for files that only declare their search."""

    size: int
    kind: str


def registry() -> Registry:
    """A registry with the fixtures under their usual keys."""
    found = Registry()
    found.register(BowlConfig(), name="bowl")
    found.register(ShallowConfig(), name="shallow")
    found.register(DeepConfig(), name="deep")
    found.register(NetConfig(), name="net")
    found.register(FitterConfig(), name="fitter")
    return found


def tune_in_this_process(results: str, trials: int, seed: int) -> list[list[Any]]:
    """What a separate process computes: each trial's number and overrides, for comparing."""
    import cinnamon

    report = cinnamon.tune(
        registry(), "net", metric="loss", trials=trials, seed=seed, results=results,
        executor="local", workers=1, progress=False,
    )  # fmt: skip
    return [[row["trial"], row["overrides"], row["status"]] for row in report.rows]
