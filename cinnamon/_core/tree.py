"""Walking configuration trees without running out of stack.

Configuration trees can be as deep as the user likes (a chain of 10,000 references is
fine), so the walkers here are written as generators driven by :func:`run`: a node's
generator yields the generator of each child node it needs and receives the child's
result back, and ``run`` keeps those generators on a list instead of the call stack.

Generators cost about three times what plain calls cost, so the walks that every first
build makes (resolving and compiling) recurse instead while they are shallow, and hand
any branch deeper than :data:`DEEP` nodes to a generator walk; :func:`walk` runs such a
pair. :func:`kind_of` tells those walks what a value is without repeated ``isinstance``
checks.
"""

from __future__ import annotations

import gc
import types
import typing
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, TypeVar, Union, get_args, get_origin

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey

__all__ = [
    "DEEP",
    "KEY",
    "KINDS",
    "MAPPING",
    "NODE",
    "PLAIN",
    "SEQUENCE",
    "TreePath",
    "Walk",
    "children",
    "dynamic_fields",
    "graph",
    "join",
    "kind_of",
    "map_references",
    "run",
    "values",
    "walk",
]

T = TypeVar("T")

#: A node's generator: yields child generators, receives their results, returns its own.
Walk = Generator["Walk", Any, Any]

#: How many configurations deep a recursive walk goes before it hands the branch below to
#: a generator walk. A level costs a recursive walk three or four Python frames (more
#: for lists in lists), so this stays far below the default recursion limit of 1,000.
DEEP = 40

_UNIONS = (Union, types.UnionType)
_dynamic: dict[type[Configuration], dict[str, tuple[type[Configuration], ...] | None]] = {}


def run(root: Walk) -> Any:
    """Drive ``root`` and every child generator it yields; return the root's result."""
    # A deep walk keeps one suspended generator per level alive, and every cyclic
    # garbage collection would traverse them all again, making deep trees quadratic.
    # Walks run no user code and make no reference cycles, so pausing is safe.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _drive(root)
    finally:
        if paused:
            gc.enable()


def walk(fast: Callable[[], T], slow: Callable[[], Walk]) -> T:
    """Return ``fast()``, a recursive walk; if it runs out of stack, drive ``slow()``.

    A recursive walk goes at most :data:`DEEP` nodes deep before it hands the rest of a
    branch to a generator walk (:func:`run`), so it runs out of stack only when its caller
    was already deep in its own stack (or a value nests lists hundreds deep). Then the
    walk starts over as generators alone, from ``slow()``: walks change nothing outside
    themselves, so what the first attempt did is simply dropped. Garbage collection is
    paused throughout, as :func:`run` pauses it.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        try:
            return fast()
        except RecursionError:
            pass  # start over below, outside this handler: no chained traceback
        result: T = _drive(slow())
        return result
    finally:
        if paused:
            gc.enable()


def map_references(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """Apply ``leaf`` to each reference and configuration inside ``value``.

    Lists, tuples and dicts around them are rebuilt; other values are kept as they are.
    """

    def through(item: Any) -> Walk:
        if isinstance(item, (RegistrationKey, Configuration)):
            return leaf(item)
        if isinstance(item, (list, tuple)):
            items = []
            for inner in item:
                items.append((yield through(inner)))  # noqa: PERF401 - a yield
            return type(item)(items) if type(item) in (list, tuple) else items
        if isinstance(item, dict):
            table = {}
            for key, inner in item.items():
                table[key] = yield through(inner)
            return table
        return item

    return run(through(value))


def _drive(root: Walk) -> Any:
    stack = [root]
    sent: Any = None
    while True:
        try:
            child = stack[-1].send(sent)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return done.value
            sent = done.value
        else:
            stack.append(child)
            sent = None


@typing.final
class TreePath:
    """A dotted path into a tree, kept as a linked list and rendered only when read.

    Deep trees make long paths; building each one as a string would cost time
    quadratic in the depth, so nodes link to their parent's path instead.
    """

    __slots__ = ("parent", "part")

    def __init__(self, parent: TreePath | None, part: str | int) -> None:
        """Extend ``parent`` by a field name, a list index or a dict key."""
        self.parent = parent
        self.part = part

    def __str__(self) -> str:
        parts: list[str | int] = []
        node: TreePath | None = self
        while node is not None:
            parts.append(node.part)
            node = node.parent
        text = ""
        for part in reversed(parts):
            if isinstance(part, int):
                text += f"[{part}]"
            elif not text:
                text = part
            else:
                text += f".{part}" if part.isidentifier() else f"[{part!r}]"
        return text

    def __repr__(self) -> str:
        return f"TreePath({str(self)!r})"

    def parts(self) -> tuple[str | int, ...]:
        """The path's parts, from the root."""
        parts: list[str | int] = []
        node: TreePath | None = self
        while node is not None:
            parts.append(node.part)
            node = node.parent
        return tuple(reversed(parts))


def join(path: TreePath | None, part: str | int) -> TreePath:
    """Extend a path by a field name, a list index or a dict key."""
    return TreePath(path, part)


# What a walk does with a value, by the value's type: follow a reference, enter a
# configuration, go through the items of a list or tuple or the values of a dict, or
# keep the value as it is. Nonzero, so that ``KINDS.get(type(value)) or kind_of(value)``
# reads the cache inline and asks kind_of only for a type not met before.
PLAIN, KEY, NODE, SEQUENCE, MAPPING = 1, 2, 3, 4, 5

#: The kind of each type met so far; read it through ``kind_of`` or as above.
KINDS: dict[type, int] = {type(None): PLAIN, int: PLAIN, float: PLAIN, str: PLAIN}


