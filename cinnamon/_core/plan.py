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
from typing import TYPE_CHECKING, Any, final

from cinnamon._core.component import BuildInfo, Component
from cinnamon._core.configuration import Configuration
from cinnamon._core.resolve import origin_of, registration_of
from cinnamon._core.tree import (
    DEEP,
    KINDS,
    MAPPING,
    NODE,
    SEQUENCE,
    TreePath,
    Walk,
    dynamic_fields,
    kind_of,
    run,
    walk,
)
from cinnamon.errors import UsageError, add_note

if TYPE_CHECKING:
    from cinnamon._core.registry import Registration

__all__ = ["Plan", "compile_plan"]

_set = object.__setattr__  # also bypasses a component's own (say, freezing) __setattr__

# How a step's value for one parameter is put together from earlier results.
Assemble = Callable[[list[Any]], Any]
# One constructor call: factory, fixed keyword arguments, assembled ones, origin.
Step = tuple[Callable[..., Any], dict[str, Any], tuple[tuple[str, Assemble], ...], BuildInfo]


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
    _check_root(root)
    compiler = _Compiler()

    def fast() -> Any:
        return compiler.node(root, TreePath(None, label), 0)

    def slow() -> Walk:
        compiler.reset()  # the failed attempt's steps are dropped
        return compiler.walk_node(root, TreePath(None, label))

    walk(fast, slow)
    return Plan(root, compiler.steps, stamp)


def _check_root(root: Configuration) -> None:
    if _factory(root, registration_of(root)) is None:
        origin = origin_of(root)
        what = f"registration {str(origin)!r}" if origin else "the configuration"
        msg = (
            f"{what} ({type(root).__name__}) names no component to build; bind one with "
            "register(..., component=...) or class Config(Configuration, component=...)"
        )
        raise UsageError(msg)


# How the compiler hands back a value: _KEEP (pass the value as it is: it holds no
# component), the index of the step that builds it (a component), or an Assemble that
# puts it together from the results of earlier steps (a list of components, say).
_KEEP: Any = object()
Part = Any


class _Compiler:
    """One compilation's steps, and its two walks.

    ``node`` and ``value`` recurse; ``walk_node`` and ``walk_value`` do the same as
    generators, for branches deeper than ``DEEP`` (see ``cinnamon._core.tree``). The two must
    stay in step; both end a node with ``_step``. As in resolving, a value's path is
    made only when a node or a container in it needs one.
    """

    __slots__ = ("done", "steps")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.steps: list[Step] = []
        self.done: dict[int, int] = {}  # id(node) -> its step: shared nodes are built once

    # -- the recursive walk ------------------------------------------------------------

    def node(self, config: Configuration, path: TreePath, depth: int) -> Part:
        if depth > DEEP:  # deep enough: the generators take this branch from here
            return run(self.walk_node(config, path))
        seen = self.done.get(id(config))
        if seen is not None:  # a shared node: build it once, hand it out everywhere
            return seen
        origin = registration_of(config)
        factory = _factory(config, origin)
        if factory is None:  # a plain group of settings: passed on as it is
            return _KEEP
        fixed: dict[str, Any] = config.__dict__.copy()
        assembled: list[tuple[str, Assemble]] = []
        for name in dynamic_fields(type(config)):
            part = self.value(fixed[name], path, name, depth)
            if part is not _KEEP:
                del fixed[name]
                assembled.append((name, itemgetter(part) if type(part) is int else part))
        return self._step(
            config, path, origin=origin, factory=factory, fixed=fixed, assembled=assembled
        )

    def value(self, value: Any, parent: TreePath, part: str | int, depth: int) -> Part:
        kind = KINDS.get(type(value)) or kind_of(value)
        if kind == NODE:
            return self.node(value, TreePath(parent, part), depth + 1)
        if kind == SEQUENCE and value:
            path = TreePath(parent, part)
            parts = []
            for index, item in enumerate(value):
                parts.append(self.value(item, path, index, depth))
            return _sequence(value, parts)
        if kind == MAPPING and value:
            path = TreePath(parent, part)
            entries = {}
            for name, item in value.items():
                entries[name] = self.value(item, path, str(name), depth)
            return _mapping(value, entries)
        return _KEEP

    # -- the same walk as generators, for deep branches --------------------------------

    def walk_node(self, config: Configuration, path: TreePath) -> Walk:
        seen = self.done.get(id(config))
        if seen is not None:
            return seen
        origin = registration_of(config)
        factory = _factory(config, origin)
        if factory is None:
            return _KEEP
        fixed: dict[str, Any] = config.__dict__.copy()
        assembled: list[tuple[str, Assemble]] = []
        for name in dynamic_fields(type(config)):
            part = yield from self.walk_value(fixed[name], path, name)
            if part is not _KEEP:
                del fixed[name]
                assembled.append((name, itemgetter(part) if type(part) is int else part))
        return self._step(
            config, path, origin=origin, factory=factory, fixed=fixed, assembled=assembled
        )

    def walk_value(self, value: Any, parent: TreePath, part: str | int) -> Walk:
        kind = KINDS.get(type(value)) or kind_of(value)
        if kind == NODE:
            return (yield self.walk_node(value, TreePath(parent, part)))
        if kind == SEQUENCE and value:
            path = TreePath(parent, part)
            parts = []
            for index, item in enumerate(value):
                parts.append((yield from self.walk_value(item, path, index)))
            return _sequence(value, parts)
        if kind == MAPPING and value:
            path = TreePath(parent, part)
            entries = {}
            for name, item in value.items():
                entries[name] = yield from self.walk_value(item, path, str(name))
            return _mapping(value, entries)
        return _KEEP

    # -- shared by both walks ----------------------------------------------------------

    def _step(
        self,
        config: Configuration,
        path: TreePath,
        *,
        origin: Registration | None,
        factory: Callable[..., Any],
        fixed: dict[str, Any],
        assembled: list[tuple[str, Assemble]],
    ) -> int:
        """Add the step that builds ``config``; return its index."""
        try:
            checked = (factory, type(config)) in _accepted
        except TypeError:  # an unhashable factory is checked every time
            checked = False
        if not checked:
            _check_signature(factory, config, path)
        key = None if origin is None else origin.key
        self.steps.append((factory, fixed, tuple(assembled), BuildInfo(key, config, path)))
        index = len(self.steps) - 1
        self.done[id(config)] = index
        return index


