"""Resolution: a configuration tree with every reference replaced by what it names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from cinnamon._core.conditions import check_nodes, conditions_of
from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.limits import depth_error, too_deep
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
from cinnamon.errors import ConfigurationError, CycleError, NotRegisteredError

if TYPE_CHECKING:
    from cinnamon._core.registry import Registration

__all__ = ["origin_of", "registration_of", "resolve"]

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
) -> Configuration:
    """Return a copy of ``root``'s tree in which every reference is resolved.

    Every node of the result is a fresh copy, except that all *shared* references to one
    key resolve to one node; the build turns that identity into one shared instance.
    Then the conditions of the nodes (:func:`~cinnamon.condition`) are checked, children
    before parents, unless ``conditions`` is false.

    Raises:
        NotRegisteredError: a reference names no registration.
        CycleError: references lead back to a registration being resolved.
        ConfigurationError: a reference names a configuration its field does not accept.
        ConditionError: a node breaks one of its conditions.
    """
    resolver = _Resolver(entries, suggest)

    def fast() -> Configuration:
        if isinstance(root, RegistrationKey):
            return resolver.reference(root, TreePath(None, root.name), None, 0, root=True)
        return resolver.node(root, TreePath(None, type(root).__name__), None, 0)

    def slow() -> Walk:
        nonlocal resolver
        resolver = _Resolver(entries, suggest)  # the failed attempt is dropped
        if isinstance(root, RegistrationKey):
            return resolver.walk_reference(root, TreePath(None, root.name), None, root=True)
        return resolver.walk_node(root, TreePath(None, type(root).__name__), None)

    try:
        tree = walk(fast, slow)
    except RecursionError:  # a value too deep for the walks: say where, in a new stack
        parts = too_deep(root, entries=entries)
        name = root.name if isinstance(root, RegistrationKey) else type(root).__name__
        raise depth_error(name, parts) from None
    if conditions and resolver.checks:
        check_nodes(resolver.checks)
    return tree


class _Resolver:
    """One resolution's state, and its two walks.

    ``node``, ``value`` and ``reference`` recurse; ``walk_node``, ``walk_value`` and
    ``walk_reference`` do the same as generators, for branches deeper than ``DEEP``
    (see ``cinnamon._core.tree``). The two must stay in step: same order, same checks, same
    errors.

    A value's path is made only when something needs it (a node, a reference, a
    container that is not empty): walks pass the parent's path and the value's part.
    """

    __slots__ = ("active", "checks", "entries", "inside", "shared", "suggest")

    def __init__(self, entries: Mapping[RegistrationKey, Registration], suggest: Suggest) -> None:
        self.entries = entries
        self.suggest = suggest
        # The references being resolved, in order (a dict keeps it): O(1) cycle checks,
        # and popitem() drops the last without hashing its key again.
        self.active: dict[RegistrationKey, None] = {}
        self.shared: dict[RegistrationKey, Configuration] = {}
        self.checks: list[tuple[Configuration, TreePath]] = []  # nodes with conditions
        self.inside: set[int] = set()  # ids of the nodes on the current path

    # -- the recursive walk ------------------------------------------------------------

    def node(
        self, config: Configuration, path: TreePath, origin: Registration | None, depth: int
    ) -> Configuration:
        if depth > DEEP:  # deep enough: the generators take this branch from here
            copy: Configuration = run(self.walk_node(config, path, origin))
            return copy
        if origin is None:
            # An inline node of an already resolved tree (after overrides, say) keeps the
            # registration it came from, and so the component that registration binds.
            origin = registration_of(config)
        marker = id(config)
        if marker in self.inside:  # a Python object cycle, not a reference cycle
            raise _holds_itself(config, path)
        self.inside.add(marker)
        fields, conditioned, plain = _shapes.get(type(config)) or _shape(type(config))
        values = config.__dict__
        updates = {}
        for name, accepted in fields.items():
            updates[name] = self.value(values[name], path, name, accepted, depth)
        self.inside.discard(marker)
        copy = _copy(config, updates, origin, plain)
        if conditioned:
            self.checks.append((copy, path))
        return copy

    def value(
        self,
        value: Any,
        parent: TreePath,
        part: str | int,
        accepted: tuple[type[Configuration], ...] | None,
        depth: int,
    ) -> Any:
        kind = KINDS.get(type(value)) or kind_of(value)
        if kind == KEY:
            return self.reference(value, TreePath(parent, part), accepted, depth)
        if kind == NODE:
            return self.node(value, TreePath(parent, part), None, depth + 1)
        if kind == SEQUENCE:
            items = []
            if value:
                path = TreePath(parent, part)
                for index, item in enumerate(value):
                    items.append(self.value(item, path, index, accepted, depth))
            return tuple(items) if type(value) is tuple else items  # subclasses: a list
        if kind == MAPPING:
            entries = {}
            if value:
                path = TreePath(parent, part)
                for name, item in value.items():
                    entries[name] = self.value(item, path, str(name), accepted, depth)
            return entries
        return value

    def reference(
        self,
        key: RegistrationKey,
        path: TreePath,
        accepted: tuple[type[Configuration], ...] | None,
        depth: int,
        *,
        root: bool = False,
    ) -> Configuration:
        entry = self.entries.get(key)
        if entry is None:
            raise self._missing(key, path, root=root)
        if key in self.active:
            raise self._cycle(key)
        resolved = self.shared.get(key) if key.shared else None
        if resolved is None:
            self.active[key] = None
            resolved = self.node(entry.config, path, entry, depth + 1)
            self.active.popitem()
            if key.shared:
                self.shared[key] = resolved
        if accepted is not None and not isinstance(resolved, accepted):
            raise _refused(key, resolved, path, accepted)
        return resolved

    # -- the same walk as generators, for deep branches --------------------------------

    def walk_node(self, config: Configuration, path: TreePath, origin: Registration | None) -> Walk:
        if origin is None:
            origin = registration_of(config)
        marker = id(config)
        if marker in self.inside:
            raise _holds_itself(config, path)
        self.inside.add(marker)
        fields, conditioned, plain = _shapes.get(type(config)) or _shape(type(config))
        values = config.__dict__
        updates = {}
        for name, accepted in fields.items():
            updates[name] = yield from self.walk_value(values[name], path, name, accepted)
        self.inside.discard(marker)
        copy = _copy(config, updates, origin, plain)
        if conditioned:
            self.checks.append((copy, path))
        return copy

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
            if value:
                path = TreePath(parent, part)
                for index, item in enumerate(value):
                    items.append((yield from self.walk_value(item, path, index, accepted)))
            return tuple(items) if type(value) is tuple else items  # subclasses: a list
        if kind == MAPPING:
            entries = {}
            if value:
                path = TreePath(parent, part)
                for name, item in value.items():
                    entries[name] = yield from self.walk_value(item, path, str(name), accepted)
            return entries
        return value

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
        resolved = self.shared.get(key) if key.shared else None
        if resolved is None:
            self.active[key] = None
            resolved = yield self.walk_node(entry.config, path, entry)
            self.active.popitem()
            if key.shared:
                self.shared[key] = resolved
        if accepted is not None and not isinstance(resolved, accepted):
            raise _refused(key, resolved, path, accepted)
        return resolved

    # -- errors ------------------------------------------------------------------------

    def _missing(self, key: RegistrationKey, path: TreePath, *, root: bool) -> NotRegisteredError:
        return NotRegisteredError(
            key, path="" if root else str(path), suggestions=self.suggest(key)
        )

    def _cycle(self, key: RegistrationKey) -> CycleError:
        chain = list(self.active)
        return CycleError([*chain[chain.index(key) :], key])


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
