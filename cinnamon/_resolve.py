"""Resolution: a configuration tree with every reference replaced by what it names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cinnamon._conditions import check_nodes, conditions_of
from cinnamon._configuration import Configuration
from cinnamon._key import RegistrationKey
from cinnamon._tree import TreePath, Walk, dynamic_fields, join, run
from cinnamon.errors import ConfigurationError, CycleError, NotRegisteredError

if TYPE_CHECKING:
    from cinnamon._registry import Registration

__all__ = ["origin_of", "registration_of", "resolve"]

Suggest = Callable[[RegistrationKey], Sequence[RegistrationKey]]


def registration_of(config: Configuration) -> Registration | None:
    """Return the registration a node of a resolved tree was resolved from, if any."""
    return getattr(config, "_cinnamon_origin", None)


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
    if isinstance(root, RegistrationKey):
        walk = resolver.reference(root, TreePath(None, root.name), None, root=True)
    else:
        walk = resolver.node(root, TreePath(None, type(root).__name__), None)
    tree: Configuration = run(walk)
    if conditions and resolver.checks:
        check_nodes(resolver.checks)
    return tree


class _Resolver:
    __slots__ = ("active", "chain", "checks", "entries", "inside", "shared", "suggest")

    def __init__(self, entries: Mapping[RegistrationKey, Registration], suggest: Suggest) -> None:
        self.entries = entries
        self.suggest = suggest
        self.chain: list[RegistrationKey] = []  # the references being resolved, in order
        self.active: set[RegistrationKey] = set()  # the same, for O(1) cycle checks
        self.shared: dict[RegistrationKey, Configuration] = {}
        self.checks: list[tuple[Configuration, TreePath]] = []  # nodes with conditions
        self.inside: set[int] = set()  # ids of the nodes on the current path

    def node(self, config: Configuration, path: TreePath, origin: Registration | None) -> Walk:
        if id(config) in self.inside:  # a Python object cycle, not a reference cycle
            message = f"this {type(config).__name__} holds itself; a tree cannot contain itself"
            raise ConfigurationError([(str(path), message)])
        self.inside.add(id(config))
        updates = {}
        values = config.__dict__
        for name, accepted in dynamic_fields(type(config)).items():
            updates[name] = yield from self.value(values[name], join(path, name), accepted)
        self.inside.discard(id(config))
        copy = config.model_copy(update=updates)
        # An inline node of an already resolved tree (after overrides, say) keeps the
        # registration it came from, and so the component that registration binds.
        kept = origin if origin is not None else registration_of(config)
        object.__setattr__(copy, "_cinnamon_origin", kept)
        if conditions_of(type(config)):  # most classes have none: one look-up
            self.checks.append((copy, path))
        return copy

    def value(
        self, value: Any, path: TreePath, accepted: tuple[type[Configuration], ...] | None
    ) -> Walk:
        if isinstance(value, RegistrationKey):
            return (yield from self.reference(value, path, accepted))
        if isinstance(value, Configuration):
            return (yield self.node(value, path, None))
        if isinstance(value, (list, tuple)):
            items = []
            for index, item in enumerate(value):
                items.append((yield from self.value(item, join(path, index), accepted)))
            return type(value)(items) if type(value) in (list, tuple) else items
        if isinstance(value, dict):
            entries = {}
            for name, item in value.items():
                entries[name] = yield from self.value(item, join(path, str(name)), accepted)
            return entries
        return value

    def reference(
        self,
        key: RegistrationKey,
        path: TreePath,
        accepted: tuple[type[Configuration], ...] | None,
        *,
        root: bool = False,
    ) -> Walk:
        entry = self.entries.get(key)
        if entry is None:
            raise NotRegisteredError(
                key, path="" if root else str(path), suggestions=self.suggest(key)
            )
        if key in self.active:
            raise CycleError([*self.chain[self.chain.index(key) :], key])
        resolved = self.shared.get(key) if key.shared else None
        if resolved is None:
            self.chain.append(key)
            self.active.add(key)
            resolved = yield self.node(entry.config, path, entry)
            self.active.discard(self.chain.pop())
            if key.shared:
                self.shared[key] = resolved
        if accepted is not None and not isinstance(resolved, accepted):
            names = " or ".join(cls.__name__ for cls in accepted)
            message = (
                f"registration {str(key)!r} holds a {type(resolved).__name__}, "
                f"but this field accepts {names}"
            )
            raise ConfigurationError([(str(path), message)])
        return resolved
