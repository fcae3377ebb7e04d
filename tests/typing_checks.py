"""Static checks of the public types, run by ``mypy --strict`` (``nox -s typing``).

Nothing here needs to run; pytest imports it only to make sure it stays importable.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry


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
