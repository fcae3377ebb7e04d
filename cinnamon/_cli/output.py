"""What the command line prints: colour on a terminal, tables, trees and graphs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from cinnamon.errors import UsageError

if TYPE_CHECKING:
    from cinnamon._core.configuration import Configuration

_QUALIFIED = re.compile(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+([A-Za-z_][A-Za-z0-9_]*)")

__all__ = ["Output", "children", "graph_of", "label", "qualname", "tree_lines", "type_name"]


class Output:
    """Writes to a stream, with colour only on a terminal (and never with NO_COLOR)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ

    def write(self, text: str) -> None:
        self.stream.write(text)

    def _style(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def bold(self, text: str) -> str:
        return self._style("1", text)

    def dim(self, text: str) -> str:
        return self._style("2", text)

    def changed(self, text: str) -> str:
        return self._style("33", text)

    def good(self, text: str) -> str:
        return self._style("32", text)

    def bad(self, text: str) -> str:
        return self._style("31", text)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        widths = [
            max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)
        ]
        if not self.colour:  # piped: tab-separated, easy to cut and grep
            for row in [header, *rows]:
                self.write("\t".join(row) + "\n")
            return
        line = "  ".join(
            title.upper().ljust(width) for title, width in zip(header, widths, strict=True)
        )
        self.write(self.bold(line.rstrip()) + "\n")
        for row in rows:
            self.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
                + "\n"
            )


def qualname(thing: Any) -> str:
    from cinnamon._files.declarative import class_name  # noqa: PLC0415

    try:
        return class_name(thing).replace(":", ".")
    except UsageError:  # defined inside a function: no import path to show
        return getattr(thing, "__qualname__", repr(thing))


def children(value: Any, path: str) -> Iterator[tuple[str, Configuration]]:
    """Yield the configurations inside a field's value, with their field paths."""
    from cinnamon._core.tree import children as inside  # noqa: PLC0415 - keeps `--help` fast

    for where, child in inside(value, path):
        yield str(where), child


def label(config: Configuration) -> str:
    from cinnamon._core.resolve import registration_of  # noqa: PLC0415

    entry = registration_of(config)
    component = entry.component if entry else type(config).__component__
    built = f" -> {getattr(component, '__qualname__', component)}" if component else ""
    origin = f"{entry.key}: " if entry else ""
    return f"{origin}{type(config).__name__}{built}"


def graph_of(tree: Configuration) -> tuple[list[tuple[int, str]], list[tuple[int, str, int]]]:
    from cinnamon._core.tree import graph  # noqa: PLC0415 - keeps `--help` fast

    nodes, edges = graph(tree)
    return [(number, label(node).replace('"', "'")) for number, node in enumerate(nodes)], edges


def tree_lines(tree: Configuration, out: Output) -> Iterator[str]:
    """Render a resolved tree, depth first: each field's value, type and description.

    Values that differ from the field's default are highlighted and marked ``*``.
    """
    yield out.bold(label(tree))
    # A stack of iterators instead of recursion: trees can be deeper than the stack.
    stack: list[Iterator[str | tuple[Configuration, str]]] = [field_lines(tree, "", out)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, str):
            yield item
        else:
            stack.append(field_lines(*item, out))


def field_lines(
    config: Configuration, prefix: str, out: Output
) -> Iterator[str | tuple[Configuration, str]]:
    """Yield one config's lines, and (child, prefix) where a child's lines belong."""
    from cinnamon._core.configuration import Configuration  # noqa: PLC0415 - keeps `--help` fast

    params = type(config).params()
    names = list(type(config).model_fields)
    for position, name in enumerate(names):
        branch, inner = ("└─ ", "   ") if position == len(names) - 1 else ("├─ ", "│  ")
        value = config.__dict__[name]
        nested = list(children(value, name))
        if isinstance(value, Configuration):
            yield f"{prefix}{branch}{name} = {out.bold(label(value))}"
            yield value, prefix + inner
            continue
        if nested:
            yield f"{prefix}{branch}{name}:"
            for offset, (path, child) in enumerate(nested):
                twig, indent = ("└─ ", "   ") if offset == len(nested) - 1 else ("├─ ", "│  ")
                yield f"{prefix}{inner}{twig}{path} = {out.bold(label(child))}"
                yield child, prefix + inner + indent
            continue
        info = params[name]
        changed = not info.required and value != info.default
        shown = out.changed(repr(value)) if changed else repr(value)
        about = f"  {out.dim(info.description)}" if info.description else ""
        mark = " *" if changed else ""
        yield f"{prefix}{branch}{name}: {type_name(info.annotation)} = {shown}{mark}{about}"


def type_name(annotation: Any) -> str:
    """A type as a reader writes it: ``list[int] | None``, without module prefixes."""
    if isinstance(annotation, type):
        return annotation.__name__
    return _QUALIFIED.sub(r"\1", repr(annotation))
