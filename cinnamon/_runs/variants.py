"""Variants: every combination of the alternatives declared in a configuration tree.

A field declared with ``Param(..., variants=[...])`` (or ``{ "@variants" = [...] }`` in
a file) is an **axis**; :meth:`Registry.variants <cinnamon.Registry.variants>` collects
the axes of a resolved tree and offers their combinations as a lazy grid::

    grid = registry.variants("demo:trainer")
    grid.count()  # the product of the axis sizes, without enumerating
    for variant in grid:  # in mixed-radix order, one combination at a time
        if variant.check() is None:
            variant.build()

Axes are found by a depth-first walk of the resolved base tree, fields in declaration
order, and are listed in the order the walk meets them; the last axis changes fastest,
as in :func:`itertools.product`. Nothing in the order depends on hashing, so it is the
same in every process.

Nested axes: when a field's variants hold configurations (reference alternatives such
as ``[RegistrationKey("mlp"), RegistrationKey("cnn")]``), every combination replaces
the field's value, so its axes are collected from each alternative's sub-tree rather
than from the base value's, each tied to its alternative. In a combination that picks
another alternative, such an axis does not exist. Keeping the grid a product (so that
counting and indexing stay arithmetic), the combination where that axis sits at its
first value stands for all of them: it is valid and leaves the axis out of its
overrides, and the others are skipped as repeats of it, with that reason. So every
distinct tree appears exactly once, and no combination is silently built twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import getitem
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn, final

from pydantic import ValidationError

from cinnamon._core.conditions import check_conditions
from cinnamon._core.configuration import (
    Configuration,
    check_variant,
    configuration_error,
    declared_variants,
    field_variants,
)
from cinnamon._core.key import RegistrationKey
from cinnamon._core.resolve import compile_plan, registration_of, resolve
from cinnamon._core.tree import TreePath, dynamic_fields, join, map_references, run
from cinnamon._files.formats import Parts, render_path
from cinnamon._runs.overrides import Copier, apply_overrides, parse_path, path_prefix, replaced
from cinnamon.errors import (
    ConditionError,
    ConfigurationError,
    NotRegisteredError,
    UsageError,
)

if TYPE_CHECKING:
    from cinnamon._core.registry import BaseRegistry

__all__ = ["Variant", "Variants", "variants_of"]

# (axis index, value index) pairs that must all hold for an axis to exist.
Guard = tuple[tuple[int, int], ...]


@final
class _Axis:
    """One varied field: where it is, its values, and when it exists."""

    __slots__ = ("applied", "copied", "guard", "parts", "path", "values")

    def __init__(
        self,
        parts: Parts,
        values: tuple[Any, ...],
        applied: tuple[Any, ...],
        guard: Guard,
    ) -> None:
        self.parts = parts
        self.path = render_path(parts)
        self.values = values  # as declared: what overrides show
        self.applied = applied  # references resolved: what a combination sets
        self.copied = tuple(_holds_configuration(value) for value in applied)
        self.guard = guard


@final
class Variants:
    """The combinations of the variants declared in a resolved tree: a lazy grid.

    Made by :meth:`Registry.variants <cinnamon.Registry.variants>`. The grid is a
    snapshot: it holds the base tree and, for reference alternatives, the sub-trees
    they resolved to when it was made, and never looks at the registry again.
    Iterating makes one :class:`Variant` at a time, in a fixed order, and can be done
    any number of times; nothing is resolved or built until a variant is asked to.

    Attributes:
        label: the root's path in messages (the key's name, or the class name).
        base: the resolved base tree (with the fixed overrides applied). Treat it as
            read-only: every variant starts from it.
    """

    __slots__ = ("_axes", "_count", "_guarded", "_paths", "_sizes", "_values", "base", "label")

    def __init__(self, base: Configuration, label: str, axes: Iterable[_Axis]) -> None:
        self.base = base
        self.label = label
        self._axes = tuple(axes)
        self._sizes = tuple(len(axis.values) for axis in self._axes)
        self._paths = tuple(axis.path for axis in self._axes)
        self._values = tuple(axis.values for axis in self._axes)
        self._count = math.prod(self._sizes)
        self._guarded = any(axis.guard for axis in self._axes)

    @property
    def axes(self) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        """Each axis as ``(dotted path, values)``, in grid order.

        Paths start below the root, as :func:`~cinnamon.apply_overrides` takes them.
        A reference alternative is given as its :class:`~cinnamon.RegistrationKey`.
        """
        return tuple((axis.path, axis.values) for axis in self._axes)

    def count(self) -> int:
        """Return the number of combinations (the product of the axis sizes).

        It is 1 when nothing varies (the base tree is the only variant) and 0 when an
        axis has no values. Counting enumerates nothing.
        """
        return self._count

    def __len__(self) -> int:
        """The number of combinations; use :meth:`count` for grids past ``sys.maxsize``."""
        return self._count

    def __iter__(self) -> Iterator[Variant]:
        """Yield every combination, the last axis changing fastest, in constant memory."""
        sizes = self._sizes
        if not self._count:
            return
        digits = [0] * len(sizes)
        last = len(sizes) - 1
        for index in range(self._count):
            yield Variant(self, index, tuple(digits))
            position = last
            while position >= 0:  # the odometer: carry into the axes on the left
                digits[position] += 1
                if digits[position] < sizes[position]:
                    break
                digits[position] = 0
                position -= 1

    def variant(self, index: int) -> Variant:
        """Return the combination at ``index`` (negative counts from the end).

        It costs one division per axis, so a worker process can rebuild any variant
        from its index and an equal registry:
        ``registry.variants(target, overrides=...).variant(index)``.

        Raises:
            IndexError: ``index`` is outside the grid.
        """
        if not -self._count <= index < self._count:
            msg = f"variant {index} is outside a grid of {self._count} combinations"
            raise IndexError(msg)
        index %= self._count
        digits = []
        rest = index
        for size in reversed(self._sizes):
            rest, digit = divmod(rest, size)
            digits.append(digit)
        return Variant(self, index, tuple(reversed(digits)))

    def valid(self, skipped: Callable[[Variant, str], object] | None = None) -> Iterator[Variant]:
        """Yield the combinations that pass :meth:`Variant.check`, lazily.

        Each one keeps the tree its check made, so that its :meth:`~Variant.build`
        does not resolve it again: hold on to no more of them than you need.

        Args:
            skipped: called with each other combination and the reason it is skipped.
        """
        for variant in self:
            reason = variant.check()
            if reason is None:
                yield variant
            elif skipped is not None:
                skipped(variant, reason)

    def __repr__(self) -> str:
        return f"<Variants of {self.label!r}: {len(self._axes)} axes, {self._count} combinations>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle()

    # -- for Variant --

    def _active(self, digits: tuple[int, ...]) -> Iterator[tuple[_Axis, int]]:
        """The axes that exist in a combination, with their value indices."""
        for axis, digit in zip(self._axes, digits, strict=True):
            if not axis.guard or all(digits[k] == j for k, j in axis.guard):
                yield axis, digit

    def _repeat(self, digits: tuple[int, ...]) -> tuple[int, str, str] | None:
        """Which variant a combination repeats, and why: an absent axis off its first value.

        Returns:
            ``None``, or the index repeated, the dotted path of the absent axis from the
            root, and why it is absent.
        """
        if not self._guarded:
            return None
        canonical = list(digits)
        first: tuple[str, str] | None = None
        for position, axis in enumerate(self._axes):
            missing = next(((k, j) for k, j in axis.guard if digits[k] != j), None)
            if missing is None or digits[position] == 0:
                continue
            canonical[position] = 0
            if first is None:
                outer = self._axes[missing[0]]
                shown = _shown(outer.values[digits[missing[0]]])
                first = (axis.path, f"does not apply when {outer.path!r} is {shown}")
        if first is None:
            return None
        index = 0
        for size, digit in zip(self._sizes, canonical, strict=True):
            index = index * size + digit
        return index, f"{self.label}.{first[0]}", first[1]


@final
class Variant:
    """One combination of a :class:`Variants` grid.

    Attributes:
        index: its position in the grid.
    """

    __slots__ = ("_digits", "_grid", "_tree", "index")

    def __init__(self, grid: Variants, index: int, digits: tuple[int, ...]) -> None:
        self._grid = grid
        self.index = index
        self._digits = digits
        self._tree: Configuration | None = None

    @property
    def overrides(self) -> Mapping[str, Any]:
        """The value of each axis, by dotted path below the root, in grid order.

        Axes that do not exist in this combination (inside an alternative it does not
        pick) are left out. These are ``PATH=VALUE`` overrides of the grid's base tree,
        as :func:`~cinnamon.apply_overrides` and ``cinnamon run`` take them.
        """
        grid = self._grid
        if not grid._guarded:  # every axis exists: zip paths with the chosen values
            chosen = map(getitem, grid._values, self._digits)
            return MappingProxyType(dict(zip(grid._paths, chosen)))  # noqa: B905 - equal
        return MappingProxyType(
            {axis.path: axis.values[digit] for axis, digit in grid._active(self._digits)}
        )

    def resolve(self) -> Configuration:
        """Return a fresh copy of the base tree with this combination applied and checked.

        Each configuration whose fields the combination sets is validated whole, with
        all its new values at once (so a validator comparing two varied fields sees the
        pair, never one new value next to an old one); then the conditions of the whole
        tree are checked.

        Raises:
            ConfigurationError: values a configuration refuses (a model validator across
                its fields, say), or a combination that repeats another (see the
                module's notes on nested axes); paths are from the root.
            ConditionError: the tree breaks a condition of one of its nodes.
        """
        grid = self._grid
        repeat = grid._repeat(self._digits)
        if repeat is not None:
            index, path, why = repeat
            raise ConfigurationError(
                [(path, f"{why}, so this combination repeats variant {index}")]
            )
        tree: Configuration = run(Copier().node(grid.base))  # keeps sharing and origins
        touched: dict[int, tuple[Configuration, Parts, set[str]]] = {}
        for axis, digit in grid._active(self._digits):
            value = axis.applied[digit]
            if axis.copied[digit]:  # every combination gets sub-trees of its own
                value = run(Copier().value(value))
            owner, at, field, inner = _locate(tree, axis.parts)
            if inner:
                value = replaced(owner.__dict__[field], inner, value)
            owner.__dict__[field] = value  # validated below, with the node's other values
            touched.setdefault(id(owner), (owner, at, set()))[2].add(field)
        for owner, at, fields in touched.values():
            _validate(owner, grid.label, at, fields)
        check_conditions(tree, grid.label)
        return tree

    def check(self) -> str | None:
        """Return ``None`` if this combination is valid, else the reason it is not.

        The reason is the message :meth:`resolve` would raise (a
        :class:`~cinnamon.errors.ConditionError` or a
        :class:`~cinnamon.errors.ConfigurationError`). A valid combination's tree is
        kept for the next :meth:`build`, which then does not resolve it again. A bug in
        a condition (an exception other than ``ValueError``) is raised, not reported.
        """
        try:
            self._tree = self.resolve()
        except (ConditionError, ConfigurationError) as error:
            return str(error)
        return None

    def build(self) -> Any:
        """Build this combination's component tree and return its root.

        Raises:
            ConfigurationError, ConditionError: as :meth:`resolve`.
            UsageError: the root names no component, or a constructor does not take its
                configuration's fields.
        """
        tree, self._tree = self._tree, None
        if tree is None:
            tree = self.resolve()
        return compile_plan(tree, self._grid.label).run()

    def __repr__(self) -> str:
        shown = " ".join(f"{path}={_shown(value)}" for path, value in self.overrides.items())
        repeat = self._grid._repeat(self._digits)
        if repeat is not None:  # its overrides are another variant's: say which
            shown += f" (repeats variant {repeat[0]})"
        return f"<Variant {self.index}: {shown or 'the base tree'}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle()


def variants_of(
    registry: BaseRegistry,
    target: RegistrationKey | str | Configuration,
    overrides: Mapping[str, Any] | Iterable[str] = (),
    axes: Mapping[str, Iterable[Any]] | None = None,
) -> Variants:
    """Collect the grid of ``target``'s resolved tree.

    See :meth:`Registry.variants <cinnamon.Registry.variants>`. ``axes`` maps dotted
    paths to the values to vary them over, as ``{ "@variants" = [...] }`` would on that
    field (the command line's ``PATH=a,b,c``); they replace any variants declared there.
    """
    if isinstance(target, Configuration):
        root: Configuration | RegistrationKey = target
        label = type(target).__name__
    else:
        root = RegistrationKey.coerce(target)
        label = root.name
    entries, suggest = registry._entries, registry._suggest
    # The base tree may break a condition that every combination mends, so conditions
    # are checked per combination, not here.
    base = resolve(root, entries, suggest, conditions=False)
    fixed: Mapping[str, Any] | list[str]
    if isinstance(overrides, Mapping):
        fixed = dict(overrides)
    else:
        fixed = [overrides] if isinstance(overrides, str) else list(overrides)
    if fixed:
        # Each combination is checked when resolved; the base alone may not satisfy them.
        base = apply_overrides(base, fixed, registry=registry, conditions=False)
    pinned = _pinned(fixed)
    collector = _Collector(registry, label, pinned)
    collector.extra = _extra_axes(registry, base, axes or {}, pinned)
    found = collector.collect(base)
    if collector.extra:
        path = render_path(next(iter(collector.extra)))
        msg = f"{path!r} is not a field of a configuration in the tree, so it cannot be varied"
        raise UsageError(msg)
    for parts in pinned:
        for axis in found:
            if axis.parts == parts[: len(axis.parts)] and len(axis.parts) < len(parts):
                msg = (
                    f"the fixed override of {render_path(parts)!r} lies inside "
                    f"{axis.path!r}, whose variants replace it in every combination; fix "
                    f"{axis.path!r} too, or declare the value in its variants"
                )
                raise UsageError(msg)
    return Variants(base, label, found)


def _extra_axes(
    registry: BaseRegistry,
    base: Configuration,
    axes: Mapping[str, Iterable[Any]],
    pinned: list[Parts],
) -> dict[Parts, tuple[Any, ...]]:
    """Check each axis's path (with suggestions) and values; key them by their parts."""
    extra: dict[Parts, tuple[Any, ...]] = {}
    for path, values in axes.items():
        parts = parse_path(path)
        items = tuple(values)
        if not items:
            msg = f"the axis {path!r} has no values"
            raise UsageError(msg)
        if parts in pinned:
            msg = f"{path!r} is both varied and fixed by an override; give it one or the other"
            raise UsageError(msg)
        # The first value as an override finds the path, or names the nearest ones.
        apply_overrides(base, {path: items[0]}, registry=registry, conditions=False)
        owner, _, field, inner = _locate(base, parts)
        if not inner:
            items = tuple(
                check_variant(type(owner), field, item, index) for index, item in enumerate(items)
            )
        extra[parts] = items
    return extra


def _pinned(fixed: Mapping[str, Any] | list[str]) -> list[Parts]:
    """The paths that fixed overrides set (apply_overrides has checked them)."""
    if isinstance(fixed, Mapping):
        return [parse_path(path) for path in fixed]
    return [path_prefix(text)[0] for text in fixed]


@final
class _Collector:
    """Finds the axes of a tree, depth first, without recursion."""

    __slots__ = ("axes", "extra", "label", "pinned", "registry", "seen")

    def __init__(self, registry: BaseRegistry, label: str, pinned: list[Parts]) -> None:
        self.registry = registry
        self.label = label
        self.pinned = set(pinned)  # membership only; never iterated
        self.axes: list[_Axis] = []
        self.seen: set[int] = set()
        self.extra: dict[Parts, tuple[Any, ...]] = {}  # axes given by path, not declared

    def collect(self, base: Configuration) -> list[_Axis]:
        # Items: ("value", value, path, guard) to walk into, or ("axis", owner class,
        # field, values, path, guard) to add when the walk reaches it. Paths are linked
        # (TreePath), so a deep tree costs no more than its size until an axis is found.
        stack: list[tuple[Any, ...]] = [("value", base, None, ())]
        while stack:
            item = stack.pop()
            if item[0] == "axis":
                stack.extend(reversed(self._axis(*item[1:])))
            else:
                stack.extend(reversed(self._children(*item[1:])))
        return self.axes

    def _children(self, value: Any, path: TreePath | None, guard: Guard) -> list[tuple[Any, ...]]:
        if isinstance(value, (list, tuple)):
            return [("value", item, join(path, i), guard) for i, item in enumerate(value)]
        if isinstance(value, dict):
            return [("value", item, join(path, key), guard) for key, item in value.items()]
        if not isinstance(value, Configuration) or id(value) in self.seen:
            return []  # a plain value, or a shared node already walked
        self.seen.add(id(value))
        cls = type(value)
        origin = registration_of(value)
        declared = declared_variants(origin.config) if origin is not None else None
        declared = declared or {}
        varied = field_variants(cls)
        dynamic = dynamic_fields(cls)
        children: list[tuple[Any, ...]] = []
        for name in cls.model_fields:
            inner = join(path, name)
            values = declared.get(name, varied.get(name))
            if self.extra:
                values = self.extra.pop(_parts(inner), values)
            if values is not None and self.pinned and _parts(inner) in self.pinned:
                values = None  # a fixed override set it
            if values is not None:
                children.append(("axis", cls, name, values, inner, guard))
            elif name in dynamic:
                children.append(("value", value.__dict__[name], inner, guard))
        return children

    def _axis(
        self,
        cls: type[Configuration],
        name: str,
        values: tuple[Any, ...],
        path: TreePath,
        guard: Guard,
    ) -> list[tuple[Any, ...]]:
        parts = _parts(path)
        accepted = dynamic_fields(cls).get(name)  # None: any configuration
        applied = tuple(
            self._resolved(value, accepted, parts, index) for index, value in enumerate(values)
        )
        position = len(self.axes)
        self.axes.append(_Axis(parts, values, applied, guard))
        # Each alternative's sub-tree is walked for axes of its own, tied to it.
        return [
            ("value", value, path, (*guard, (position, index)))
            for index, value in enumerate(applied)
            if _holds_configuration(value)
        ]

    def _resolved(
        self,
        value: Any,
        accepted: tuple[type[Configuration], ...] | None,
        parts: Parts,
        index: int,
    ) -> Any:
        """``value`` with every reference and inline configuration in it resolved."""
        if not _holds_reference_or_configuration(value):
            return value
        where = f"{self.label}.{render_path(parts)}"
        return map_references(value, lambda item: self._node(item, accepted, where, index))

    def _node(
        self,
        item: RegistrationKey | Configuration,
        accepted: tuple[type[Configuration], ...] | None,
        where: str,
        index: int,
    ) -> Configuration:
        """Resolve one alternative (conditions wait for the whole combination)."""
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
            names = " or ".join(cls.__name__ for cls in accepted)
            message = (
                f"variant {index} names registration {str(item)!r}, which holds a "
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


def _locate(root: Configuration, parts: Parts) -> tuple[Configuration, Parts, str, list[Any]]:
    """The node owning the field at ``parts``, its path, the field, and the path inside it."""
    owner, at, field, inner = root, 0, "", []  # type: tuple[Configuration, int, str, list[Any]]
    current: Any = root
    for position, part in enumerate(parts):
        if isinstance(current, Configuration):
            owner, at, field, inner = current, position, str(part), []
            current = current.__dict__[field]
        else:  # a list, tuple or dict inside the field
            inner.append(part)
            current = current[part]
    return owner, parts[:at], field, inner


def _validate(node: Configuration, label: str, at: Parts, fields: set[str]) -> None:
    """Validate ``node`` whole, in place (so sharing and origins stay), after new values."""
    unset = node.__pydantic_fields_set__
    try:
        type(node).__pydantic_validator__.validate_python(dict(node.__dict__), self_instance=node)
    except ValidationError as error:
        path = f"{label}.{render_path(at)}" if at else label
        raise configuration_error(error, path) from error
    object.__setattr__(node, "__pydantic_fields_set__", unset | fields)


def _holds_configuration(value: Any) -> bool:
    return _holds(value, (Configuration,))


def _holds_reference_or_configuration(value: Any) -> bool:
    return _holds(value, (Configuration, RegistrationKey))


def _holds(value: Any, kinds: tuple[type, ...]) -> bool:
    """Whether ``value`` is, or contains in its lists and dicts, an instance of ``kinds``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, kinds):
            return True
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _shown(value: Any) -> str:
    """A value as an override would write it (``@demo:mlp`` for a reference)."""
    if isinstance(value, RegistrationKey):
        return f"@{value}"
    return repr(value)


def _refuse_pickle() -> NoReturn:
    msg = (
        "variants are not pickled (a resolved tree would lose its registrations on the "
        "way); send the variant's index and rebuild it where it is needed with "
        "registry.variants(target, overrides=...).variant(index)"
    )
    raise UsageError(msg)
