"""Registry: named configurations, bound to components, resolved and built as trees."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar, final, overload

from cinnamon._core.configuration import Configuration, assignment_count
from cinnamon._core.key import DEFAULT_NAMESPACE, RegistrationKey
from cinnamon._core.limits import depth_error, too_deep
from cinnamon._core.marks import Mark, marked_in
from cinnamon._core.plan import Plan
from cinnamon._core.resolve import plan, resolve
from cinnamon.errors import AlreadyRegisteredError, NotRegisteredError, UsageError, close_matches

__all__ = ["BaseRegistry", "Registration", "make_registration"]

T = TypeVar("T")


@final
@dataclass(frozen=True, slots=True)
class Registration:
    """One entry of a registry.

    Attributes:
        key: its key.
        config: the registered configuration.
        component: the class (or callable) it builds, or ``None`` if it only holds
            settings.
        description: a one-line summary (by default the configuration class's).
    """

    key: RegistrationKey
    config: Configuration
    component: Callable[..., Any] | None
    description: str


class BaseRegistry:
    """The registry's core: registering, looking up, resolving and building.

    :class:`cinnamon.Registry` adds what needs the layers above the core (loading
    declarative files, grids of variants); code in the lower layers takes a
    ``BaseRegistry`` so that it never imports upwards.
    """

    __slots__ = ("_entries", "_generation", "_lock", "_plans")

    def __init__(self) -> None:
        """Make an empty registry."""
        self._entries: dict[RegistrationKey, Registration] = {}
        self._plans: dict[RegistrationKey, Plan] = {}
        self._lock = threading.RLock()
        self._generation = 0  # bumped on every change, so cached plans know they are stale

    # -- registering -------------------------------------------------------------------

    def register(
        self,
        config: Configuration | type[Configuration],
        *,
        name: str,
        tags: Iterable[str] = (),
        namespace: str = DEFAULT_NAMESPACE,
        component: Callable[..., Any] | None = None,
        description: str | None = None,
        replace: bool = False,
    ) -> RegistrationKey:
        """Register ``config`` under a key and return the key.

        Args:
            config: the configuration, or a configuration class (its defaults are used).
            name: the key's name.
            tags: the key's tags.
            namespace: the key's namespace.
            component: what to build from it; by default the component the
                configuration class names.
            description: a one-line summary; by default the first line of the
                configuration class's docstring.
            replace: overwrite an existing registration under the same key.

        Raises:
            AlreadyRegisteredError: the key is taken and ``replace`` is false.
            UsageError: ``config`` is not a configuration, or ``component`` not callable.
        """
        entry = make_registration(
            config, RegistrationKey(name, tags, namespace), component, description
        )
        with self._lock:
            if not replace and entry.key in self._entries:
                raise AlreadyRegisteredError(entry.key)
            self._entries[entry.key] = entry
            self._generation += 1
        return entry.key

    def collect(self, source: object, *, replace: bool = False) -> list[RegistrationKey]:
        """Register everything marked with :func:`~cinnamon.registration` in ``source``.

        ``source`` is a module, a configuration class (its marked classmethods) or a
        marked function. Either every marked registration is added or, if any of them
        fails, none is.
        """
        return self._add_all(marked_in(source), replace=replace)

    def discover(self, package: str, *, replace: bool = False) -> list[RegistrationKey]:
        """Import ``package`` and all its submodules and collect their registrations.

        Modules are imported in sorted order. Either every registration found is added
        or, if any import or registration fails, none is.
        """
        marks: list[Mark] = []
        for module in _import_tree(package):
            marks.extend(marked_in(module))
        return self._add_all(marks, replace=replace)

    def _add_all(self, marks: Iterable[Mark], *, replace: bool) -> list[RegistrationKey]:
        entries = [
            make_registration(mark.make(), mark.key, mark.component, mark.description)
            for mark in marks
        ]
        return self.add_registrations(entries, replace=replace)

    def add_registrations(
        self, entries: Iterable[Registration], *, replace: bool = False
    ) -> list[RegistrationKey]:
        """Add finished registrations all at once: either every one is added or none is.

        This is what loaders build on (a declarative file is added with one call).

        Raises:
            AlreadyRegisteredError: a key is taken (or repeated) and ``replace`` is false.
        """
        entries = list(entries)
        with self._lock:
            seen: set[RegistrationKey] = set()
            for entry in entries:
                if not isinstance(entry, Registration):
                    msg = f"expected a Registration, got {type(entry).__name__}"
                    raise UsageError(msg)
                if not replace and (entry.key in self._entries or entry.key in seen):
                    raise AlreadyRegisteredError(entry.key)
                seen.add(entry.key)
            for entry in entries:
                self._entries[entry.key] = entry
            self._generation += 1
        return [entry.key for entry in entries]

    def unregister(self, key: RegistrationKey | str) -> Registration:
        """Remove a registration and return it."""
        key = RegistrationKey.coerce(key)
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                raise NotRegisteredError(key, suggestions=self._suggest(key))
            self._generation += 1
        return entry

    # -- looking up --------------------------------------------------------------------

    def get(self, key: RegistrationKey | str) -> Registration:
        """Return the registration under ``key`` (a key or its string form).

        Raises:
            NotRegisteredError: nothing is registered under ``key``.
        """
        key = RegistrationKey.coerce(key)
        entry = self._entries.get(key)
        if entry is None:
            raise NotRegisteredError(key, suggestions=self._suggest(key))
        return entry

    def keys(
        self,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        namespace: str | None = None,
    ) -> list[RegistrationKey]:
        """Return the registered keys, sorted, that match every filter given.

        Args:
            name: keep keys with exactly this name.
            tags: keep keys that carry all of these tags (and maybe more).
            namespace: keep keys in this namespace.
        """
        wanted = frozenset(tags)
        return sorted(
            (
                key
                for key in list(self._entries)
                if (name is None or key.name == name)
                and (namespace is None or key.namespace == namespace)
                and wanted <= key.tags
            ),
            key=RegistrationKey._order,  # one tuple per key, not a Python __lt__ per comparison
        )

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` (a key or its string form) is registered."""
        if isinstance(key, str):
            key = RegistrationKey.parse(key)
        return key in self._entries

    def __len__(self) -> int:
        """The number of registrations."""
        return len(self._entries)

    def __iter__(self) -> Iterator[RegistrationKey]:
        """Iterate over the registered keys, sorted."""
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"<Registry with {len(self._entries)} registrations>"

    # -- resolving and building --------------------------------------------------------

    def resolve(self, target: RegistrationKey | str | Configuration) -> Configuration:
        """Return the configuration tree of ``target`` with every reference resolved.

        ``target`` is a key, its string form, or a configuration (which may hold
        references). The result is a fresh copy that shares nothing with the registry,
        except that all shared references to one key resolve to one node.

        Raises:
            NotRegisteredError: ``target`` or a reference in its tree is not registered.
            CycleError: the references form a cycle.
            ConfigurationError: a reference names a configuration its field refuses.
        """
        if not isinstance(target, Configuration):
            target = RegistrationKey.coerce(target)
        return resolve(target, self._entries, self._suggest, detach=True)

    @overload
    def build(self, target: RegistrationKey | str | Configuration) -> Any: ...

    @overload
    def build(self, target: RegistrationKey | str | Configuration, expected: type[T]) -> T: ...

    def build(
        self, target: RegistrationKey | str | Configuration, expected: type[Any] | None = None
    ) -> Any:
        """Build the component tree of ``target`` and return its root.

        ``target`` is a key, its string form, or a configuration. Children are built
        first and passed to their parent's constructor; each reference gets a fresh
        instance unless it is a shared reference (``key.with_shared()``), in which case
        every shared reference to that key within this build gets the same one. Every
        call builds a new tree. With ``expected``, the root is checked to be an instance
        of it (and type checkers know it is).

        Raises:
            NotRegisteredError, CycleError, ConfigurationError: as for :meth:`resolve`.
            UsageError: a configuration names no component, a constructor does not take
                its configuration's fields, or the root is not ``expected``.
        """
        if isinstance(target, Configuration):
            built = plan(target, self._entries, self._suggest, type(target).__name__).run()
        else:
            built = self._plan(RegistrationKey.coerce(target)).run()
        if expected is not None and not isinstance(built, expected):
            msg = f"built a {type(built).__name__}, but {expected.__name__} was expected"
            raise UsageError(msg)
        return built

    def _plan(self, key: RegistrationKey) -> Plan:
        stamp = (self._generation, assignment_count())
        cached = self._plans.get(key)
        if cached is None or cached.stamp != stamp or not cached.current():
            cached = plan(key, self._entries, self._suggest, key.name, stamp)
            self._plans[key] = cached
        return cached

    def _suggest(self, missing: RegistrationKey) -> list[RegistrationKey]:
        """Return up to three keys the user may have meant.

        Close names in the same namespace come first (compared without the namespace,
        which would make every key look close), then the same name elsewhere.
        """
        keys = list(self._entries)
        local = {key.name for key in keys if key.namespace == missing.namespace}
        close = close_matches(missing.name, local, cutoff=0.7)
        rank = {name: position for position, name in enumerate(close)}
        found = sorted(
            (key for key in keys if key.namespace == missing.namespace and key.name in rank),
            key=lambda key: (rank[key.name], key),
        )
        found += sorted(
            key for key in keys if key.name == missing.name and key.namespace != missing.namespace
        )
        return [key for key in found if key != missing][:3]


def make_registration(
    config: Configuration | type[Configuration],
    key: RegistrationKey,
    component: Callable[..., Any] | None,
    description: str | None,
) -> Registration:
    if isinstance(config, type) and issubclass(config, Configuration):
        config = config.default()
    if not isinstance(config, Configuration):
        msg = f"{str(key)!r}: expected a Configuration to register, got {type(config).__name__}"
        raise UsageError(msg)
    if component is None:
        component = type(config).__component__
    elif not callable(component):
        msg = f"{str(key)!r}: component must be a class or callable, not {component!r}"
        raise UsageError(msg)
    if description is None:
        doc = type(config).__doc__ or ""
        description = doc.strip().partition("\n")[0]
    deep = too_deep(config)  # values made in Python enter here
    if deep is not None:
        raise depth_error(key.name, deep)
    return Registration(key, config, component, description)


def _import_tree(package: str) -> Iterator[ModuleType]:
    root = importlib.import_module(package)
    yield root
    path = getattr(root, "__path__", None)
    if path is None:
        return
    names = sorted(info.name for info in pkgutil.walk_packages(path, prefix=f"{package}."))
    for name in names:
        yield importlib.import_module(name)