def kind_of(value: Any) -> int:
    """Return what a walk does with ``value``: ``KEY``, ``NODE``, ``SEQUENCE``, ...

    The answer depends on the type alone and is kept per type: an ``isinstance`` check
    against a configuration class (an ABC, to pydantic) costs several dictionary
    look-ups, and a walk would make up to four of them per value.
    """
    cls = type(value)
    kind = KINDS.get(cls)
    if kind is None:
        if issubclass(cls, RegistrationKey):
            kind = KEY
        elif issubclass(cls, Configuration):
            kind = NODE
        elif issubclass(cls, (list, tuple)):
            kind = SEQUENCE
        elif issubclass(cls, dict):
            kind = MAPPING
        else:
            kind = PLAIN
        KINDS[cls] = kind
    return kind


def dynamic_fields(
    cls: type[Configuration],
) -> dict[str, tuple[type[Configuration], ...] | None]:
    """Map each field that may hold references or configurations to what it accepts.

    The value is the tuple of configuration classes the field's annotation names, or
    ``None`` when it accepts any configuration. Fields whose annotation cannot hold a
    reference (``int``, ``list[float]``, ...) are left out, so walks skip their values.
    """
    found = _dynamic.get(cls)
    if found is None:
        found = {}
        for name, field in cls.model_fields.items():
            holds, accepted, anything = _scan(field.annotation)
            if holds:
                found[name] = None if anything or not accepted else tuple(accepted)
        _dynamic[cls] = found
    return found


def _scan(annotation: Any) -> tuple[bool, list[type[Configuration]], bool]:
    """Read what kind of values an annotation admits.

    Returns whether it can hold a reference, the configurations it names, and whether
    it accepts anything at all (``Any``, ``object``, a type variable).
    """
    if annotation is Any or annotation is object or isinstance(annotation, typing.TypeVar):
        return True, [], True
    if annotation is RegistrationKey:
        return True, [], False
    if isinstance(annotation, type) and issubclass(annotation, Configuration):
        return True, [annotation], False
    origin = get_origin(annotation)
    if origin is None:
        return False, [], False
    arguments = get_args(annotation)
    if origin is typing.Annotated:
        arguments = arguments[:1]
    elif isinstance(origin, type) and issubclass(origin, Mapping):
        arguments = arguments[1:]
    elif not (origin in _UNIONS or (isinstance(origin, type) and issubclass(origin, Sequence))):
        return False, [], False
    holds, accepted, anything = False, [], False
    for argument in arguments:
        if argument is Ellipsis:
            continue
        inner_holds, inner, inner_anything = _scan(argument)
        holds = holds or inner_holds
        anything = anything or inner_anything
        accepted.extend(inner)
    return holds, accepted, anything


# -- reading a tree ---------------------------------------------------------------------
#
# The walks below only read a tree: they yield what they meet and keep their own stack,
# so a tree of any depth needs no recursion, and a node reached along several paths (a
# shared one) is met once. Every reader of trees (the command line's listings and graph,
# the report's drawing, condition checks, override suggestions) goes through them.


def values(
    root: Any, label: str | int = "", *, backwards: bool = False
) -> Iterator[tuple[Any, TreePath]]:
    """Yield every value under ``root`` with its path, pre-order, in field order.

    Configurations, lists, tuples and dicts are yielded before what they hold; each
    configuration once, at the first path that reaches it. ``backwards`` takes the
    items of each value last first, so that the walk reversed is children first, in
    field order (the order in which conditions are checked).
    """
    seen: set[int] = set()
    stack: list[tuple[Any, TreePath]] = [(root, TreePath(None, label))]
    while stack:
        value, path = stack.pop()
        kind = KINDS.get(type(value)) or kind_of(value)
        if kind == NODE:
            if id(value) in seen:
                continue
            seen.add(id(value))
            fields = value.__dict__
            inner = [(fields[name], TreePath(path, name)) for name in type(value).model_fields]
        elif kind == SEQUENCE:
            inner = [(item, TreePath(path, index)) for index, item in enumerate(value)]
        elif kind == MAPPING:
            inner = [(item, TreePath(path, str(key))) for key, item in value.items()]
        else:
            inner = []
        yield value, path
        stack.extend(inner if backwards else reversed(inner))


def children(value: Any, part: str) -> Iterator[tuple[TreePath, Configuration]]:
    """Yield the configurations inside one field's value (not below them), with paths.

    ``part`` is the field's name, the first part of every path.
    """
    stack: list[tuple[Any, TreePath]] = [(value, TreePath(None, part))]
    while stack:
        item, path = stack.pop()
        kind = KINDS.get(type(item)) or kind_of(item)
        if kind == NODE:
            yield path, item
        elif kind == SEQUENCE:
            stack.extend(reversed([(x, TreePath(path, i)) for i, x in enumerate(item)]))
        elif kind == MAPPING:
            stack.extend(reversed([(x, TreePath(path, str(k))) for k, x in item.items()]))


def graph(
    root: Configuration,
) -> tuple[list[Configuration], list[tuple[int, str, int]]]:
    """The nodes of a tree and its edges ``(parent, field path, child)``, by node number.

    Node 0 is the root; a shared node is one node with several edges into it.
    """
    numbers: dict[int, int] = {id(root): 0}
    nodes = [root]
    edges: list[tuple[int, str, int]] = []
    stack = [root]
    while stack:
        config = stack.pop()
        parent = numbers[id(config)]
        for name in dynamic_fields(type(config)):
            for path, child in children(config.__dict__[name], name):
                index = numbers.get(id(child))
                if index is None:
                    index = numbers[id(child)] = len(nodes)
                    nodes.append(child)
                    stack.append(child)
                edges.append((parent, str(path), index))
    return nodes, edges
