"""Registration marks: decorators that say what to register, for a registry to collect."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import DEFAULT_NAMESPACE, RegistrationKey
from cinnamon.errors import UsageError

__all__ = ["Mark", "marked_in", "registration"]

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__cinnamon_registrations__"


@dataclass(frozen=True, slots=True)
class Mark:
    """A registration waiting to be collected: its key and how to make its config."""

    key: RegistrationKey
    function: Callable[..., Any]
    component: Callable[..., Any] | None
    description: str | None
    owner: type[Configuration] | None = None

    def make(self) -> Configuration:
        """Call the marked function (bound to its class, for a classmethod)."""
        made = self.function(self.owner) if self.owner is not None else self.function()
        if not isinstance(made, Configuration):
            where = getattr(self.function, "__qualname__", repr(self.function))
            msg = (
                f"{str(self.key)!r}: {where}() must return a Configuration, "
                f"got {type(made).__name__}"
            )
            raise UsageError(msg)
        return made


def registration(
    name: str,
    *,
    tags: Iterable[str] = (),
    namespace: str = DEFAULT_NAMESPACE,
    component: Callable[..., Any] | None = None,
    description: str | None = None,
) -> Callable[[F], F]:
    """Mark a function, or a classmethod of a configuration, as a registration.

    The function takes no arguments (a classmethod takes its class) and returns the
    configuration to register. Marking registers nothing by itself: a registry picks the
    marks up with :meth:`Registry.collect` (a module, class or function) or
    :meth:`Registry.discover` (a whole package). A function may carry several marks.
    """
    key = RegistrationKey(name, tags, namespace)

    def mark(function: F) -> F:
        target = function.__func__ if isinstance(function, classmethod) else function
        if not callable(target):
            msg = f"@registration({name!r}) decorates functions and classmethods, not {target!r}"
            raise UsageError(msg)
        marks = target.__dict__.setdefault(_ATTRIBUTE, [])
        marks.append((key, component, description))
        return function

    return mark


def marked_in(source: object) -> list[Mark]:
    """Return the marks on ``source``: a marked function, a class, or a module."""
    if isinstance(source, ModuleType):
        found = []
        for value in vars(source).values():
            if getattr(value, "__module__", None) != source.__name__:
                continue  # imported from elsewhere: collected with its own module
            if isinstance(value, type) or inspect.isfunction(value):
                found.extend(marked_in(value))
        return found
    if isinstance(source, type):
        return list(_class_marks(source))
    marks = getattr(source, _ATTRIBUTE, None)
    if marks is None:
        msg = f"{source!r} is not a module, a class, or a function marked with @registration"
        raise UsageError(msg)
    return [Mark(key, source, component, text) for key, component, text in marks]  # type: ignore[arg-type]


def _class_marks(cls: type) -> Iterator[Mark]:
    for value in vars(cls).values():
        if isinstance(value, classmethod):
            function = value.__func__
            owner = cls if issubclass(cls, Configuration) else None
            for key, component, text in getattr(function, _ATTRIBUTE, ()):
                if owner is None:
                    where = function.__qualname__
                    msg = f"@registration on {where}: the class is not a Configuration"
                    raise UsageError(msg)
                yield Mark(key, function, component, text, owner)
        elif isinstance(value, staticmethod):
            function = value.__func__
            for key, component, text in getattr(function, _ATTRIBUTE, ()):
                yield Mark(key, function, component, text)
