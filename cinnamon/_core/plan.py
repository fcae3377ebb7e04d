"""Build plans: a resolved tree turned once into a flat list of constructor calls.

Making a plan does all the thinking (which values are components, which constructors
take which fields, which nodes are shared, which values must be copied); running one is
a loop of constructor calls in children-first order, so every build after the first
costs little more than the calls. The resolver (``cinnamon._core.resolve``) makes plans
in the same walk that resolves the tree; this module knows what a plan holds and runs.

Every build hands its components values of their own: a mutable value (a list, a dict,
a set, a pydantic model or dataclass that is not a configuration...) is copied on each
run, while immutable ones (numbers, strings, tuples and frozensets of them, keys...) are
passed as they are, at no cost.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import enum
import fractions
import functools
import gc
import inspect
import pathlib
import types
import uuid
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, final

from cinnamon._core.component import BuildInfo, Component
from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.tree import TreePath
from cinnamon.errors import UsageError, add_note

__all__ = [
    "KEEP",
    "Assemble",
    "Part",
    "Plan",
    "Step",
    "duplicator",
    "mapping_part",
    "sequence_part",
    "step_of",
]

_set = object.__setattr__  # also bypasses a component's own (say, freezing) __setattr__

# How a step's value for one parameter is put together from earlier results.
Assemble = Callable[[list[Any]], Any]
# A copy of a mutable value, made on each run: parameter, how to copy, the value.
Copied = tuple[str, Callable[[Any], Any], Any]
# One constructor call: factory, fixed keyword arguments, assembled ones, copied ones, origin.
Step = tuple[
    Callable[..., Any],
    dict[str, Any],
    tuple[tuple[str, Assemble], ...],
    tuple[Copied, ...],
    BuildInfo,
]

#: What the resolver hands back for a value that holds no component: pass it as it is
#: (copied if it is mutable). Otherwise a value's part is the index of the step that
#: builds it (a component), or an Assemble that puts it together from earlier results.
KEEP: Any = object()
Part = Any


@final
class Plan:
    """The steps that build one resolved tree, children first; the last is the root.

    ``watched`` pairs each mutable container of the source configurations that the plan
    was made from with a copy of it as it was then: a container changed in place since
    (an item appended to a registered list of references, say) makes the plan stale, and
    the registry makes a new one rather than build from an old picture.
    """

    __slots__ = ("_copies", "_sources", "root", "stamp", "steps")

    def __init__(
        self,
        root: Configuration,
        steps: list[Step],
        stamp: object,
        watched: list[tuple[Any, Any]],
    ) -> None:
        self.root = root
        self.steps = steps
        self.stamp = stamp
        self._sources = [source for source, _ in watched]
        self._copies = [then for _, then in watched]

    def current(self) -> bool:
        """Whether every watched container still holds what it held when planned."""
        # One comparison of two lists, item by item in C; an item that is still the same
        # object compares equal without calling its __eq__.
        return self._sources == self._copies

    def run(self) -> Any:
        """Build a fresh tree and return its root.

        Cyclic garbage collection is paused while the constructors run: every
        collection would walk all the components made so far, which makes large builds
        quadratic. What the constructors leave in cycles is collected afterwards.
        """
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            return self._run()
        finally:
            if paused:
                gc.enable()

    def _run(self) -> Any:
        results: list[Any] = []
        append = results.append
        try:
            for factory, fixed, assembled, copied, info in self.steps:
                if assembled or copied:
                    arguments = fixed.copy()
                    for name, assemble in assembled:
                        arguments[name] = assemble(results)
                    for name, duplicate, value in copied:
                        arguments[name] = duplicate(value)
                    built = factory(**arguments)
                else:
                    built = factory(**fixed)
                if isinstance(built, Component):
                    # Not built.__dict__[...]: on CPython 3.11+ touching __dict__
                    # directly slows every later attribute read on the object.
                    _set(built, "__cinnamon__", info)
                append(built)
        except Exception as error:
            factory, _, _, _, info = self.steps[len(results)]
            where = f"{info.path!r}" + (f" (registration {str(info.key)!r})" if info.key else "")
            add_note(error, f"cinnamon: raised while building {where} with {_name(factory)}")
            raise
        return results[-1]


def step_of(
    config: Configuration,
    path: TreePath,
    key: RegistrationKey | None,
    factory: Callable[..., Any],
    parts: dict[str, Part],
    *,
    rebuilt: Iterable[str],
    watched: list[tuple[Any, Any]],
) -> Step:
    """The step that calls ``factory`` with ``config``'s fields (``parts`` for dynamic ones).

    ``rebuilt`` names the fields whose values the resolver made anew; the others are the
    source configuration's own. A list, set or dict of those that is copied shallowly on
    each run is added to ``watched``: an item put in it later might need a deeper copy,
    so a change makes a new plan.

    Raises:
        UsageError: the factory does not take the configuration's fields.
    """
    accepted = _accepted.get(type(config))
    if accepted is None or factory not in accepted:
        _check_signature(factory, config, path)
    fixed: dict[str, Any] = config.__dict__.copy()
    assembled: list[tuple[str, Assemble]] = []
    for name, part in parts.items():
        del fixed[name]
        assembled.append((name, itemgetter(part) if type(part) is int else part))
    copied: list[Copied] = []
    for name, value in fixed.items():
        duplicate = duplicator(value)
        if duplicate is not None:
            copied.append((name, duplicate, value))
    for name, duplicate, value in copied:
        del fixed[name]
        if duplicate in _SHALLOW_COPIES and name not in rebuilt:
            watched.append((value, value.copy()))
    return factory, fixed, tuple(assembled), tuple(copied), BuildInfo(key, config, path)


def sequence_part(original: list[Any] | tuple[Any, ...], parts: list[Part]) -> Part:
    """The part of a list or tuple from its items' parts."""
    if parts.count(KEEP) == len(parts):  # nothing to build: the value as it is
        return KEEP
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


