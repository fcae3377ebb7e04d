"""json_schema: a JSON Schema of declarative files, for editors to complete and check."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import (
    GenerateJsonSchema,
    JsonSchemaValue,
    JsonSchemaWarningKind,
    models_json_schema,
)

from cinnamon._core.configuration import Configuration
from cinnamon._core.explain import configurations_in
from cinnamon._core.key import KEY_RE
from cinnamon._core.registry import BaseRegistry
from cinnamon._files.declarative import class_name
from cinnamon.errors import UsageError

if TYPE_CHECKING:
    from pydantic_core import core_schema

__all__ = ["json_schema"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_KEY_PATTERN = f"^{KEY_RE.pattern}$"
_IMPORT_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"
_REFERENCE = "cinnamon.Reference"


class _Generator(GenerateJsonSchema):
    """pydantic's generator, writing ``{}`` (anything) for types JSON cannot describe.

    Defaults JSON cannot hold are left out quietly: the schema is still right without them.
    """

    ignored_warning_kinds: set[JsonSchemaWarningKind] = {  # noqa: RUF012 - pydantic's own
        "skipped-choice",
        "non-serializable-default",
    }

    def handle_invalid_for_json_schema(
        self,
        schema: core_schema.CoreSchema,  # noqa: ARG002 - pydantic's signature
        error_info: str,  # noqa: ARG002
    ) -> JsonSchemaValue:
        return {}


def json_schema(
    source: BaseRegistry | Iterable[type[Configuration]],
    *,
    aliases: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a JSON Schema (draft 2020-12) of declarative files for these configurations.

    Each entry's ``fields`` are checked against the configuration class its ``config``
    names (by import path, by alias, or by class name where that is unambiguous), and
    wherever a field may hold a reference or a configuration, ``{"@ref": ...}`` and
    inline ``{"@config": ...}`` declarations are allowed too. Required fields are not
    enforced, since a file that extends another may leave them to its base; loading
    checks them.

    Args:
        source: a registry (the classes of its registrations), or configuration classes.
        aliases: short names for classes, as given to :func:`load`.

    Returns:
        The schema, ready for ``json.dumps``.
    """
    classes = _classes(source)
    names = _names(classes, aliases or {})
    if classes:
        mapping, definitions = models_json_schema(
            [(cls, "validation") for cls in classes],
            ref_template="#/$defs/{model}",
            schema_generator=_Generator,
        )
    else:
        mapping, definitions = {}, {}
    defs: dict[str, Any] = dict(definitions.get("$defs", {}))
    by_ref: dict[str, type[Configuration]] = {
        ref["$ref"]: cls  # type: ignore[misc] # the classes given are configurations
        for (cls, _), ref in mapping.items()
    }
    for ref, cls in _nested_classes(defs, by_ref).items():
        if cls not in names:  # known only through a field: by alias or import path
            names[cls] = _names([cls], aliases or {}, by_name=False)[cls]
        name = ref.rsplit("/", 1)[1]
        defs[name] = _inline(defs[name], names[cls])
    defs = _references(defs)
    defs[_REFERENCE] = {
        "type": "object",
        "description": "A reference to another registration, by its key.",
        "properties": {
            "@ref": {"type": "string", "pattern": _KEY_PATTERN},
            "@shared": {"type": "boolean"},
        },
        "required": ["@ref"],
        "additionalProperties": False,
    }
    rules = [
        {
            "if": {"properties": {"config": {"enum": names[cls]}}, "required": ["config"]},
            "then": {"properties": {"fields": {"$ref": _with_variants(defs, ref)}}},
        }
        for ref, cls in by_ref.items()
    ]
    every_name = sorted({name for cls in classes for name in names[cls]})
    entry: dict[str, Any] = {
        "type": "object",
        "properties": {
            "config": {
                "description": "The configuration class: an alias or 'package.module:Class'.",
                "anyOf": [{"enum": every_name}, {"type": "string", "pattern": _IMPORT_PATTERN}]
                if every_name
                else [{"type": "string"}],
            },
            "component": {"type": "string", "description": "What to build, if not the default."},
            "description": {"type": "string"},
            "fields": {"type": "object"},
        },
        "additionalProperties": False,
    }
    if rules:
        entry["allOf"] = rules
    defs["cinnamon.Entry"] = entry
    return {
        "$schema": _DIALECT,
        "title": "cinnamon declarative configuration",
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "extends": {
                "description": "Files this one extends, relative to it; bases first.",
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            },
            "registrations": {
                "type": "object",
                "propertyNames": {"pattern": _KEY_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/cinnamon.Entry"},
            },
        },
        "additionalProperties": False,
        "$defs": defs,
    }


