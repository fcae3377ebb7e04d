"""Components for the sweep and state tests.

Importable as the package root ``sweep_fixtures`` (pytest puts ``tests/`` on
``sys.path``, and spawned workers inherit it), so worker processes can rebuild them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry
from cinnamon._core.conditions import condition


class Adder(Component):
    """Adds two numbers; fails (on ``a``), dies (on ``a + b``) or dawdles when told to."""

    def __init__(
        self,
        a: int,
        b: int,
        *,
        fail_on: int | None = None,
        die_on: int | None = None,
        sleep: float = 0.0,
        chatty: bool = False,
    ) -> None:
        self.a, self.b = a, b
        self.fail_on, self.die_on, self.sleep, self.chatty = fail_on, die_on, sleep, chatty
        self.lock = threading.Lock()  # a lock does not pickle, so neither does an Adder

    def run(self) -> dict[str, Any]:
        if self.chatty:
            print(f"adding {self.a} and {self.b}")
        if self.a == self.fail_on:
            msg = f"a={self.a} is unlucky"
            raise ValueError(msg)
        if self.a + self.b == self.die_on:
            os._exit(1)  # the worker process dies without a word
        time.sleep(self.sleep)
        return {"sum": self.a + self.b, "pair": (self.a, self.b)}

    def product(self) -> int:
        return self.a * self.b

    def nothing(self) -> None:
        return None

    def odd(self) -> object:
        return {1, 2, 3} if self.a == 1 else object()


class AdderConfig(Configuration, component=Adder):
    """Two numbers to add."""

    a: int = Param(0, variants=[1, 2, 3])
    b: int = Param(10, variants=[10, 20])
    fail_on: int | None = None
    die_on: int | None = None
    sleep: float = 0.0
    chatty: bool = False


class PickyConfig(AdderConfig):
    """An adder whose condition refuses every variant."""

    @condition("never")
    def never(self) -> bool:
        msg = f"a={self.a} and b={self.b} are never good enough"
        raise ValueError(msg)


class HalfConfig(AdderConfig):
    """An adder that only takes b=10."""

    @condition("b is ten")
    def b_is_ten(self) -> bool:
        return self.b == 10


class Holder(Component):
    def __init__(self, adder: Adder, scale: int) -> None:
        self.adder = adder
        self.scale = scale

    def run(self) -> int:
        return self.scale * (self.adder.a + self.adder.b)


class HolderConfig(Configuration, component=Holder):
    adder: Ref[AdderConfig] = Param(default_factory=AdderConfig)
    scale: int = Param(1, variants=[1, 2])


def registry() -> Registry:
    """A registry with the fixtures under their usual keys."""
    found = Registry()
    found.register(AdderConfig(), name="adder")
    found.register(PickyConfig(), name="picky")
    found.register(HalfConfig(), name="half")
    found.register(AdderConfig(sleep=0.3), name="slow")
    found.register(HolderConfig(adder=RegistrationKey("adder")), name="holder")
    return found


# -- state ------------------------------------------------------------------------------------


class Counter(Component):
    """A component with a state."""

    def __init__(self, start: int = 0) -> None:
        self.count = start

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.count = int(state["count"])


class CounterConfig(Configuration, component=Counter):
    start: int = 0


class Stateless(Component):
    def __init__(self, label: str = "x") -> None:
        self.label = label


class StatelessConfig(Configuration, component=Stateless):
    label: str = "x"


class Team(Component):
    """A parent with state of its own, children in a list, and a shared child."""

    def __init__(self, lead: Counter, members: list[Any], spare: Counter, name: str) -> None:
        self.lead = lead
        self.members = members
        self.spare = spare
        self.name = name
        self.log: list[str] = []
        self.loaded: list[str] = []

    def state_dict(self) -> dict[str, Any]:
        return {"log": list(self.log)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        # Children are loaded first, so their state is there to read.
        self.loaded.append(f"lead={self.lead.count}")
        self.log = list(state["log"])


class TeamConfig(Configuration, component=Team):
    lead: Ref[CounterConfig] = Param(default_factory=CounterConfig)
    members: list[Ref[Configuration]] = Param(default_factory=list)
    spare: Ref[CounterConfig] = Param(default_factory=CounterConfig)
    name: str = "team"


class Opaque(Component):
    """A component whose state JSON cannot hold."""

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self.blob: Any = {1, 2, 3}

    def state_dict(self) -> dict[str, Any]:
        return {"blob": self.blob}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.blob = state["blob"]


class OpaqueConfig(Configuration, component=Opaque):
    size: int = 1


class EmptyGridConfig(AdderConfig):
    """An adder with an axis that has no values: a grid of nothing."""

    a: int = Param(0, variants=[])


class Maybe(Component):
    def __init__(self, note: str | None = "n") -> None:
        self.note = note


class MaybeConfig(Configuration, component=Maybe):
    """A None TOML cannot write (the default is not None)."""

    note: str | None = "n"


class TwiceConfig(AdderConfig):
    """An adder whose first two variants are the same configuration."""

    a: int = Param(0, variants=[1, 1, 2])
    b: int = 10


class ManyConfig(AdderConfig):
    """An adder with forty quick variants: enough for them to travel in chunks."""

    a: int = Param(0, variants=list(range(40)))
    b: int = 10