def _factory(config: Configuration, origin: Registration | None) -> Callable[..., Any] | None:
    return type(config).__component__ if origin is None else origin.component


def _sequence(original: list[Any] | tuple[Any, ...], parts: list[Part]) -> Part:
    if parts.count(_KEEP) == len(parts):  # nothing to build: the list as it is
        return _KEEP
    kind = tuple if isinstance(original, tuple) else list
    for part in parts:
        if type(part) is not int:
            break
    else:  # components only, the usual case: take them straight from the results
        indices = tuple(parts)
        if kind is tuple:
            return lambda results: tuple([results[index] for index in indices])
        return lambda results: [results[index] for index in indices]
    getters = [_getter(part, item) for part, item in zip(parts, original, strict=True)]
    return lambda results: kind([get(results) for get in getters])


def _mapping(original: dict[Any, Any], entries: dict[Any, Part]) -> Part:
    parts = list(entries.values())
    if parts.count(_KEEP) == len(parts):
        return _KEEP
    getters = [(name, _getter(part, original[name])) for name, part in entries.items()]
    return lambda results: {name: get(results) for name, get in getters}


def _getter(part: Part, value: Any) -> Assemble:
    """How to get a value at run time from its part (``value`` is the original)."""
    if part is _KEEP:
        return lambda _: value
    if type(part) is int:
        return itemgetter(part)
    getter: Assemble = part
    return getter


# (factory, configuration class) pairs whose signatures have been checked.
_accepted: dict[tuple[Callable[..., Any], type[Configuration]], None] = {}


def _check_signature(factory: Callable[..., Any], config: Configuration, path: TreePath) -> None:
    """Refuse a constructor that cannot take its configuration's fields; else remember it."""
    fields = frozenset(type(config).model_fields)
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature to check
        _remember(factory, type(config))
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
    _remember(factory, type(config))


def _remember(factory: Callable[..., Any], cls: type[Configuration]) -> None:
    with contextlib.suppress(TypeError):  # unhashable: not remembered
        _accepted[factory, cls] = None


def _name(factory: Callable[..., Any]) -> str:
    return f"{getattr(factory, '__qualname__', repr(factory))}()"
