"""``cinnamon run KEY --help``: every field of the tree, by the path an override takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cinnamon._cli.output import children, label, type_name

if TYPE_CHECKING:
    from cinnamon._core.configuration import Configuration

__all__ = ["field_help", "field_paths"]

_LONGEST = 60  # characters of a value shown; the rest is elided


def field_help(tree: Configuration) -> str:
    """The fields of ``tree`` as help text: dotted path, type, value, default, description."""
    rows = list(_rows(tree))
    title = f"fields of {label(tree)}; set any with PATH=VALUE, swap a configuration"
    lines = [f"{title} with PATH=@KEY:"]
    width = max((len(row[0]) for row in rows), default=0)
    for path, kind, value, default, about in rows:
        shown = f"{kind} = {value}"
        if default is not None:
            shown += f" (default {default})"
        lines.append(f"  {path.ljust(width)}  {shown}{f'  {about}' if about else ''}")
    return "\n".join(lines) + "\n"


def field_paths(tree: Configuration) -> list[str]:
    """Every path an override can set in ``tree``, in the order of the help."""
    return [row[0] for row in _rows(tree)]


Row = tuple[str, str, str, "str | None", str]


def _rows(tree: Configuration) -> Iterator[Row]:
    """Depth first, each node's fields right below the field that holds it."""
    seen: set[int] = {id(tree)}
    # A stack of iterators instead of recursion: trees can be deeper than the stack.
    stack: list[Iterator[Row | tuple[Configuration, str]]] = [_node_rows(tree, "")]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item[0], str):
            yield item
        elif id(item[0]) not in seen:  # a shared node is listed once, where first met
            seen.add(id(item[0]))
            stack.append(_node_rows(item[0], item[1]))


def _node_rows(config: Configuration, prefix: str) -> Iterator[Row | tuple[Configuration, str]]:
    from pydantic_core import PydanticUndefined  # noqa: PLC0415 - keeps `--help` fast

    from cinnamon._core.configuration import Configuration  # noqa: PLC0415

    params = type(config).params()
    for name in type(config).model_fields:
        path = f"{prefix}{name}"
        value = config.__dict__[name]
        info = params[name]
        about = info.description or ""
        if isinstance(value, Configuration):
            yield path, type(value).__name__, _reference(value), None, about
            yield value, f"{path}."
            continue
        default = None
        if info.required:
            default = "required"
        elif info.default is not PydanticUndefined and value != info.default:
            default = _shown(info.default)
        yield path, type_name(info.annotation), _shown(value), default, about
        for where, child in children(value, path):
            yield where, type(child).__name__, _reference(child), None, ""
            yield child, f"{where}."


def _reference(config: Configuration) -> str:
    from cinnamon._core.resolve import registration_of  # noqa: PLC0415

    entry = registration_of(config)
    return f"@{entry.key}" if entry is not None else "(inline)"


def _shown(value: Any) -> str:
    from cinnamon._core.configuration import Configuration  # noqa: PLC0415

    if isinstance(value, (list, tuple)) and any(isinstance(item, Configuration) for item in value):
        return f"[{len(value)} configurations]"
    text = repr(value)
    return text if len(text) <= _LONGEST else f"{text[: _LONGEST - 3]}..."
