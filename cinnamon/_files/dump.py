"""dump: a configuration tree written out as a declarative file that rebuilds it."""

from __future__ import annotations

import importlib
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Union, final, get_args, get_origin

from pydantic_core import PydanticUndefined, to_jsonable_python

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.resolve import registration_of
from cinnamon._core.tree import TreePath, Walk, dynamic_fields, join, run
from cinnamon._files.declarative import class_name
from cinnamon._files.formats import Format
from cinnamon.errors import UsageError

__all__ = ["dump"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_PART = re.compile(r"[^A-Za-z0-9_.\-]")
_ESCAPED = re.compile(r'[\x00-\x1f"\\\x7f]')
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_YAML_BREAKS = frozenset("\x85\u2028\u2029")
# Python turns integers of 4,300 digits into text by default (sys.get_int_max_str_digits);
# only integers longer than this many bits (about 3,000 digits) are checked against that.
_LONG_INT_BITS = 10_000
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dump(
    config: Configuration,
    *,
    format: Format = "toml",  # noqa: A002 - matches loads()
    key: RegistrationKey | str | None = None,
    aliases: Mapping[str, Any] | None = None,
) -> str:
    """Write a configuration tree as a declarative file that loads back into an equal one.

    ``config`` is usually a resolved tree (:meth:`Registry.resolve`), but any
    configuration works; references it still holds are written as references. Nested
    configurations are written inline with the import path of their class
    (``"@config" = "mypkg.models:MLPConfig"``), so loading the file needs their
    packages allowed. Nodes that appear more than once in the tree (shared references)
    and nodes whose registration builds another component than their class's default
    are written as registrations of their own and referenced, so that loading and
    resolving the file gives the same sharing and the same components.

    Args:
        config: the root of the tree.
        format: ``"toml"``, ``"yaml"`` (needs PyYAML) or ``"json"``.
        key: the key to register the root under; by default the key it was resolved
            from, or ``root``.
        aliases: short names for classes, written instead of their import paths (pass
            the same ``aliases`` to :func:`load`).

    Returns:
        The file's text.

    Raises:
        UsageError: ``config`` is not a configuration, a class has no import path and
            no alias, or a value has no form in the format (TOML has no null: a
            ``None`` is left out where it is the field's default and refused elsewhere;
            no format holds a node that contains itself, an integer too long for
            Python to write as text, or JSON and YAML nested deeper than their
            writers recurse).
    """
    if not isinstance(config, Configuration):
        msg = f"dump() writes a Configuration, not {type(config).__name__}"
        raise UsageError(msg)
    if format not in ("toml", "yaml", "json"):
        msg = f"unknown format {format!r}; use 'toml', 'yaml' or 'json'"
        raise UsageError(msg)
    if key is None:
        origin = registration_of(config)
        key = origin.key if origin is not None else RegistrationKey("root")
    document = _Encoder(format, aliases).document(config, RegistrationKey.coerce(key))
    if format == "toml":
        return _toml(document)
    try:
        if format == "json":
            return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        return _yaml(document)
    except RecursionError:  # both writers recurse; the tree walks above do not
        msg = f"values nested too deeply to write as {format.upper()}"
        raise UsageError(msg) from None


# -- from a tree to plain data ----------------------------------------------------------


@final
class _Encoder:
    __slots__ = ("fmt", "names", "promoted")

    def __init__(self, fmt: str, aliases: Mapping[str, Any] | None) -> None:
        self.fmt = fmt
        self.names: dict[int, str] = {}
        for name, cls in (aliases or {}).items():
            self.names.setdefault(id(cls), name)
        self.promoted: dict[int, tuple[RegistrationKey, bool]] = {}  # id -> key, shared

    def name(self, cls: Any) -> str:
        return self.names.get(id(cls)) or class_name(cls)

    def document(self, root: Configuration, key: RegistrationKey) -> dict[str, Any]:
        nodes = self._promote(root, key)
        registrations = {str(key): run(self._entry(root, TreePath(None, key.name)))}
        for node in nodes:
            node_key = self.promoted[id(node)][0]
            registrations[str(node_key)] = run(self._entry(node, TreePath(None, node_key.name)))
        return {"registrations": registrations}

    def _promote(self, root: Configuration, key: RegistrationKey) -> list[Configuration]:
        """Pick the nodes written as registrations of their own, in tree order."""
        order, counts = _nodes(root, TreePath(None, key.name))
        taken = {key}
        nodes = []
        for node, path in order[1:]:
            shared = counts[id(node)] > 1
            origin = registration_of(node)
            rebuilt = origin is not None and origin.component is not type(node).__component__
            if not (shared or rebuilt):
                continue
            node_key = origin.key if origin is not None else None
            if node_key is None or node_key in taken:
                node_key = _fresh_key(key, path, taken)
            taken.add(node_key)
            self.promoted[id(node)] = (node_key, shared)
            nodes.append(node)
        return nodes

    def _entry(self, node: Configuration, path: TreePath) -> Walk:
        cls = type(node)
        entry: dict[str, Any] = {"config": self.name(cls)}
        origin = registration_of(node)
        if origin is not None:
            if origin.component is not None and origin.component is not cls.__component__:
                entry["component"] = self.name(origin.component)
            default = (cls.__doc__ or "").strip().partition("\n")[0]
            if origin.description and origin.description != default:
                entry["description"] = origin.description
        entry["fields"] = yield from self._fields(node, path)
        return entry

    def _fields(self, node: Configuration, path: TreePath) -> Walk:
        fields: dict[str, Any] = {}
        values = node.__dict__
        for name, field in type(node).model_fields.items():
            value = values[name]
            if value is None and self.fmt == "toml":
                default = field.get_default(call_default_factory=True)
                if default is None or default is PydanticUndefined:
                    continue  # left out, loading gives None back (or says it is missing)
                msg = (
                    f"{join(path, name)}: None has no TOML form, and leaving the field out "
                    f"would give its default {default!r}; dump as JSON or YAML instead"
                )
                raise UsageError(msg)
            strict = _strict(type(node), name)
            if strict is _TUPLE and type(value) is tuple:  # the field makes it a tuple again
                value = list(value)
            fields[name] = yield from self._value(value, join(path, name), strict=bool(strict))
        return fields

    def _value(self, value: Any, path: TreePath, *, strict: bool) -> Walk:
        """The plain data of ``value``; ``strict`` where the field takes any value.

        A field that takes any value gives back what the file holds, so there only
        values that a file gives back unchanged can be written: a tuple, a set, bytes,
        a dict of another kind or with keys that are not strings would come back as
        something else, and are refused.
        """
        if isinstance(value, Configuration):
            promoted = self.promoted.get(id(value))
            if promoted is not None:
                return _reference(promoted[0], shared=promoted[1])
            inline = {"@config": self.name(type(value))}
            inline.update((yield self._fields(value, path)))
            return inline
        if isinstance(value, RegistrationKey):
            return _reference(value, shared=value.shared)
        if strict and isinstance(value, (tuple, set, frozenset, dict)) and type(value) is not dict:
            raise _unfaithful(value, path, self.fmt)
        if isinstance(value, (list, tuple)):
            items = []
            for index, item in enumerate(value):
                items.append((yield self._value(item, join(path, index), strict=strict)))
            return items
        if isinstance(value, dict):
            table: dict[str, Any] = {}
            for name, item in value.items():
                key = _dict_key(name, path)
                if strict and not isinstance(name, str):
                    raise _unfaithful_key(name, path)
                table[key] = yield self._value(item, join(path, str(name)), strict=strict)
            return table
        return (yield from self._other(value, path, strict=strict))

    def _other(self, value: Any, path: TreePath, *, strict: bool = False) -> Walk:
        """Plain values as they are; others as pydantic writes them to JSON."""
        if type(value) is str and "${" in value:  # loading reads ${...}; $${ is a literal
            return value.replace("${", "$${")
        if type(value) in (str, int, float, bool):
            if type(value) is int and value.bit_length() > _LONG_INT_BITS:
                _check_digits(value, path)
            return value
        if value is None:
            if self.fmt == "toml":
                msg = f"{path}: None has no TOML form; dump as JSON or YAML instead"
                raise UsageError(msg)
            return None
        try:
            plain = to_jsonable_python(value)
        except Exception as error:  # pydantic's own error kinds differ between versions
            msg = f"{path}: cannot write {type(value).__name__} {value!r:.60} in a file"
            raise UsageError(msg) from error
        if strict:  # written as text or numbers, it would be read back as those
            raise _unfaithful(value, path, self.fmt)
        return (yield self._value(plain, path, strict=False))


_TUPLE = 2  # _strict's answer for a field whose annotation is a tuple of anything
_strict_fields: dict[tuple[type[Configuration], str], int] = {}
_UNIONS = (Union, types.UnionType)


def _strict(cls: type[Configuration], name: str) -> int:
    """Whether the field keeps any value as it is given (``Any``, ``object``, ...)."""
    found = _strict_fields.get((cls, name))
    if found is None:
        annotation = cls.model_fields[name].annotation
        found = int(_takes_anything(annotation))
        if found and get_origin(annotation) is tuple:
            found = _TUPLE
        _strict_fields[(cls, name)] = found
    return found


def _takes_anything(annotation: Any) -> bool:
    stack = [annotation]
    while stack:
        item = stack.pop()
        if item is Any or item is object or isinstance(item, typing.TypeVar):
            return True
        if isinstance(item, type) and issubclass(item, Configuration):
            continue
        stack.extend(argument for argument in get_args(item) if argument is not Ellipsis)
    return False


def _unfaithful(value: Any, path: TreePath, fmt: str) -> UsageError:
    kind = type(value)
    if kind is tuple:
        comes_back = "a list"
        fix = "use a list, or annotate the field as a tuple"
    elif isinstance(value, dict):
        comes_back = "a plain dict"
        fix = "use a plain dict, or annotate the field with its type"
    elif isinstance(value, (set, frozenset)):
        comes_back = "a list"
        fix = "use a list, or annotate the field as a set"
    else:
        comes_back = f"text or numbers, not a {kind.__name__}"
        fix = "annotate the field with its type, which turns the file's value back into it"
    msg = (
        f"{path}: a value of type {kind.__name__} in a field that takes any value would "
        f"come back from the {fmt.upper()} file as {comes_back}, so the file would describe "
        f"another configuration; {fix}"
    )
    return UsageError(msg)


def _unfaithful_key(name: Any, path: TreePath) -> UsageError:
    msg = (
        f"{path}: the dict key {name!r} is of type {type(name).__name__}; in a field that takes "
        "any value it would come back from the file as a string, so the file would "
        "describe another configuration; use string keys, or annotate the field"
    )
    return UsageError(msg)


def _nodes(
    root: Configuration, path: TreePath
) -> tuple[list[tuple[Configuration, TreePath]], dict[int, int]]:
    """Every node of the tree once, in tree order, and how often each one appears.

    Raises:
        UsageError: a node holds itself (the same object further up the tree).
    """
    counts: dict[int, int] = {}
    order: list[tuple[Configuration, TreePath]] = []
    above: set[int] = set()  # the nodes on the way down to the current one
    stack: list[tuple[Any, TreePath]] = [(root, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Leave):
            above.discard(value.node)
        elif isinstance(value, Configuration):
            if id(value) in above:
                msg = (
                    f"{path}: this {type(value).__name__} holds itself (the same object "
                    "further up the tree), which no file can write"
                )
                raise UsageError(msg)
            counts[id(value)] = counts.get(id(value), 0) + 1
            if counts[id(value)] > 1:
                continue
            order.append((value, path))
            above.add(id(value))
            stack.append((_Leave(id(value)), path))
            children = [(value.__dict__[n], join(path, n)) for n in dynamic_fields(type(value))]
            stack.extend(reversed(children))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed([(v, join(path, i)) for i, v in enumerate(value)]))
        elif isinstance(value, dict):
            stack.extend(reversed([(v, join(path, str(k))) for k, v in value.items()]))
    return order, counts


@final
class _Leave:
    """A marker on the walk's stack: the walk is done with the node ``node`` (an id)."""

    __slots__ = ("node",)

    def __init__(self, node: int) -> None:
        self.node = node


def _reference(key: RegistrationKey, *, shared: bool) -> dict[str, Any]:
    return {"@ref": str(key), "@shared": True} if shared else {"@ref": str(key)}


def _dict_key(name: Any, path: TreePath) -> str:
    if isinstance(name, str):
        return f"@{name}" if name.startswith("@") else name
    if isinstance(name, int) and not isinstance(name, bool):
        _check_digits(name, path)
        return str(name)  # pydantic reads the string back for dict[int, ...]
    msg = f"{path}: dict keys must be strings or integers to be written, not {name!r}"
    raise UsageError(msg)


def _check_digits(number: int, path: TreePath) -> None:
    """Refuse an integer with more digits than Python turns into text."""
    try:
        str(number)
    except ValueError:
        msg = (
            f"{path}: an integer of {number.bit_length():,} bits has more digits than Python "
            "writes as text (see sys.set_int_max_str_digits), so no file can hold it"
        )
        raise UsageError(msg) from None


def _fresh_key(
    root: RegistrationKey, path: TreePath, taken: set[RegistrationKey]
) -> RegistrationKey:
    name = _KEY_PART.sub("_", str(path).replace("[", ".").replace("]", ""))
    key = RegistrationKey(name, (), root.namespace)
    number = 1
    while key in taken:
        number += 1
        key = RegistrationKey(f"{name}-{number}", (), root.namespace)
    return key


# -- writing text -------------------------------------------------------------------------


def _yaml(document: dict[str, Any]) -> str:
    try:
        yaml: Any = importlib.import_module("yaml")  # optional: needed only for YAML
    except ImportError:
        msg = "writing YAML needs PyYAML; install it with: pip install 'cinnamon[yaml]'"
        raise UsageError(msg) from None
    text: str = yaml.dump(document, Dumper=_yaml_dumper(yaml), sort_keys=False, allow_unicode=True)
    return text


_yaml_dumpers: dict[int, Any] = {}


def _yaml_dumper(yaml: Any) -> Any:
    cached = _yaml_dumpers.get(id(yaml))
    if cached is None:

        class Dumper(yaml.SafeDumper):  # type: ignore[misc] # the base class is Any to mypy
            """PyYAML's safe dumper, quoting strings with Unicode line breaks.

            Written plainly or in single quotes, they come back as spaces or newlines.
            """

        def string(dumper: Any, text: str) -> Any:
            style = '"' if any(char in _YAML_BREAKS for char in text) else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

        Dumper.add_representer(str, string)
        cached = _yaml_dumpers[id(yaml)] = Dumper
    return cached


def _toml(document: dict[str, Any]) -> str:
    """Write plain data as TOML: tables as [headers], lists and references inline."""
    lines: list[str] = []
    stack: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), document)]
    while stack:
        path, table = stack.pop()
        inline = [(k, v) for k, v in table.items() if not _is_table(v)]
        if path and (inline or not table):
            if lines:
                lines.append("")
            lines.append("[" + ".".join(_key(part) for part in path) + "]")
        for name, value in inline:
            lines.append(f"{_key(name)} = {_toml_value(value, multiline=True)}")
        nested = [((*path, k), v) for k, v in table.items() if _is_table(v)]
        stack.extend(reversed(nested))
    return "\n".join(lines) + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and "@ref" not in value


def _toml_value(value: Any, *, multiline: bool = False) -> str:
    if not isinstance(value, (dict, list)):
        return _scalar(value)
    if multiline and isinstance(value, list) and any(isinstance(v, dict) for v in value):
        items = [
            run(_inline(item)) if isinstance(item, (dict, list)) else _scalar(item)
            for item in value
        ]
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    return str(run(_inline(value)))


def _inline(value: dict[str, Any] | list[Any]) -> Walk:
    parts = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for name, item in items:
        text = (yield _inline(item)) if isinstance(item, (dict, list)) else _scalar(item)
        parts.append(text if isinstance(value, list) else f"{_key(str(name))} = {text}")
    if isinstance(value, list):
        return "[" + ", ".join(parts) + "]"
    return "{ " + ", ".join(parts) + " }" if parts else "{}"


def _scalar(value: Any) -> str:  # noqa: PLR0911 - one return per kind
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    msg = f"cannot write {type(value).__name__} {value!r:.60} as TOML"  # pragma: no cover
    raise UsageError(msg)  # pragma: no cover - the encoder leaves only plain values


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    if _SURROGATE.search(text):
        msg = f"the string {text!r:.60} holds a lone surrogate, which TOML cannot write"
        raise UsageError(msg)
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"
