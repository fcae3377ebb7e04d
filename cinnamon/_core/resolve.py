"""Resolution: a configuration tree with every reference replaced by what it names.

The same walk makes the tree's build plan (``cinnamon._core.plan``), so that a first
build visits each node once: resolving and planning are one pass.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from cinnamon._core.conditions import check_nodes, conditions_of
from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.limits import depth_error, too_deep
from cinnamon._core.plan import (
    KEEP,
    Part,
    Plan,
    Step,
    duplicator,
    mapping_part,
    sequence_part,
    step_of,
)
from cinnamon._core.tree import (
    DEEP,
    KEY,
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
from cinnamon.errors import ConfigurationError, CycleError, NotRegisteredError, UsageError

if TYPE_CHECKING:
    from cinnamon._core.registry import Registration

__all__ = ["compile_plan", "origin_of", "plan", "registration_of", "resolve"]

Suggest = Callable[[RegistrationKey], Sequence[RegistrationKey]]

# The slot itself: reading it straight from its descriptor skips pydantic's __getattr__,
# which an unset slot (any configuration the resolver did not make) would otherwise
# reach, at several times the cost of the AttributeError caught below.
_origin_slot = Configuration.__dict__["_cinnamon_origin"]


def registration_of(config: Configuration) -> Registration | None:
    """Return the registration a node of a resolved tree was resolved from, if any."""
    try:
        entry: Registration | None = _origin_slot.__get__(config)
    except AttributeError:  # never set: not a node of a resolved tree
        return None
    return entry


def origin_of(config: Configuration) -> RegistrationKey | None:
    """Return the key a node of a resolved tree was resolved from, if any."""
    entry = registration_of(config)
    return None if entry is None else entry.key


def resolve(
    root: Configuration | RegistrationKey,
    entries: Mapping[RegistrationKey, Registration],
    suggest: Suggest,
    *,
    conditions: bool = True,
    detach: bool = False,
) -> Configuration:
    """Return a copy of ``root``'s tree in which every reference is resolved.

    Every node of the result is a fresh copy, except that all *shared* references to one
    key resolve to one node; the build turns that identity into one shared instance.
    With ``detach``, mutable values (lists, dicts, models...) are copied too, so that the
    tree shares nothing that can change with the configurations it was resolved from.
    Then the conditions of the nodes (:func:`~cinnamon.condition`) are checked, children
    before parents, unless ``conditions`` is false.

    Raises:
        NotRegisteredError: a reference names no registration.
        CycleError: references lead back to a registration being resolved.
        ConfigurationError: a reference names a configuration its field does not accept.
        ConditionError: a node breaks one of its conditions.
    """
    tree, _ = _walk(root, entries, suggest, conditions=conditions, planning=False, detach=detach)
    return tree


def plan(
    root: Configuration | RegistrationKey,
    entries: Mapping[RegistrationKey, Registration],
    suggest: Suggest,
    label: str,
    stamp: object = None,
) -> Plan:
    """Resolve ``root``'s tree and make the plan that builds it, in one walk.

    Raises:
        NotRegisteredError, CycleError, ConfigurationError, ConditionError: as
            :func:`resolve`.
        UsageError: the root names no component, or a component's constructor does not
            take its configuration's fields.
    """
    tree, resolver = _walk(root, entries, suggest, conditions=True, planning=True, label=label)
    _check_root(tree)
    return Plan(tree, resolver.steps, stamp, resolver.watched)


def compile_plan(root: Configuration, label: str, stamp: object = None) -> Plan:
    """Make the plan that builds the resolved tree under ``root`` (whose path is ``label``).

    A tree that still holds references is refused (resolve it first, or use
    :func:`plan`); its conditions are not checked again.

    Raises:
        UsageError: the root names no component, or a component's constructor does not
            take its configuration's fields.
    """
    _check_root(root)
    _, resolver = _walk(root, {}, _nothing, conditions=False, planning=True, label=label)
    return Plan(root, resolver.steps, stamp, resolver.watched)


def _nothing(_: RegistrationKey) -> list[RegistrationKey]:
    return []


def _walk(
    root: Configuration | RegistrationKey,
    entries: Mapping[RegistrationKey, Registration],
    suggest: Suggest,
    *,
    conditions: bool,
    planning: bool,
    label: str | None = None,
    detach: bool = False,
) -> tuple[Configuration, _Resolver]:
    resolver = _Resolver(entries, suggest, planning=planning, detach=detach)
    if isinstance(root, RegistrationKey):
        path = TreePath(None, root.name if label is None else label)
    else:
        path = TreePath(None, type(root).__name__ if label is None else label)

    def fast() -> tuple[Configuration, Part]:
        if isinstance(root, RegistrationKey):
            return resolver.reference(root, path, None, 0, root=True)
        return resolver.node(root, path, None, 0)

    def slow() -> Walk:
        nonlocal resolver
        resolver = _Resolver(entries, suggest, planning=planning, detach=detach)  # start over
        if isinstance(root, RegistrationKey):
            return resolver.walk_reference(root, path, None, root=True)
        return resolver.walk_node(root, path, None)

    try:
        tree, _ = walk(fast, slow)
    except RecursionError:  # a value too deep for the walks: say where, in a new stack
        parts = too_deep(root, entries=entries)
        name = root.name if isinstance(root, RegistrationKey) else type(root).__name__
        raise depth_error(name, parts) from None
    if conditions and resolver.checks:
        check_nodes(resolver.checks)
    return tree, resolver


def _check_root(root: Configuration) -> None:
    origin = registration_of(root)
    factory = type(root).__component__ if origin is None else origin.component
    if factory is None:
        what = f"registration {str(origin.key)!r}" if origin else "the configuration"
        msg = (
            f"{what} ({type(root).__name__}) names no component to build; bind one with "
            "register(..., component=...) or class Config(Configuration, component=...)"
        )
        raise UsageError(msg)


# A node met again in one walk: its copy and its part. Shared references meet their node
# again by key; a resolved tree handed back in (to plan it) meets its shared nodes again
# by identity, since resolving made one object of them.
_Seen = tuple[Configuration, Part]


class _Resolver:
    """One walk's state, and its two forms.

    Each node met is copied with its references resolved and, when ``planning``, given
    the step that builds it (children's steps come first, so the steps are already in
    build order). ``node``, ``value`` and ``reference`` recurse; ``walk_node``,
    ``walk_value`` and ``walk_reference`` are the same walk as generators, for branches
    deeper than ``DEEP`` (see ``cinnamon._core.tree``). The test suite runs every tree
    test through both forms (``tests/conftest.py``), which keeps them in step.

    A value's path is made only when something needs it (a node, a reference, a
    container that is not empty): walks pass the parent's path and the value's part.
    """

    __slots__ = (
        "active",
        "checks",
        "detach",
        "entries",
        "inside",
        "planning",
        "seen",
        "shared",
        "steps",
        "suggest",
        "watched",
    )

    #: How many configurations deep the recursive form goes before it hands a branch to
    #: the generators; the tests set it to 0 to run everything through them.
    deep = DEEP

    def __init__(
        self,
        entries: Mapping[RegistrationKey, Registration],
        suggest: Suggest,
        *,
        planning: bool,
        detach: bool = False,
    ) -> None:
        self.entries = entries
        self.suggest = suggest
        self.planning = planning
        self.detach = detach
        # The references being resolved, in order (a dict keeps it): O(1) cycle checks,
        # and popitem() drops the last without hashing its key again.
        self.active: dict[RegistrationKey, None] = {}
        self.shared: dict[RegistrationKey, _Seen] = {}
        self.seen: dict[int, _Seen] = {}  # id -> result, for nodes of a resolved tree
        self.checks: list[tuple[Configuration, TreePath]] = []  # nodes with conditions
        self.inside: set[int] = set()  # ids of the nodes on the current path
        self.steps: list[Step] = []
        self.watched: list[tuple[Any, Any]] = []  # (source container, its copy)

    # -- the recursive form ------------------------------------------------------------

    def node(
        self, config: Configuration, path: TreePath, origin: Registration | None, depth: int
    ) -> _Seen:
        if depth > self.deep:  # deep enough: the generators take this branch from here
            done: _Seen = run(self.walk_node(config, path, origin))
            return done
        resolved = origin is None and _was_resolved(config)
        if resolved:
            seen = self.seen.get(id(config))
            if seen is not None:
                return seen
            origin = registration_of(config)
        marker = id(config)
        if marker in self.inside:  # a Python object cycle, not a reference cycle
            raise _holds_itself(config, path)
        self.inside.add(marker)
        fields, conditioned, plain = _shapes.get(type(config)) or _shape(type(config))
        values = config.__dict__
        updates = {}
        parts = {}
        for name, accepted in fields.items():
            updates[name], part = self.value(values[name], path, name, accepted, depth)
            if part is not KEEP:
                parts[name] = part
        self.inside.discard(marker)
        return self._finish(config, path, origin, updates, parts, conditioned, plain, resolved)

    def value(
        self,
        value: Any,
        parent: TreePath,
        part: str | int,
        accepted: tuple[type[Configuration], ...] | None,
        depth: int,
    ) -> tuple[Any, Part]:
        kind = KINDS.get(type(value)) or kind_of(value)
        if kind == KEY:
            return self.reference(value, TreePath(parent, part), accepted, depth)
        if kind == NODE:
            return self.node(value, TreePath(parent, part), None, depth + 1)
        if kind == SEQUENCE:
            items = []
            parts = []
            if value:
                path = TreePath(parent, part)
                for index, item in enumerate(value):
                    item, inner = self.value(item, path, index, accepted, depth)  # noqa: PLW2901
                    items.append(item)
                    parts.append(inner)
            return self._sequence(value, items, parts)
        if kind == MAPPING:
            entries = {}
            parts_of = {}
            if value:
                path = TreePath(parent, part)
                for name, item in value.items():
                    entries[name], parts_of[name] = self.value(
                        item, path, str(name), accepted, depth
                    )
            return self._mapping(value, entries, parts_of)
        return value, KEEP

    def reference(
        self,
        key: RegistrationKey,
        path: TreePath,
        accepted: tuple[type[Configuration], ...] | None,
        depth: int,
        *,
        root: bool = False,
    ) -> _Seen:
        entry = self.entries.get(key)
        if entry is None:
            raise self._missing(key, path, root=root)
        if key in self.active:
            raise self._cycle(key)
        done = self.shared.get(key) if key.shared else None
        if done is None:
            self.active[key] = None
            done = self.node(entry.config, path, entry, depth + 1)
            self.active.popitem()
            if key.shared:
                self.shared[key] = done
        if accepted is not None and not isinstance(done[0], accepted):
            raise _refused(key, done[0], path, accepted)
        return done

    # -- the same walk as generators, for deep branches --------------------------------

    def walk_node(self, config: Configuration, path: TreePath, origin: Registration | None) -> Walk:
        resolved = origin is None and _was_resolved(config)
        if resolved:
            seen = self.seen.get(id(config))
            if seen is not None:
                return seen
            origin = registration_of(config)
        marker = id(config)
        if marker in self.inside:
            raise _holds_itself(config, path)
        self.inside.add(marker)
        fields, conditioned, plain = _shapes.get(type(config)) or _shape(type(config))
        values = config.__dict__
        updates = {}
        parts = {}
        for name, accepted in fields.items():
            updates[name], part = yield from self.walk_value(values[name], path, name, accepted)
            if part is not KEEP:
                parts[name] = part
        self.inside.discard(marker)
        return self._finish(config, path, origin, updates, parts, conditioned, plain, resolved)

    def walk_value(
        self,
        value: Any,
        parent: TreePath,
        part: str | int,
        accepted: tuple[type[Configuration], ...] | None,
    ) -> Walk:
        kind = KINDS.get(type(value)) or kind_of(value)
        if kind == KEY:
            return (yield from self.walk_reference(value, TreePath(parent, part), accepted))
        if kind == NODE:
            return (yield self.walk_node(value, TreePath(parent, part), None))
        if kind == SEQUENCE:
            items = []
            parts = []
            if value:
                path = TreePath(parent, part)
                for index, item in enumerate(value):
                    item, inner = yield from self.walk_value(item, path, index, accepted)  # noqa: PLW2901
                    items.append(item)
                    parts.append(inner)
            return self._sequence(value, items, parts)
        if kind == MAPPING:
            entries = {}
            parts_of = {}
            if value:
                path = TreePath(parent, part)
                for name, item in value.items():
                    entries[name], parts_of[name] = yield from self.walk_value(
                        item, path, str(name), accepted
                    )
            return self._mapping(value, entries, parts_of)
        return value, KEEP

    def walk_reference(
        self,
        key: RegistrationKey,
        path: TreePath,
        accepted: tuple[type[Configuration], ...] | None,
        *,
        root: bool = False,
    ) -> Walk:
        entry = self.entries.get(key)
        if entry is None:
            raise self._missing(key, path, root=root)
        if key in self.active:
            raise self._cycle(key)
        done = self.shared.get(key) if key.shared else None
        if done is None:
            self.active[key] = None
            done = yield self.walk_node(entry.config, path, entry)
            self.active.popitem()
            if key.shared:
                self.shared[key] = done
        if accepted is not None and not isinstance(done[0], accepted):
            raise _refused(key, done[0], path, accepted)
        return done

    # -- shared by both forms: what is made of a node and a container once walked ------

    def _finish(  # noqa: PLR0917 - positional on the hot path
        self,
        config: Configuration,
        path: TreePath,
        origin: Registration | None,
        updates: dict[str, Any],
        parts: dict[str, Part],
        conditioned: bool,
        plain: bool,
        resolved: bool,
    ) -> _Seen:
        if self.detach:
            for name, value in config.__dict__.items():
                if name not in updates:
                    duplicate = duplicator(value)
                    if duplicate is not None:
                        updates[name] = duplicate(value)
        copy = _copy(config, updates, origin, plain)
        if conditioned:
            self.checks.append((copy, path))
        part: Part = KEEP
        if self.planning:
            factory = type(config).__component__ if origin is None else origin.component
            if factory is not None:  # else a plain group of settings, passed on as a value
                key = None if origin is None else origin.key
                self.steps.append(
                    step_of(copy, path, key, factory, parts, rebuilt=updates, watched=self.watched)
                )
                part = len(self.steps) - 1
        done = (copy, part)
        if resolved:
            self.seen[id(config)] = done
        return done

    def _sequence(
        self, value: list[Any] | tuple[Any, ...], items: list[Any], parts: list[Part]
    ) -> tuple[Any, Part]:
        if type(value) is tuple:
            # A tuple whose items all came back as they were is kept: nothing in it changed.
            same = len(items) == len(value) and all(map(operator.is_, items, value))
            rebuilt: Any = value if same else tuple(items)
        else:  # a list, or a subclass of one (which becomes a list)
            rebuilt = items
            if self.planning:
                self.watched.append((value, list(value)))
        return rebuilt, sequence_part(rebuilt, parts) if self.planning and items else KEEP

    def _mapping(
        self, value: dict[Any, Any], entries: dict[Any, Any], parts: dict[Any, Part]
    ) -> tuple[Any, Part]:
        if self.planning:
            self.watched.append((value, value.copy()))
        return entries, mapping_part(entries, parts) if self.planning and entries else KEEP

    # -- errors ------------------------------------------------------------------------

    def _missing(self, key: RegistrationKey, path: TreePath, *, root: bool) -> NotRegisteredError:
        return NotRegisteredError(
            key, path="" if root else str(path), suggestions=self.suggest(key)
        )

    def _cycle(self, key: RegistrationKey) -> CycleError:
        chain = list(self.active)
        return CycleError([*chain[chain.index(key) :], key])


def _was_resolved(config: Configuration) -> bool:
    """Whether ``config`` is a node of a resolved tree (the resolver made it)."""
    try:
        _origin_slot.__get__(config)
    except AttributeError:
        return False
    return True


def _holds_itself(config: Configuration, path: TreePath) -> ConfigurationError:
    message = f"this {type(config).__name__} holds itself; a tree cannot contain itself"
    return ConfigurationError([(str(path), message)])


def _refused(
    key: RegistrationKey,
    resolved: Configuration,
    path: TreePath,
    accepted: tuple[type[Configuration], ...],
) -> ConfigurationError:
    names = " or ".join(cls.__name__ for cls in accepted)
    message = (
        f"registration {str(key)!r} holds a {type(resolved).__name__}, "
        f"but this field accepts {names}"
    )
    return ConfigurationError([(str(path), message)])


# What resolving needs to know of a configuration class, found once per class: the
# fields to walk (as dynamic_fields gives them), whether it has conditions, and whether
# _copy may copy it itself.
_Shape = tuple[dict[str, "tuple[type[Configuration], ...] | None"], bool, bool]
_shapes: dict[type[Configuration], _Shape] = {}


def _shape(cls: type[Configuration]) -> _Shape:
    shape = _shapes[cls] = (
        dynamic_fields(cls),
        bool(conditions_of(cls)),
        _SLOTS_AS_KNOWN
        and cls.model_copy is BaseModel.model_copy
        and cls.__copy__ is BaseModel.__copy__
        and cls.__new__ is object.__new__,
    )
    return shape


# pydantic's BaseModel.__copy__ (in every 2.x release so far) makes a copy by filling
# exactly these slots of a bare instance, and _copy fills them the same way, through
# their descriptors (which skips object.__setattr__'s look-up of the name). Should a
# pydantic have other slots, _copy leaves copying to model_copy.
_COPIED = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_SLOTS_AS_KNOWN = set(BaseModel.__slots__) == set(_COPIED)
if _SLOTS_AS_KNOWN:
    _set_dict, _set_fields_set, _set_extra, _set_private = (
        vars(BaseModel)[name].__set__ for name in _COPIED
    )
_set_origin = _origin_slot.__set__


def _copy(
    config: Configuration, updates: dict[str, Any], origin: Registration | None, plain: bool
) -> Configuration:
    """Return ``config.model_copy(update=updates)`` with ``origin`` as its registration.

    model_copy costs twice this: it goes through ``__copy__``, ``copy.copy`` of each part
    and a second pass for the updates. This fills the same slots directly: a new
    ``__dict__`` with the updates, the fields set plus the updated ones, a copy of the
    extra fields, and the private attributes that are set. Like model_copy, it copies
    none of Configuration's own slots. Unless ``plain`` (the class copies or makes
    itself its own way), model_copy it is.
    """
    copy: Configuration
    if plain:
        copy = object.__new__(type(config))
        _set_dict(copy, {**config.__dict__, **updates})
        _set_fields_set(copy, config.__pydantic_fields_set__.union(updates))
        extra = config.__pydantic_extra__
        _set_extra(copy, None if extra is None else extra.copy())
        private = getattr(config, "__pydantic_private__", None)
        if private is not None:
            private = {name: v for name, v in private.items() if v is not PydanticUndefined}
        _set_private(copy, private)
    else:
        copy = config.model_copy(update=updates)
    _set_origin(copy, origin)
    return copy