def mapping_part(original: dict[Any, Any], entries: dict[Any, Part]) -> Part:
    """The part of a dict from its values' parts."""
    parts = list(entries.values())
    if parts.count(KEEP) == len(parts):
        return KEEP
    getters = [(name, _getter(part, original[name])) for name, part in entries.items()]
    return lambda results: {name: get(results) for name, get in getters}


def _getter(part: Part, value: Any) -> Assemble:
    """How to get a value at run time from its part (``value`` is the resolved one)."""
    if part is KEEP:
        duplicate = duplicator(value)
        if duplicate is None:
            return lambda _: value
        return lambda _: duplicate(value)
    if type(part) is int:
        return itemgetter(part)
    getter: Assemble = part
    return getter


# -- copies of mutable values ------------------------------------------------------------

# Types whose values never change: passed to every build as they are.
_IMMUTABLE: set[type] = {
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    range,
    slice,
    decimal.Decimal,
    fractions.Fraction,
    dt.date,
    dt.datetime,
    dt.time,
    dt.timedelta,
    dt.timezone,
    uuid.UUID,
    RegistrationKey,
    type(Ellipsis),
}


_SHARED_CALLABLES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
)


def _immutable(value: Any) -> bool:
    """Whether ``value`` can be shared between builds (nothing in it can change)."""
    stack = [value]
    while stack:
        item = stack.pop()
        cls = type(item)
        if cls in _IMMUTABLE or isinstance(item, (enum.Enum, pathlib.PurePath, type)):
            continue
        if cls is tuple or cls is frozenset:
            stack.extend(item)
            continue
        if isinstance(item, _SHARED_CALLABLES):
            # Functions are passed as themselves: a factory given as a value is meant
            # to be shared, and copying one is rarely possible.
            continue
        return False
    return True


# The shallow copies, by type: one C call each.
_SHALLOW: dict[type, Callable[[Any], Any]] = {list: list.copy, dict: dict.copy, set: set.copy}
_SHALLOW_COPIES = frozenset(_SHALLOW.values())


def duplicator(value: Any) -> Callable[[Any], Any] | None:
    """How to copy ``value`` for one build, or ``None`` if it can be shared as it is.

    A list, set or dict of immutable items gets a shallow copy (a fast C call); anything
    else that may change gets a deep copy, which copies lists, dicts, sets, pydantic
    models and dataclasses at any depth and shares what is immutable inside them.
    """
    cls = type(value)
    if cls in _IMMUTABLE:
        return None
    shallow = _SHALLOW.get(cls)
    if shallow is not None:
        items = value.values() if cls is dict else value
        for item in items:
            if type(item) not in _IMMUTABLE and not _immutable(item):
                return copy.deepcopy
        return shallow
    if _immutable(value):
        return None
    return copy.deepcopy


# -- constructor signatures ---------------------------------------------------------------

# For each configuration class, the factories whose signatures take its fields; by
# identity, so that an unhashable factory can be remembered too.
_accepted: dict[type[Configuration], list[Callable[..., Any]]] = {}


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
    _accepted.setdefault(cls, []).append(factory)


def _name(factory: Callable[..., Any]) -> str:
    return f"{getattr(factory, '__qualname__', repr(factory))}()"
