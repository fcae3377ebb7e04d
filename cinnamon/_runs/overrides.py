"""apply_overrides: set any field of a resolved tree by its dotted path."""

from __future__ import annotations

import copy
import itertools
import json
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, final

from cinnamon._core.conditions import check_conditions
from cinnamon._core.configuration import Configuration
from cinnamon._core.explain import clean_location, describe_input, flatten
from cinnamon._core.key import RegistrationKey
from cinnamon._core.limits import MAX_DEPTH, too_deep
from cinnamon._core.resolve import origin_of, registration_of
from cinnamon._core.tree import Walk, dynamic_fields, map_references, run, values
from cinnamon._files.declarative import decode
from cinnamon._files.env import interpolate
from cinnamon._files.formats import Parts, check_nesting, render_path
from cinnamon.errors import (
    CinnamonError,
    ConfigurationError,
    DeclarationError,
    InvalidKeyError,
    InvalidValueError,
    UsageError,
    close_matches,
    did_you_mean,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

if TYPE_CHECKING:
    from cinnamon._core.registry import BaseRegistry

__all__ = ["Copier", "apply_overrides", "parse_override", "parse_path", "path_prefix", "replaced"]

_SEGMENT = re.compile(
    r"""(?P<dot>\.)?(?:
        (?P<name>[A-Za-z0-9_\-]+)
      | (?P<key>"(?:[^"\\]|\\.)*")
      | \[\s*(?:(?P<index>-?[0-9]+)|(?P<quoted>"(?:[^"\\]|\\.)*")|'(?P<literal>[^']*)')\s*\]
    )""",
    re.VERBOSE,
)
_TOO_DEEP = (
    f"values nested too deeply: more than {MAX_DEPTH} lists, tables or tuples inside one another"
)
_MAX_SUGGESTED_PATHS = 20_000  # enough for any tree a person reads; bounds the search


def apply_overrides(
    tree: Configuration,
    overrides: Mapping[str, Any] | Iterable[str],
    *,
    registry: BaseRegistry | None = None,
    allow: Iterable[str] = (),
    aliases: Mapping[str, Any] | None = None,
    conditions: bool = True,
) -> Configuration:
    """Return a copy of ``tree`` with fields set by dotted path.

    Paths start below the root: ``model.hidden``, ``callbacks[1].patience``,
    ``weights.decoder`` or ``weights["a key"]`` for dict entries. Overrides are applied
    in order, each validated by the configuration that owns the field.

    ``overrides`` is either a mapping of paths to Python values, or strings
    ``PATH=VALUE`` as typed on a command line. There, ``VALUE`` is read as a TOML value
    when it is one (``64``, ``0.1``, ``true``, ``"text"``, ``[1, 2]``, ``{ "@ref" =
    "demo:mlp" }``, ``{ "@config" = "SGDConfig", lr = 0.1 }``) and as a plain string
    otherwise; ``@KEY`` (``model=@demo:mlp_big``) swaps in the registration ``KEY``.

    References in new values (``@KEY``, ``{ "@ref" = ... }``, or
    :class:`~cinnamon.RegistrationKey` values) are resolved through ``registry``. The
    copy keeps the tree's sharing: a node shared by several fields is one node in the
    copy too, so setting a field of it changes it everywhere.

    Args:
        tree: a resolved configuration tree (it is not changed).
        overrides: the assignments.
        registry: resolves references in new values.
        allow: package roots that inline ``"@config"`` values may import from.
        aliases: short names for classes in inline ``"@config"`` values (classes
            registered in ``registry`` are known by their ``__name__`` too).
        conditions: check the tree's conditions afterwards (off for a tree that is
            still a step towards the final one, as a grid's base is).

    Raises:
        DeclarationError: a malformed override, a path the tree does not have (naming
            the nearest paths it has), or a value the field refuses.
        ConditionError: the overridden tree breaks a condition.
        UsageError: ``tree`` is not a configuration, or holds itself.
    """
    if not isinstance(tree, Configuration):
        msg = f"apply_overrides() takes a Configuration tree, not {type(tree).__name__}"
        raise UsageError(msg)
    assignments = _assignments(overrides, registry, allow, aliases)
    root = _copy(tree)
    for assignment in assignments:
        assignment.apply(root, registry)
    if assignments and conditions:  # new values may break an invariant that held before
        origin = origin_of(root)
        check_conditions(root, type(root).__name__ if origin is None else origin.name)
    return root


def parse_override(
    text: str,
    *,
    registry: BaseRegistry | None = None,
    allow: Iterable[str] = (),
    aliases: Mapping[str, Any] | None = None,
) -> tuple[str, Any]:
    """Read one ``PATH=VALUE`` string as :func:`apply_overrides` does: its path and value.

    Raises:
        DeclarationError: the text is not ``PATH=VALUE``, or the value is malformed.
    """
    assignment = _assignments([text], registry, allow, aliases)[0]
    return render_path(assignment.parts), assignment.value


def parse_path(text: str) -> Parts:
    """Read a dotted path (``callbacks[1].patience``) into its parts.

    Raises:
        ValueError: the text is not a dotted path.
    """
    parts, end = path_prefix(text)
    if end != len(text) or not parts:
        msg = f"malformed path {text!r}: write field names with dots and [index]"
        raise ValueError(msg)
    return parts


def path_prefix(text: str) -> tuple[Parts, int]:
    """Read the dotted path at the start of ``text``; return its parts and where it ends."""
    parts: list[str | int] = []
    position = 0
    while True:
        found = _SEGMENT.match(text, position)
        bare = found is not None and (found["name"] or found["key"])
        if found is None or (parts and bare and not found["dot"]):
            return tuple(parts), position
        if not parts and found["dot"]:
            return (), 0
        if found["name"] is not None:
            parts.append(found["name"])
        elif found["index"] is not None:
            parts.append(int(found["index"]))
        elif found["quoted"] is not None or found["key"] is not None:
            parts.append(json.loads(found["quoted"] or found["key"]))
        else:
            parts.append(found["literal"])
        position = found.end()


@final
class _Assignment:
    """One override: where, what, and how to name it in errors."""

    __slots__ = ("label", "parts", "value")

    def __init__(self, label: str, parts: Parts, value: Any) -> None:
        self.label = label
        self.parts = parts
        self.value = value

    def fail(self, reason: str, parts: Parts | None = None) -> DeclarationError:
        """The error for this override (``parts`` is where in the value, if anywhere)."""
        return DeclarationError(
            reason, file=f"override {self.label!r}", path=render_path(parts or self.parts)
        )

    def apply(self, root: Configuration, registry: BaseRegistry | None) -> None:
        owner, field, inner = self._find(root)
        value = _resolved(self.value, registry, self)
        if inner:
            value = replaced(owner.__dict__[field], inner, value)
        try:
            setattr(owner, field, value)
        except ConfigurationError as error:
            refused = self.fail(_reason(error, field, value))
            raise InvalidValueError.from_declaration(refused) from error

    def _find(self, root: Configuration) -> tuple[Configuration, str, list[Any]]:
        """The configuration that owns the field, the field, and the path inside it."""
        owner, field, inner = root, "", []  # type: tuple[Configuration, str, list[Any]]
        current: Any = root
        for position, part in enumerate(self.parts):
            last = position == len(self.parts) - 1
            where = render_path(self.parts[:position]) or "the root"
            if isinstance(current, Configuration):
                if not isinstance(part, str) or part not in type(current).model_fields:
                    shown = repr(part) if isinstance(part, str) else f"[{part}]"
                    reason = f"{type(current).__name__} at {where} has no field {shown}"
                    raise self.fail(reason + _nearest(root, self.parts))
                owner, field, inner = current, part, []
                current = current.__dict__[part]
            elif isinstance(current, (list, tuple)):
                if not isinstance(part, int) or not -len(current) <= part < len(current):
                    reason = f"{where} is a list of {len(current)} items; no item {part!r}"
                    raise self.fail(reason + _items_like(root, self.parts, position, current))
                inner.append(part % len(current))
                current = current[part]
            elif isinstance(current, dict):
                key = _dict_key(current, part)
                if key not in current and not last:
                    reason = f"{where} has no entry {part!r}"
                    raise self.fail(reason + _nearest(root, self.parts))
                inner.append(key)
                current = current.get(key)
            elif isinstance(current, RegistrationKey):
                reason = (
                    f"{where} is an unresolved reference to {str(current)!r}; "
                    "overrides apply to resolved trees (Registry.resolve)"
                )
                raise self.fail(reason)
            else:
                reason = (
                    f"{where} holds {type(current).__name__} {current!r:.40}, which has no {part!r}"
                )
                raise self.fail(reason + _nearest(root, self.parts))
        return owner, field, inner


def _dict_key(table: dict[Any, Any], part: str | int) -> Any:
    if part in table:
        return part
    if isinstance(part, str) and part.lstrip("-").isdigit() and int(part) in table:
        return int(part)
    return part


def _assignments(
    overrides: Mapping[str, Any] | Iterable[str],
    registry: BaseRegistry | None,
    allow: Iterable[str],
    aliases: Mapping[str, Any] | None,
) -> list[_Assignment]:
    found = []
    if isinstance(overrides, Mapping):
        for path, value in overrides.items():
            label = f"{path}={value!r:.60}"
            try:
                parts = parse_path(path)
            except ValueError as error:
                raise DeclarationError(str(error), file=f"override {label!r}") from None
            assignment = _Assignment(label, parts, value)
            deep = too_deep(value)
            if deep is not None:
                raise assignment.fail(_TOO_DEEP, (*parts, *deep))
            found.append(assignment)
        return found
    if isinstance(overrides, str):
        overrides = [overrides]
    for text in overrides:
        parts, end = path_prefix(text)
        if not parts or not text.startswith("=", end):
            reason = "expected PATH=VALUE, like model.hidden=64 or callbacks[0].patience=5"
            raise DeclarationError(reason, file=f"override {text!r}")
        assignment = _Assignment(text, parts, None)
        assignment.value = _parse_value(text[end + 1 :], assignment, registry, allow, aliases)
        found.append(assignment)
    return found


def _parse_value(
    text: str,
    assignment: _Assignment,
    registry: BaseRegistry | None,
    allow: Iterable[str],
    aliases: Mapping[str, Any] | None,
) -> Any:
    """Read an override's value: ``@KEY``, a TOML value, or else the text itself."""
    if text.startswith("@"):
        try:
            return RegistrationKey.parse(text[1:])
        except InvalidKeyError as error:
            reason = f"{error}; a string that starts with '@' is written in quotes: '\"@...\"'"
            raise assignment.fail(reason) from None
    place = _Place(assignment)
    try:
        check_nesting(text, "toml", assignment.label)
        table = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return _interpolated(text, assignment)
    except DeclarationError as error:  # nested too deeply for the parser
        raise assignment.fail(error.reason) from None
    except RecursionError:
        raise assignment.fail(_TOO_DEEP) from None
    except ValueError as error:  # a number past Python's 4,300-digit limit, say
        raise assignment.fail(f"invalid value: {error}") from None
    if list(table) != ["value"]:  # the text held a newline and more keys: not one value
        return _interpolated(text, assignment)
    deep = too_deep(table["value"], restart="@config")
    if deep is not None:
        raise assignment.fail(_TOO_DEEP, (*assignment.parts, *deep))
    return decode(table["value"], place, root="", registry=registry, allow=allow, aliases=aliases)


def _interpolated(text: str, assignment: _Assignment) -> str:
    try:
        return interpolate(text)
    except ValueError as error:
        raise assignment.fail(str(error)) from None


@final
class _Place:
    """Places decoding errors at the override, below its path."""

    __slots__ = ("assignment",)

    def __init__(self, assignment: _Assignment) -> None:
        self.assignment = assignment

    def fail(self, reason: str, parts: Parts) -> DeclarationError:
        return self.assignment.fail(reason, (*self.assignment.parts, *parts[1:]))


def _resolved(value: Any, registry: BaseRegistry | None, assignment: _Assignment) -> Any:
    """``value`` with every reference in it resolved through ``registry``."""

    def resolved(item: RegistrationKey | Configuration) -> Any:
        if registry is None:
            if isinstance(item, Configuration):
                return item
            reason = f"swapping in {str(item)!r} needs a registry to resolve it"
            raise assignment.fail(reason)
        try:
            return registry.resolve(item)
        except CinnamonError as error:
            raise assignment.fail(f"cannot resolve the new value: {error}") from error

    return map_references(value, resolved)


def replaced(container: Any, inner: list[Any], value: Any) -> Any:
    """A copy of ``container`` with the item at the path ``inner`` set to ``value``."""
    chain = [container]
    for part in inner[:-1]:
        chain.append(chain[-1][part])
    new = value
    for holder, part in zip(reversed(chain), reversed(inner), strict=True):
        if isinstance(holder, dict):
            table = dict(holder)
            table[part] = new
            new = table
        else:
            items = list(holder)
            items[part] = new
            new = tuple(items) if isinstance(holder, tuple) else items
    return new


def _reason(error: ConfigurationError, field: str, value: Any) -> str:
    reasons = []
    for loc, detail in flatten(error):
        inner = clean_location(loc, {field: value}, keep_last=detail["type"] == "missing")
        where = f"at {render_path(inner[1:])}: " if len(inner) > 1 else ""
        reasons.append(f"{where}{detail['msg']} (got {describe_input(detail['input'])})")
    return "; ".join(reasons) or str(error)


def _copy(tree: Configuration) -> Configuration:
    """A copy of the tree that shares nothing with it but keeps its sharing and origins."""
    return run(Copier().node(tree))  # type: ignore[no-any-return]


@final
class Copier:
    """Copies a tree node by node, keeping its sharing and each node's registration."""

    __slots__ = ("active", "done")

    def __init__(self) -> None:
        self.done: dict[int, Configuration] = {}
        self.active: set[int] = set()  # the nodes being copied: a tree never holds one

    def node(self, config: Configuration) -> Walk:
        seen = self.done.get(id(config))
        if seen is not None:
            return seen
        if id(config) in self.active:
            msg = (
                f"the tree holds a {type(config).__name__} inside itself; apply_overrides "
                "takes a resolved tree (Registry.resolve), which never does"
            )
            raise UsageError(msg)
        self.active.add(id(config))
        dynamic = dynamic_fields(type(config))
        updates = {}
        for name, value in config.__dict__.items():
            if name in dynamic:
                updates[name] = yield from self.value(value)
            else:
                updates[name] = copy.deepcopy(value)
        duplicate = config.model_copy(update=updates)
        object.__setattr__(duplicate, "_cinnamon_origin", registration_of(config))
        self.done[id(config)] = duplicate
        self.active.discard(id(config))
        return duplicate

    def value(self, value: Any) -> Walk:
        if isinstance(value, Configuration):
            return (yield self.node(value))
        if isinstance(value, (list, tuple)):
            items = []
            for item in value:
                items.append((yield from self.value(item)))  # noqa: PERF401 - a yield
            return type(value)(items) if type(value) in (list, tuple) else items
        if isinstance(value, dict):
            table = {}
            for key, item in value.items():
                table[key] = yield from self.value(item)
            return table
        return copy.deepcopy(value)


def _items_like(root: Configuration, parts: Parts, position: int, items: Any) -> str:
    """Suggest the list's items that have the rest of the path, or else its valid range.

    Close matches by spelling would offer other digits of unrelated paths.
    """
    if not items:
        return "; it is empty"
    rest = render_path(("x", *parts[position + 1 :]))[1:]
    prefix = render_path(parts[:position])
    have = set(_all_paths(root))
    wanted = parts[position] if isinstance(parts[position], int) else 0
    nearest = sorted(range(len(items)), key=lambda i: abs(i - wanted))  # type: ignore[operator]
    found = [f"{prefix}[{i}]{rest}" for i in nearest if f"{prefix}[{i}]{rest}" in have]
    if found and rest:
        return did_you_mean(found[:3])
    return f"; use [0] to [{len(items) - 1}], or [-1] for the last"


def _nearest(root: Configuration, parts: Parts) -> str:
    wanted = render_path(parts)
    return did_you_mean(close_matches(wanted, _all_paths(root)))


def _all_paths(root: Configuration) -> list[str]:
    """Every dotted path of the tree, pre-order, up to a bound."""
    paths = (render_path(path.parts()[1:]) for _, path in values(root))
    return list(itertools.islice(paths, 1, _MAX_SUGGESTED_PATHS + 1))  # not the root's ""
