"""Error wording shared by every layer that validates values against configurations.

pydantic reports a failed validation as a list of locations inside the input; these
helpers turn them into cinnamon's dotted paths and plain sentences (what was found, what
was expected, which known names are close), for the loader, overrides and variants alike.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any, get_args, get_origin

from pydantic import ValidationError

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon.errors import ConfigurationError, close_matches, did_you_mean

__all__ = [
    "clean_location",
    "configurations_in",
    "describe_input",
    "describe_kind",
    "describe_object",
    "flatten",
    "import_path_or_repr",
    "unknown_field",
    "unknown_name",
]

Parts = tuple[str | int, ...]


def describe_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r:.60}"
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r:.60}"


def describe_object(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__!r}"
    return repr(import_path_or_repr(value))


def import_path_or_repr(value: Any) -> str:
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}:{qualname}"
    return repr(value)


def describe_input(value: Any) -> str:
    if isinstance(value, Configuration):
        return f"a {type(value).__name__}"
    if isinstance(value, RegistrationKey):
        return f"a reference to {str(value)!r}"
    return f"{value!r:.80}"


def unknown_name(what: str, name: Any, known: Iterable[str]) -> str:
    reason = f"unknown {what} {name!r}"
    close = close_matches(str(name), known)
    if close:
        return reason + did_you_mean(close)
    return reason + f" (expected one of {', '.join(known)})"


def flatten(error: ConfigurationError) -> list[tuple[tuple[Any, ...], Any]]:
    """Each problem under a configuration error as ``(pydantic location, details)``.

    Configurations validate in their own ``__init__``, so a nested one that fails shows
    up in its parent's error as a single "value error"; its own problems are brought up
    here, their locations joined to the parent's. Noise from the reference branch of
    ``Ref[...]`` unions is left out.
    """
    found: list[tuple[tuple[Any, ...], Any]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), iter(_details(error)))]
    while stack:
        prefix, details = stack[-1]
        detail = next(details, None)
        if detail is None:
            stack.pop()
            continue
        loc = (*prefix, *detail["loc"])
        inner = (detail.get("ctx") or {}).get("error")
        if isinstance(inner, ConfigurationError) and _details(inner):
            stack.append((loc, iter(_details(inner))))
        else:
            found.append((loc, detail))
    return found


def _details(error: ConfigurationError) -> list[Any]:
    cause = error.__cause__ or error.__context__
    if not isinstance(cause, ValidationError):
        return []
    details = cause.errors(include_url=False)
    return [detail for detail in details if not _other_branch(detail["loc"], details)]


def _other_branch(loc: tuple[Any, ...], details: list[Any]) -> bool:
    """Whether an error is only the reference branch of a union that failed elsewhere.

    For ``Ref[MLPConfig]`` given a table, pydantic reports both "not a valid MLPConfig"
    and "not a RegistrationKey"; only the first says anything.
    """
    for index, part in enumerate(loc):
        if isinstance(part, str) and "_validate_key" in part:
            prefix = loc[:index]
            return any(other["loc"][:index] == prefix and other["loc"] != loc for other in details)
    return False


def clean_location(loc: tuple[Any, ...], values: Any, *, keep_last: bool) -> Parts:
    """Drop the union members pydantic adds to a location, following the input's shape.

    Every part names something in the input except union members (``'MLPConfig'``,
    ``'function-plain[...]'``) and, for a missing field, the last part. Literal keys
    that start with '@' are written '@@' in files, so they go back to that.
    """
    parts: list[str | int] = []
    current = values
    for position, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, (list, tuple)) and isinstance(part, int):
            current = current[part] if 0 <= part < len(current) else None
        elif keep_last and position == len(loc) - 1:
            pass
        else:
            continue
        parts.append(f"@{part}" if isinstance(part, str) and part.startswith("@") else part)
    return tuple(parts)


def unknown_field(cls: type[Configuration], loc: tuple[Any, ...]) -> str:
    name = str(loc[-1])
    classes = classes_at(cls, loc[:-1])
    fields = sorted({field for owner in classes for field in owner.model_fields})
    owner = f" of {classes[0].__name__}" if len(classes) == 1 else ""
    reason = f"unknown field {name!r}{owner}"
    close = close_matches(name, fields)
    if close:
        return reason + did_you_mean(close)
    if fields:
        return reason + f" (its fields: {', '.join(fields)})"
    return reason


def classes_at(cls: type[Configuration], loc: tuple[Any, ...]) -> list[type[Configuration]]:
    """The configuration classes that may stand at ``loc`` below ``cls``."""
    current = [cls]
    for part in loc:
        if not isinstance(part, str):
            continue
        named = [owner for owner in current if owner.__name__ == part]
        if named:
            current = named
            continue
        annotations = [
            owner.model_fields[part].annotation for owner in current if part in owner.model_fields
        ]
        if annotations:
            found: list[type[Configuration]] = []
            for annotation in annotations:
                found.extend(c for c in configurations_in(annotation) if c not in found)
            current = found
    return current


def configurations_in(annotation: Any) -> list[type[Configuration]]:
    found: list[type[Configuration]] = []
    stack = [annotation]
    seen = 0
    while stack and seen < 1000:  # noqa: PLR2004 - annotations are small; stop if odd
        seen += 1
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, Configuration):
            found.append(item)
        elif get_origin(item) is not None or isinstance(item, types.UnionType):
            stack.extend(get_args(item))
        elif item is typing.Any:
            continue
    return found
