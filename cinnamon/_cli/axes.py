"""Sweep axes on the command line: ``PATH=a,b,c``, ``PATH=range(1,10,2)``, ``@KEY`` items.

An override whose value lists several values (commas outside brackets, braces and
quotes), is a ``range(...)``, or is a ``{ "@variants" = [...] }`` table varies its field
over them; every item is read as one override value is (TOML, ``@KEY`` or text). The
values are checked by the field's type when the grid is made, as the file form's are.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

from cinnamon.errors import DeclarationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

if TYPE_CHECKING:
    from cinnamon._core.registry import BaseRegistry

__all__ = ["is_axis", "split_axes"]

_RANGE = re.compile(r"range\((?P<inside>[^()]*)\)\Z")
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_OPEN, _CLOSE = "[{(", "]})"
_RANGE_ARGUMENTS = 3  # start, stop, step


def split_axes(
    overrides: list[str], *, registry: BaseRegistry, allow: list[str]
) -> tuple[list[str], dict[str, list[Any]], dict[str, str]]:
    """Separate fixed overrides from axes.

    Returns:
        The fixed overrides, each axis's values by path, and each axis's text by path.
    """
    from cinnamon._runs.overrides import parse_override, path_prefix  # noqa: PLC0415

    fixed: list[str] = []
    axes: dict[str, list[Any]] = {}
    texts: dict[str, str] = {}
    for text in overrides:
        parts, end = path_prefix(text)
        if not parts or not text.startswith("=", end):
            fixed.append(text)  # not PATH=VALUE: apply_overrides says so
            continue
        path, value = text[:end], text[end + 1 :]
        declared = _variants_table(value)
        items = None if declared is not None else _items(text, value)
        if declared is not None:
            values = _declared(text, declared, registry, allow)
        elif items is None:
            fixed.append(text)
            continue
        elif isinstance(items, range):
            values = list(items)
        else:
            values = [
                parse_override(f"{path}={item}", registry=registry, allow=allow)[1]
                for item in items
            ]
        if path in axes:
            raise _fail(text, f"{path!r} is varied twice; list all its values in one axis")
        axes[path] = values
        texts[path] = text
    return fixed, axes, texts


def is_axis(text: str) -> bool:
    """Whether an override (``PATH=VALUE``) gives several values, as only a sweep takes."""
    from cinnamon._runs.overrides import path_prefix  # noqa: PLC0415

    parts, end = path_prefix(text)
    if not parts or not text.startswith("=", end):
        return False
    value = text[end + 1 :]
    return _RANGE.match(value.strip()) is not None or len(_split(value)) > 1


def _items(text: str, value: str) -> list[str] | range | None:
    """The axis's items as text (or a range), or ``None`` for a single value."""
    found = _RANGE.match(value.strip())
    if found is not None:
        return _range(text, found["inside"])
    items = _split(value)
    if len(items) == 1:
        return None
    for item in items:
        if not item.strip():
            reason = "an axis lists values between commas, and one of them is empty"
            raise _fail(text, reason)
    return [item.strip() for item in items]


def _range(text: str, inside: str) -> range:
    numbers = [part.strip() for part in inside.split(",")]
    if not 1 <= len(numbers) <= _RANGE_ARGUMENTS or not all(
        _INTEGER.match(number) for number in numbers
    ):
        reason = (
            "range() takes one to three integers, as Python's does: range(STOP), "
            "range(START,STOP) or range(START,STOP,STEP); list other values with commas"
        )
        raise _fail(text, reason)
    arguments = [int(number) for number in numbers]
    if len(arguments) == _RANGE_ARGUMENTS and arguments[2] == 0:
        raise _fail(text, "range() step must not be zero")
    values = range(*arguments)
    if not values:
        raise _fail(text, f"range({inside}) holds no values (the stop is exclusive)")
    return values


def _variants_table(value: str) -> dict[str, Any] | None:
    """The table of a ``{ "@variants" = [...] }`` value, or ``None`` for any other value."""
    if not value.lstrip().startswith("{"):
        return None
    try:
        table = tomllib.loads(f"value = {value}")
    except tomllib.TOMLDecodeError:
        return None
    found = table.get("value")
    return found if isinstance(found, dict) and "@variants" in found else None


def _declared(
    text: str, table: dict[str, Any], registry: BaseRegistry, allow: list[str]
) -> list[Any]:
    from cinnamon._files.declarative import decode  # noqa: PLC0415

    others = sorted(str(key) for key in table if key != "@variants")
    items = table["@variants"]
    if others:
        raise _fail(text, f"@variants takes no other keys; found {', '.join(others)}")
    if not isinstance(items, list) or not items:
        raise _fail(text, "@variants holds a non-empty list of the field's values")
    place = _Place(text)
    return [decode(item, place, root="@variants", registry=registry, allow=allow) for item in items]


class _Place:
    """Places decoding errors of an axis's items at the override."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, reason: str, parts: tuple[str | int, ...]) -> DeclarationError:
        from cinnamon._files.formats import render_path  # noqa: PLC0415

        return DeclarationError(reason, file=f"override {self.text!r}", path=render_path(parts))


def _split(value: str) -> list[str]:
    """Split at commas that stand outside brackets, braces, parentheses and quotes."""
    items: list[str] = []
    depth, quote, start, position = 0, "", 0, 0
    while position < len(value):
        char = value[position]
        if quote:
            if char == "\\" and quote == '"':
                position += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif char == "," and depth == 0:
            items.append(value[start:position])
            start = position + 1
        position += 1
    items.append(value[start:])
    return items


def _fail(text: str, reason: str) -> DeclarationError:
    return DeclarationError(reason, file=f"override {text!r}")