_BOUNDS = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_WHOLE = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}
# A distribution to draw the field from when tuning: exactly one kind, with its values.
_SEARCH = {
    "type": "object",
    "properties": {
        "@search": {
            "type": "object",
            "properties": {
                "uniform": _BOUNDS,
                "log_uniform": _BOUNDS,
                "int": _WHOLE,
                "log_int": {**_WHOLE, "maxItems": 2},
                "choice": {"type": "array", "minItems": 1},
            },
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
        }
    },
    "required": ["@search"],
    "additionalProperties": False,
}


def _with_variants(defs: dict[str, Any], ref: str) -> str:
    """Define a class's fields as an entry writes them, with ``@variants`` allowed.

    At the top of an entry's ``fields``, ``{"@variants": [...]}`` or ``{"@search":
    {...}}`` may stand for any field's value. Returns the new definition's reference.
    """
    name = ref.rsplit("/", 1)[1]
    base = defs[name]
    fields = dict(base)
    fields["properties"] = {
        field: {
            "anyOf": [
                schema,
                {
                    "type": "object",
                    "properties": {"@variants": {"type": "array", "items": schema}},
                    "required": ["@variants"],
                    "additionalProperties": False,
                },
                _SEARCH,
            ]
        }
        for field, schema in base.get("properties", {}).items()
    }
    defs[f"{name}.fields"] = fields
    return f"#/$defs/{name}.fields"


def _classes(source: BaseRegistry | Iterable[type[Configuration]]) -> list[type[Configuration]]:
    if isinstance(source, BaseRegistry):
        found = [type(source.get(key).config) for key in source]
    else:
        found = list(source)
    classes: list[type[Configuration]] = []
    for cls in found:
        if not (isinstance(cls, type) and issubclass(cls, Configuration)):
            msg = f"json_schema() takes configuration classes, not {cls!r}"
            raise UsageError(msg)
        if cls not in classes:
            classes.append(cls)
    return classes


def _names(
    classes: list[type[Configuration]], aliases: Mapping[str, Any], *, by_name: bool = True
) -> dict[type[Configuration], list[str]]:
    """Every name a file may use for each class: aliases, unambiguous names, paths."""
    same: dict[str, set[type[Configuration]]] = {}
    for cls in classes:
        same.setdefault(cls.__name__, set()).add(cls)
    names: dict[type[Configuration], list[str]] = {}
    for cls in classes:
        found = [alias for alias, target in aliases.items() if target is cls]
        if by_name and len(same[cls.__name__]) == 1 and cls.__name__ not in aliases:
            found.append(cls.__name__)
        with contextlib.suppress(UsageError):  # defined in a function: an alias names it
            found.append(class_name(cls))
        names[cls] = found
    return names


def _nested_classes(
    defs: dict[str, Any], by_ref: dict[str, type[Configuration]]
) -> dict[str, type[Configuration]]:
    """Map each ``$ref`` of a configuration definition to its class (nested ones too)."""
    found = dict(by_ref)
    stack = list(by_ref.values())
    while stack:
        cls = stack.pop()
        for field in cls.model_fields.values():
            for inner in _configurations(field.annotation):
                ref = f"#/$defs/{_def_name(defs, inner)}"
                if ref not in found and ref.rsplit("/", 1)[1] in defs:
                    found[ref] = inner
                    stack.append(inner)
    return found


def _def_name(defs: dict[str, Any], cls: type[Configuration]) -> str:
    # pydantic names a definition after the class, qualifying it only on a clash.
    if cls.__name__ in defs and defs[cls.__name__].get("title") == cls.__name__:
        return cls.__name__
    for name, definition in defs.items():
        if name.endswith(cls.__name__) and definition.get("title") == cls.__name__:
            return name
    return cls.__name__


def _configurations(annotation: Any) -> list[type[Configuration]]:
    return configurations_in(annotation)


def _inline(definition: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Let a configuration's definition be written inline, with ``@config``."""
    definition = dict(definition)
    definition.pop("required", None)
    properties = dict(definition.get("properties", {}))
    properties["@config"] = {"enum": names} if names else {"type": "string"}
    properties["@component"] = {"type": "string"}
    definition["properties"] = properties
    return definition


def _references(defs: dict[str, Any]) -> dict[str, Any]:
    """Write references as ``{"@ref": ...}`` where pydantic wrote key strings."""
    stack: list[Any] = [defs]
    while stack:
        value = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for name, item in items:
            if _is_key_schema(item):
                reference = {"$ref": f"#/$defs/{_REFERENCE}"}
                if "description" in item:
                    reference["description"] = item["description"]
                value[name] = reference
            elif isinstance(item, (dict, list)):
                stack.append(item)
    for definition in defs.values():
        definition.pop("required", None)
    return defs


def _is_key_schema(value: Any) -> bool:
    # How RegistrationKey describes itself, maybe with a field's default and description.
    return (
        isinstance(value, dict)
        and value.get("title") == "RegistrationKey"
        and value.get("pattern") == _KEY_PATTERN
        and value.get("type") == "string"
    )
