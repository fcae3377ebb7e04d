"""The search space of a resolved tree: every searched field in it, and how to draw a trial.

The space is collected as a grid's axes are (:mod:`cinnamon._runs.variants`): a
depth-first walk of the resolved base tree, fields in declaration order, each field
with a distribution (``Param(search=...)``, or ``@search`` in the file that registered
the node) a **dimension**. A :class:`~cinnamon.Choice` whose choices are registrations
(or inline configurations) swaps the whole sub-tree; the dimensions inside each choice
are collected from that choice's own tree and exist only in the trials that pick it.
The walk is fixed, so the dimensions come in the same order in every process, which is
what makes a seeded search repeat itself.

A trial's values are **overrides**: dotted paths below the root, in dimension order
(a choice before the fields inside it), applied to the base tree with
:func:`~cinnamon.apply_overrides` and then checked against the tree's conditions.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, final

from cinnamon._core.conditions import check_conditions
from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.resolve import registration_of, resolve
from cinnamon._core.space import Choice, Distribution, declared_search, field_search
from cinnamon._core.tree import TreePath, dynamic_fields, join, map_references
from cinnamon._files.formats import Parts, render_path
from cinnamon._runs.overrides import apply_overrides, parse_path, path_prefix
from cinnamon._runs.worker import jsonable
from cinnamon.errors import ConfigurationError, NotRegisteredError

if TYPE_CHECKING:
    from cinnamon._core.registry import BaseRegistry

__all__ = ["Dimension", "SearchSpace", "space_of"]

# (dimension index, choice index) pairs that must all hold for a dimension to exist.
Guard = tuple[tuple[int, int], ...]


@final
class Dimension:
    """One searched field: its dotted path, its distribution, and when it exists.

    Attributes:
        path: the field's dotted path below the root.
        name: a name no other dimension of the space has: the path, followed by
            ``[n]`` (the dimension's position) when choices hold fields at the same path.
        distribution: what its values are drawn from.
        guard: the ``(dimension, choice)`` pairs that must all hold for it to exist.
    """

    __slots__ = ("distribution", "guard", "name", "path")

    def __init__(self, path: str, distribution: Distribution, guard: Guard) -> None:
        self.path = path
        self.name = path
        self.distribution = distribution
        self.guard = guard

    def __repr__(self) -> str:
        return f"<Dimension {self.path}: {self.distribution!r}>"


@final
class SearchSpace:
    """The dimensions of a resolved tree, and the base tree their values apply to.

    Attributes:
        base: the resolved base tree (fixed overrides applied); never changed.
        label: the root's name in messages.
        dimensions: every dimension, in walk order.
    """

    __slots__ = ("_registry", "base", "dimensions", "label")

    def __init__(
        self,
        base: Configuration,
        label: str,
        dimensions: Iterable[Dimension],
        registry: BaseRegistry,
    ) -> None:
        self.base = base
        self.label = label
        self.dimensions = tuple(dimensions)
        self._registry = registry
        paths = [dimension.path for dimension in self.dimensions]
        for position, dimension in enumerate(self.dimensions):
            if paths.count(dimension.path) > 1:  # two choices' sub-trees share the path
                dimension.name = f"{dimension.path}[{position}]"

    def draw(self, pick: Callable[[Dimension], Any]) -> dict[str, Any]:
        """Return one trial's overrides, ``pick`` giving each existing dimension's value.

        For a :class:`~cinnamon.Choice`, ``pick`` returns the index of the choice; the
        dimensions inside the choices it did not pick are left out.
        """
        chosen: dict[int, int] = {}
        values: dict[str, Any] = {}
        for position, dimension in enumerate(self.dimensions):
            if any(chosen.get(k) != j for k, j in dimension.guard):
                continue
            value = pick(dimension)
            if isinstance(dimension.distribution, Choice):
                chosen[position] = value
                value = dimension.distribution.choices[value]
            values[dimension.path] = value
        return values

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Draw one trial's overrides at random."""

        def pick(dimension: Dimension) -> Any:
            distribution = dimension.distribution
            if isinstance(distribution, Choice):
                return rng.randrange(len(distribution.choices))
            return distribution.sample(rng)

        return self.draw(pick)

    def resolve(self, overrides: Mapping[str, Any]) -> Configuration:
        """Return the base tree with a trial's overrides applied, its conditions checked.

        Raises:
            DeclarationError: a value a field refuses (a model validator across fields).
            ConditionError: the trial's tree breaks a condition of one of its nodes.
        """
        tree = apply_overrides(self.base, overrides, registry=self._registry, conditions=False)
        check_conditions(tree, self.label)
        return tree

    def encode(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """A trial's overrides as JSON values (a registration choice as ``"@KEY"``)."""
        return {path: jsonable(value) for path, value in overrides.items()}

    def picks(self, written: Mapping[str, Any]) -> dict[str, Any]:
        """Each existing dimension's pick in a recorded trial, by dimension name.

        The pick is the value, or a choice's index.

        Raises:
            KeyError: the record holds a path or a choice this space does not have, or
                lacks a dimension that exists in it.
        """
        found: dict[str, Any] = {}
        used: set[str] = set()

        def pick(dimension: Dimension) -> Any:
            value = written[dimension.path]
            used.add(dimension.path)
            if isinstance(dimension.distribution, Choice):
                encoded = [jsonable(choice) for choice in dimension.distribution.choices]
                if value not in encoded:
                    raise KeyError(dimension.path)
                value = encoded.index(value)
            found[dimension.name] = value
            return value

        self.draw(pick)
        unknown = set(written) - used
        if unknown:
            raise KeyError(min(unknown))
        return found

    def decode(self, written: Mapping[str, Any]) -> dict[str, Any]:
        """A recorded trial's overrides as Python values, which :meth:`resolve` takes."""
        picks = self.picks(written)
        return self.draw(lambda dimension: picks[dimension.name])

    def written(self) -> list[list[Any]]:
        """Each dimension as ``[path, distribution as a file writes it]``, for the record."""
        return [[d.path, jsonable(d.distribution.written())] for d in self.dimensions]

    def __repr__(self) -> str:
        return f"<SearchSpace of {self.label!r}: {len(self.dimensions)} dimensions>"


def space_of(
    registry: BaseRegistry,
    target: RegistrationKey | str | Configuration,
    overrides: Mapping[str, Any] | Iterable[str] = (),
) -> SearchSpace:
    """Collect the search space of ``target``'s resolved tree (fixed ``overrides`` applied).

    Raises:
        ConfigurationError: a distribution that is unsound or that its field refuses,
            naming the dotted path from the root; a choice of a registration whose
            configuration the field does not accept.
        NotRegisteredError: a choice names no registration.
    """
    if isinstance(target, Configuration):
        root: Configuration | RegistrationKey = target
        label = type(target).__name__
    else:
        root = RegistrationKey.coerce(target)
        label = root.name
    entries, suggest = registry._entries, registry._suggest
    base = resolve(root, entries, suggest, conditions=False)  # checked per trial
    fixed: Mapping[str, Any] | list[str]
    if isinstance(overrides, Mapping):
        fixed = dict(overrides)
        pinned = {parse_path(path) for path in fixed}
    else:
        fixed = [overrides] if isinstance(overrides, str) else list(overrides)
        pinned = {path_prefix(text)[0] for text in fixed}
    if fixed:
        base = apply_overrides(base, fixed, registry=registry, conditions=False)
    dimensions = _Collector(registry, label, pinned).collect(base)
    return SearchSpace(base, label, dimensions, registry)


@final
class _Collector:
    """Finds the dimensions of a tree, depth first, without recursion."""

    __slots__ = ("dimensions", "label", "pinned", "registry", "seen")

    def __init__(self, registry: BaseRegistry, label: str, pinned: set[Parts]) -> None:
        self.registry = registry
        self.label = label
        self.pinned = pinned
        self.dimensions: list[Dimension] = []
        self.seen: set[int] = set()

    def collect(self, base: Configuration) -> list[Dimension]:
        # Items: ("value", value, path, guard) to walk into, or ("field", class, name,
        # distribution, path, guard) to add as a dimension when the walk reaches it.
        stack: list[tuple[Any, ...]] = [("value", base, None, ())]
        while stack:
            item = stack.pop()
            if item[0] == "field":
                stack.extend(reversed(self._dimension(*item[1:])))
            else:
                stack.extend(reversed(self._children(*item[1:])))
        return self.dimensions

    def _children(self, value: Any, path: TreePath | None, guard: Guard) -> list[tuple[Any, ...]]:
        if isinstance(value, (list, tuple)):
            return [("value", item, join(path, i), guard) for i, item in enumerate(value)]
        if isinstance(value, dict):
            return [("value", item, join(path, key), guard) for key, item in value.items()]
        if not isinstance(value, Configuration) or id(value) in self.seen:
            return []
        self.seen.add(id(value))
        cls = type(value)
        origin = registration_of(value)
        declared = (declared_search(origin.config) if origin is not None else None) or {}
        try:
            searched = field_search(cls)
        except ConfigurationError as error:
            raise self._rooted(error, path) from error
        dynamic = dynamic_fields(cls)
        children: list[tuple[Any, ...]] = []
        for name in cls.model_fields:
            inner = join(path, name)
            distribution = declared.get(name, searched.get(name))
            if distribution is not None and _parts(inner) in self.pinned:
                distribution = None  # a fixed override set it
            if distribution is not None:
                children.append(("field", cls, name, distribution, inner, guard))
            elif name in dynamic:
                children.append(("value", value.__dict__[name], inner, guard))
        return children

    def _rooted(self, error: ConfigurationError, path: TreePath | None) -> ConfigurationError:
        """The error with each ``Class.field`` path read from the root of the tree."""
        where = f"{self.label}.{render_path(_parts(path))}" if path is not None else self.label
        problems = [(f"{where}.{p.partition('.')[2]}", message) for p, message in error.errors]
        return ConfigurationError(problems)

    def _dimension(
        self,
        cls: type[Configuration],
        name: str,
        distribution: Distribution,
        path: TreePath,
        guard: Guard,
    ) -> list[tuple[Any, ...]]:
        position = len(self.dimensions)
        self.dimensions.append(Dimension(render_path(_parts(path)), distribution, guard))
        if not isinstance(distribution, Choice):
            return []
        accepted = dynamic_fields(cls).get(name)
        where = f"{self.label}.{render_path(_parts(path))}"
        walks: list[tuple[Any, ...]] = []
        for index, choice in enumerate(distribution.choices):
            if not _holds(choice):
                continue
            resolved = functools.partial(self._node, accepted=accepted, where=where, index=index)
            alternative = map_references(choice, resolved)
            walks.append(("value", alternative, path, (*guard, (position, index))))
        return walks

    def _node(
        self,
        item: RegistrationKey | Configuration,
        accepted: tuple[type[Configuration], ...] | None,
        where: str,
        index: int,
    ) -> Configuration:
        entries, suggest = self.registry._entries, self.registry._suggest
        if isinstance(item, Configuration):
            return resolve(item, entries, suggest, conditions=False)
        try:
            node = resolve(item, entries, suggest, conditions=False)
        except NotRegisteredError as error:
            if error.key != item:
                raise
            raise NotRegisteredError(item, path=where, suggestions=error.suggestions) from None
        if accepted and not isinstance(node, accepted):
            names = " or ".join(kind.__name__ for kind in accepted)
            message = (
                f"choice {index} names registration {str(item)!r}, which holds a "
                f"{type(node).__name__}, but this field accepts {names}"
            )
            raise ConfigurationError([(where, message)])
        return node


def _parts(path: TreePath | None) -> Parts:
    parts: list[str | int] = []
    while path is not None:
        parts.append(path.part)
        path = path.parent
    return tuple(reversed(parts))


def _holds(value: Any) -> bool:
    """Whether ``value`` is, or holds in its lists and dicts, a reference or configuration."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (Configuration, RegistrationKey)):
            return True
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False
