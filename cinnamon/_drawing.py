"""The dependency graph of a resolved tree, drawn as an SVG picture with no library.

Each configuration is a box (its registration key, if it has one, over its class and
the component it builds); each reference is an arrow from the parent down to the
child, labelled with the field that holds it. Boxes stand in rows by depth: a node
sits one row below the deepest parent that refers to it, so every arrow points down.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from cinnamon._core.configuration import Configuration
from cinnamon._core.resolve import registration_of
from cinnamon._core.tree import graph

__all__ = ["graph_svg"]

_CHAR = 7.4  # the advance of one character of the 12px monospace font, in pixels
_LINE = 16
_PAD = 10
_GAP_X = 24
_GAP_Y = 56


@dataclass
class _Node:
    title: str
    subtitle: str
    depth: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = field(init=False)
    height: float = 2 * _LINE + _PAD

    def __post_init__(self) -> None:
        self.width = max(len(self.title), len(self.subtitle)) * _CHAR + 2 * _PAD


def graph_svg(tree: Configuration) -> str:
    """The dependency graph of ``tree`` as an ``<svg>`` element (text)."""
    nodes, edges = _graph(tree)
    for _ in range(len(nodes)):  # push children below their deepest parent
        moved = False
        for parent, _field, child in edges:
            if nodes[child].depth <= nodes[parent].depth:
                nodes[child].depth = nodes[parent].depth + 1
                moved = True
        if not moved:
            break
    rows: dict[int, list[_Node]] = {}
    for node in nodes:
        rows.setdefault(node.depth, []).append(node)
    widths = {
        depth: sum(n.width for n in row) + _GAP_X * (len(row) - 1) for depth, row in rows.items()
    }
    canvas = max(widths.values()) + 2 * _PAD
    for depth, row in rows.items():
        x = (canvas - widths[depth]) / 2
        for node in row:
            node.x, node.y = x, _PAD + depth * (node.height + _GAP_Y)
            x += node.width + _GAP_X
    height = _PAD * 2 + len(rows) * (nodes[0].height + _GAP_Y) - _GAP_Y
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{canvas:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {canvas:.0f} {height:.0f}" role="img" '
            'aria-label="dependency graph" font-family="monospace" font-size="12">'
        ),
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker>'
            "</defs>"
        ),
    ]
    for parent, name, child in edges:
        top, bottom = nodes[parent], nodes[child]
        x1, y1 = top.x + top.width / 2, top.y + top.height
        x2, y2 = bottom.x + bottom.width / 2, bottom.y
        parts.append(
            f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            'stroke="#555" marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text class="field" x="{(x1 + x2) / 2 + 4:.1f}" y="{(y1 + y2) / 2:.1f}" '
            f'fill="#a33">{html.escape(name)}</text>'
        )
    parts.extend(_box(node) for node in nodes)
    parts.append("</svg>")
    return "\n".join(parts)


def _box(node: _Node) -> str:
    return (
        f'<g class="node"><rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" '
        f'height="{node.height:.1f}" rx="5" fill="#fdf6ec" stroke="#b5651d"/>'
        f'<text x="{node.x + _PAD:.1f}" y="{node.y + _LINE:.1f}" font-weight="bold">'
        f"{html.escape(node.title)}</text>"
        f'<text x="{node.x + _PAD:.1f}" y="{node.y + 2 * _LINE:.1f}" fill="#444">'
        f"{html.escape(node.subtitle)}</text></g>"
    )


def _graph(tree: Configuration) -> tuple[list[_Node], list[tuple[int, str, int]]]:
    nodes, edges = graph(tree)
    return [_node(node) for node in nodes], edges


def _node(config: Configuration) -> _Node:
    entry = registration_of(config)
    component = entry.component if entry else type(config).__component__
    built = f" -> {getattr(component, '__qualname__', component)}" if component else ""
    title = str(entry.key) if entry else type(config).__name__
    return _Node(title, f"{type(config).__name__}{built}")
