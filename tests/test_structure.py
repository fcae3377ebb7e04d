"""The package's layers: imports run only downwards, and no module imports itself back.

Every import counts, those inside functions included; only imports under
``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cinnamon"

# Lowest first. A module may import from its own layer and from the layers below it.
LAYERS = ["errors", "_core", "_hooks", "_files", "_runs"]
TOP = len(LAYERS)  # everything else: the public registry, the CLI, callbacks, the demo


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return TOP


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """Return (module, names, line) for each cinnamon import that runs."""
    found: list[tuple[str, list[str], int]] = []
    stack: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "cinnamon":
                found.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend(
                (alias.name, [], node.lineno)
                for alias in node.names
                if alias.name.split(".")[0] == "cinnamon"
            )
        stack.extend(ast.iter_child_nodes(node))
    return found


def graph() -> dict[str, list[tuple[str, list[str], int]]]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        modules[module_name(path)] = imports_of(path)
    return modules


def resolve_target(modules: dict[str, object], module: str, names: list[str]) -> list[str]:
    """The modules an import really loads: ``from pkg import sub`` loads ``pkg.sub``."""
    targets = [module]
    targets.extend(f"{module}.{name}" for name in names if f"{module}.{name}" in modules)
    return targets


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle, or None (an iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(edges):
        if state.get(start):
            continue
        path = [start]
        state[start] = 1
        iterators = [iter(sorted(edges[start]))]
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iterators.append(iter(sorted(edges.get(nxt, ()))))
    return None


def test_the_package_has_no_import_circle() -> None:
    modules = graph()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, imports in modules.items():
        for module, names, _ in imports:
            for target in resolve_target(modules, module, names):
                # A module importing a submodule of its own package needs the package
                # first; `cinnamon/__init__` imports nothing eagerly, so leave it out.
                if target in modules and target not in (name, "cinnamon"):
                    edges[name].add(target)
    assert find_cycle(edges) is None, f"import circle: {' -> '.join(find_cycle(edges) or [])}"


def test_imports_run_only_downwards_and_take_no_private_name_across_layers() -> None:
    wrong = []
    for name, imports in graph().items():
        if name == "cinnamon":
            continue
        for module, names, line in imports:
            if module == "cinnamon":  # `from cinnamon import X`: the public API, from above
                if layer_of(name) < TOP:
                    wrong.append(f"{name}:{line} imports the public package from below it")
                continue
            if layer_of(module) > layer_of(name):
                wrong.append(f"{name}:{line} imports {module}, a layer above it")
            if layer_of(module) != layer_of(name):
                private = [n for n in names if n.startswith("_")]
                if private:
                    wrong.append(f"{name}:{line} imports {private} from {module}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_circle_and_an_upward_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    from cinnamon._runs import b\n")
    found = imports_of(tmp_path / "a.py")
    assert found == [("cinnamon._runs", ["b"], 2)]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    (tmp_path / "t.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cinnamon._runs\n"
    )
    assert imports_of(tmp_path / "t.py") == []


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_each_layer_is_a_folder_with_a_docstring(layer: str) -> None:
    init = PACKAGE / layer / "__init__.py"
    assert ast.get_docstring(ast.parse(init.read_text())), f"{init} says nothing of its layer"


def test_the_tree_readers_meet_shared_nodes_once_and_keep_field_order() -> None:
    from cinnamon import Configuration, Param
    from cinnamon._core.tree import children, graph, values

    class Leaf(Configuration):
        n: int = 0

    class Node(Configuration):
        kids: list[Configuration] = Param(default_factory=list)
        table: dict[str, Configuration] = Param(default_factory=dict)

    shared = Leaf(n=1)
    root = Node(kids=[shared, Leaf(n=2)], table={"x": shared})
    paths = [str(path) for _, path in values(root, "root")]
    assert paths == [
        "root",
        "root.kids",
        "root.kids[0]",
        "root.kids[0].n",
        "root.kids[1]",
        "root.kids[1].n",
        "root.table",
    ]  # the shared leaf again under table: skipped
    assert [str(p) for p, _ in children(root.kids, "kids")] == ["kids[0]", "kids[1]"]
    nodes, edges = graph(root)
    assert nodes == [root, shared, root.kids[1]]
    assert sorted(edges) == [(0, "kids[0]", 1), (0, "kids[1]", 2), (0, "table.x", 1)]
    deep: Configuration = Leaf()
    for _ in range(5000):  # no recursion: a tree far deeper than Python's stack
        deep = Node(kids=[deep])
    assert sum(1 for _ in values(deep)) == 3 * 5000 + 2
    assert len(graph(deep)[0]) == 5001
