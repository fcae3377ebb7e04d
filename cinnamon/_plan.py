"""Build plans: a resolved tree compiled once into a flat list of constructor calls.

Compiling does all the thinking (which values are components, which constructors accept
which fields, which nodes are shared); running a plan is a loop of constructor calls in
children-first order, so every build after the first costs little more than the calls.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from operator import itemgetter
from typing import Any, final

from cinnamon._component import BuildInfo, Component
from cinnamon._configuration import Configuration
from cinnamon._resolve import origin_of, registration_of
from cinnamon._tree import TreePath, Walk, dynamic_fields, join, run
from cinnamon.errors import UsageError

__all__ = ["Plan", "add_note", "compile_plan"]

_set = object.__setattr__  # also bypasses a component's own (say, freezing) __setattr__

# How a step's value for one parameter is put together from earlier results.
Assemble = Callable[[list[Any]], Any]
# One constructor call: factory, fixed keyword arguments, assembled ones, origin.
Step = tuple[Callable[..., Any], dict[str, Any], tuple[tuple[str, Assemble], ...], BuildInfo]


@final
class _Constant:
    """A value that needs no building (it holds no component)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@final
class Plan:
    """The steps that build one resolved tree, children first; the last is the root."""

    __slots__ = ("root", "stamp", "steps")

    def __init__(self, root: Configuration, steps: list[Step], stamp: object) -> None:
        self.root = root
        self.steps = steps
        self.stamp = stamp

    def run(self) -> Any:
        """Build a fresh tree and return its root."""
        results: list[Any] = []
        append = results.append
        try:
            for factory, fixed, assembled, info in self.steps:
                if assembled:
                    arguments = fixed.copy()
                    for name, assemble in assembled:
                        arguments[name] = assemble(results)
                    built = factory(**arguments)
                else:
                    built = factory(**fixed)
                if isinstance(built, Component):
                    # Not built.__dict__[...]: on CPython 3.11+ touching __dict__
                    # directly slows every later attribute read on the object.
                    _set(built, "__cinnamon__", info)
                append(built)
        except Exception as error:
            factory, _, _, info = self.steps[len(results)]
            where = f"{info.path!r}" + (f" (registration {str(info.key)!r})" if info.key else "")
            add_note(error, f"cinnamon: raised while building {where} with {_name(factory)}")
            raise
        return results[-1]


def compile_plan(root: Configuration, label: str, stamp: object = None) -> Plan:
    """Compile the resolved tree under ``root`` (whose path is ``label``) into a plan.

    Raises:
        UsageError: the root names no component, or a component's constructor does not
            take its configuration's fields.
    """
    if _factory(root) is None:
        origin = origin_of(root)
        what = f"registration {str(origin)!r}" if origin else "the configuration"
        msg = (
            f"{what} ({type(root).__name__}) names no component to build; bind one with "
            "register(..., component=...) or class Config(Configuration, component=...)"
        )
        raise UsageError(msg)
    compiler = _Compiler()
    run(compiler.node(root, TreePath(None, label)))
    return Plan(root, compiler.steps, stamp)


class _Compiler:
    __slots__ = ("done", "steps")

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.done: dict[int, _Constant | Assemble] = {}  # id(node) -> how to get it

    def node(self, config: Configuration, path: TreePath) -> Walk:
        seen = self.done.get(id(config))
        if seen is not None:  # a shared node: build it once, hand it out everywhere
            return seen
        factory = _factory(config)
        if factory is None:  # a plain group of settings: passed on as it is
            return _Constant(config)
        fixed: dict[str, Any] = dict(config.__dict__)
        assembled: list[tuple[str, Assemble]] = []
        for name in dynamic_fields(type(config)):
            part = yield from self.value(fixed[name], join(path, name))
            if not isinstance(part, _Constant):
                del fixed[name]
                assembled.append((name, part))
        _check_signature(factory, config, path)
        self.steps.append(
            (factory, fixed, tuple(assembled), BuildInfo(origin_of(config), config, path))
        )
        got: Assemble = itemgetter(len(self.steps) - 1)
        self.done[id(config)] = got
        return got

    def value(self, value: Any, path: TreePath) -> Walk:
        if isinstance(value, Configuration):
            return (yield self.node(value, path))
        if isinstance(value, (list, tuple)):
            parts = []
            for index, item in enumerate(value):
                parts.append((yield from self.value(item, join(path, index))))
            return _sequence(value, parts)
        if isinstance(value, dict):
            entries = {}
            for name, item in value.items():
                entries[name] = yield from self.value(item, join(path, str(name)))
            return _mapping(value, entries)
        return _Constant(value)


def _factory(config: Configuration) -> Callable[..., Any] | None:
    entry = registration_of(config)
    return type(config).__component__ if entry is None else entry.component


def _sequence(original: list[Any] | tuple[Any, ...], parts: list[Any]) -> _Constant | Assemble:
    if all(isinstance(part, _Constant) for part in parts):
        return _Constant(original)
    kind = tuple if isinstance(original, tuple) else list
    getters = [_getter(part) for part in parts]
    return lambda results: kind([get(results) for get in getters])


def _mapping(original: dict[Any, Any], entries: dict[Any, Any]) -> _Constant | Assemble:
    if all(isinstance(part, _Constant) for part in entries.values()):
        return _Constant(original)
    getters = [(name, _getter(part)) for name, part in entries.items()]
    return lambda results: {name: get(results) for name, get in getters}


def _getter(part: _Constant | Assemble) -> Assemble:
    if isinstance(part, _Constant):
        value = part.value
        return lambda _: value
    return part


_accepted: dict[tuple[Callable[..., Any], frozenset[str]], None] = {}


def _check_signature(factory: Callable[..., Any], config: Configuration, path: TreePath) -> None:
    """Refuse, once per pair, a constructor that cannot take its configuration's fields."""
    fields = frozenset(type(config).model_fields)
    with contextlib.suppress(TypeError):  # an unhashable callable is checked every time
        if (factory, fields) in _accepted:
            return
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature to check
        _remember(factory, fields)
        return
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if not any(p.kind is p.VAR_KEYWORD for p in parameters):
        extra = sorted(fields - names)
        if extra:
            msg = (
                f"{path}: {_name(factory)} does not take {', '.join(map(repr, extra))}, "
                f"which {type(config).__name__} passes to it"
            )
            raise UsageError(msg)
    missing = sorted(
        p.name
        for p in parameters
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in fields
    )
    if missing:
        msg = (
            f"{path}: {_name(factory)} requires {', '.join(map(repr, missing))}, "
            f"which {type(config).__name__} does not have"
        )
        raise UsageError(msg)
    _remember(factory, fields)


def _remember(factory: Callable[..., Any], fields: frozenset[str]) -> None:
    with contextlib.suppress(TypeError):  # unhashable: not remembered
        _accepted[factory, fields] = None


def _name(factory: Callable[..., Any]) -> str:
    return f"{getattr(factory, '__qualname__', repr(factory))}()"


def add_note(error: BaseException, note: str) -> None:
    """Attach ``note`` to ``error`` (shown under its traceback), on every Python."""
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # pragma: no cover - Python 3.10 has no add_note; keep the note where 3.11 looks
        notes = getattr(error, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
            error.__notes__ = notes  # type: ignore[attr-defined]
        notes.append(note)
