"""Static checks of the public types, run by ``mypy --strict`` (``nox -s typing``).

Nothing here needs to run; pytest imports it only to make sure it stays importable.
"""

from __future__ import annotations

import random
from collections.abc import Coroutine
from typing import Any

from typing_extensions import assert_type

from cinnamon import (
    Callback,
    CallbackPipeline,
    Component,
    Configuration,
    IntRange,
    Param,
    Ref,
    RegistrationKey,
    Registry,
    Results,
    Tuning,
    Uniform,
    guard,
    results,
    tune,
)


class Engine(Component):
    def __init__(self, power: int) -> None:
        self.power = power


class EngineConfig(Configuration, component=Engine):
    power: int = Param(100, ge=1)


class CarConfig(Configuration):
    engine: Ref[EngineConfig] = RegistrationKey("engine")


def check_build(registry: Registry) -> None:
    assert_type(registry.build("engine", Engine), Engine)
    assert_type(registry.build(RegistrationKey("engine")), Any)
    assert_type(registry.build(EngineConfig(), Engine), Engine)
    assert_type(registry.resolve("engine"), Configuration)
    assert_type(registry.register(EngineConfig(), name="engine", replace=True), RegistrationKey)
    assert_type(EngineConfig.default(), EngineConfig)
    assert_type(CarConfig().engine, EngineConfig | RegistrationKey)


@guard("fit")
def fit(epochs: int, callbacks: Callback | None = None) -> str:
    return f"{epochs} epochs"


class Trainer:
    @guard()
    def train(self, steps: int, callbacks: Callback | None = None) -> float:
        return steps * 0.5

    @classmethod
    @guard("make")
    def make(cls, callbacks: Callback | None = None) -> Trainer:
        return cls()

    @staticmethod
    @guard("check")
    def check(flag: bool, callbacks: Callback | None = None) -> bool:
        return flag


@guard("serve")
async def serve(port: int, callbacks: Callback | None = None) -> int:
    return port


def check_guard() -> None:
    assert_type(fit(3), str)
    assert_type(fit(3, callbacks=CallbackPipeline([])), str)
    assert_type(Trainer().train(2), float)
    assert_type(Trainer.make(), Trainer)
    assert_type(Trainer.check(True), bool)
    coroutine = serve(80)
    checked = assert_type(coroutine, Coroutine[Any, Any, int])
    checked.close()  # wanted for its type only


def check_tune(registry: Registry) -> None:
    report = assert_type(tune(registry, "scorer", metric="loss"), Tuning)
    best = report.best()
    assert_type(best.value, float)
    assert_type(best.tree, Configuration)
    assert_type(report.svg(), str)
    rng = random.Random(0)  # noqa: S311 - a seeded draw, not a secret
    assert_type(Uniform(0.0, 1.0).sample(rng), float)
    assert_type(IntRange(1, 3).sample(rng), int)


def check_results(path: str) -> None:
    table = results(path)
    assert_type(table, Results)
    assert_type(table.where("status=ok").sort("-val_loss"), Results)
    assert_type(table.rows, tuple[dict[str, Any], ...])
    assert_type(table.to_csv(), str)
