"""The ``cinnamon`` command line: list, show, validate, run, sweep, graph and schema."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cinnamon.errors import CinnamonError, DeclarationError, UsageError

# The modules that need pydantic are imported where they are used, so that
# `cinnamon --help` starts without them.
if TYPE_CHECKING:
    from cinnamon._core.configuration import Configuration
    from cinnamon._core.key import RegistrationKey
    from cinnamon._registry import Registry

__all__ = ["main"]

_EXIT_ERROR = 1
_EXIT_INVALID = 1
_SHOWN_ERRORS = 10  # failed variants listed by `cinnamon sweep`; the file has them all


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    # Overrides may stand before or after options (`run KEY --config F a=1 b=2`), which
    # argparse cannot interleave with subcommands; collect the stragglers by hand.
    arguments, extra = parser.parse_known_args(argv)
    stray = [item for item in extra if item.startswith("-") or "=" not in item]
    if stray or (extra and not hasattr(arguments, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        arguments.overrides = [*arguments.overrides, *extra]
    if arguments.command is None:
        parser.print_help()
        return 0
    try:
        return int(arguments.handler(arguments, _Output(sys.stdout)))
    except BrokenPipeError:  # `cinnamon show ... | head`: the reader left, so stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (CinnamonError, OSError) as error:
        if arguments.debug:
            raise
        _fail(error)
        return _EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a user's component failed: say so plainly
        if arguments.debug:
            raise
        _fail(error, traceback_hint=True)
        return _EXIT_ERROR


def _fail(error: BaseException, *, traceback_hint: bool = False) -> None:
    kind = "" if isinstance(error, CinnamonError) else f"{type(error).__name__}: "
    lines = [f"error: {kind}{error}"]
    lines += [f"  {note}" for note in getattr(error, "__notes__", ())]
    if traceback_hint:
        lines.append("  (run again with --debug for the traceback)")
    print("\n".join(lines), file=sys.stderr)


# -- arguments ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    sources = argparse.ArgumentParser(add_help=False)
    group = sources.add_argument_group("where registrations come from")
    group.add_argument(
        "--config",
        "-c",
        action="append",
        default=[],
        metavar="FILE",
        help="a declarative file to load (repeatable)",
    )
    group.add_argument(
        "--discover",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="a package whose @registration marks to collect (repeatable)",
    )
    group.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="a package root that files may import classes from (repeatable)",
    )
    group.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )

    parser = argparse.ArgumentParser(
        prog="cinnamon",
        description=(
            "Inspect, check and run component trees. Registrations come from --config "
            "files, --discover packages and [tool.cinnamon] in ./pyproject.toml."
        ),
    )
    parser.set_defaults(command=None, debug=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    listing = commands.add_parser("list", parents=[sources], help="list registered keys")
    listing.add_argument("--namespace", help="only keys in this namespace")
    listing.add_argument("--name", help="only keys with this name")
    listing.add_argument(
        "--tags", default="", help="only keys with all these tags (comma-separated)"
    )
    listing.set_defaults(command="list", handler=_list)

    show = commands.add_parser("show", parents=[sources], help="show a resolved tree")
    show.add_argument("key", help="the registration, e.g. demo:trainer")
    show.add_argument("overrides", nargs="*", metavar="PATH=VALUE", help="field overrides")
    show.add_argument(
        "--format",
        choices=["tree", "toml", "yaml", "json"],
        default="tree",
        help="a readable tree (default) or a declarative file",
    )
    show.set_defaults(command="show", handler=_show)

    validate = commands.add_parser(
        "validate", parents=[sources], help="resolve every registration and report problems"
    )
    validate.set_defaults(command="validate", handler=_validate)

    run = commands.add_parser("run", parents=[sources], help="build a component and run it")
    run.add_argument("key", help="the registration to build, e.g. demo:trainer")
    run.add_argument("overrides", nargs="*", metavar="PATH=VALUE", help="field overrides")
    run.add_argument("--method", default="run", help="the method to call (default: run)")
    _run_root_option(run)
    run.set_defaults(command="run", handler=_run)

    sweep = commands.add_parser(
        "sweep", parents=[sources], help="run a method on every valid variant of a tree"
    )
    sweep.add_argument("key", help="the registration to sweep, e.g. demo:trainer")
    sweep.add_argument("overrides", nargs="*", metavar="PATH=VALUE", help="field overrides")
    sweep.add_argument("--method", default="run", help="the method to call (default: run)")
    sweep.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: one per CPU)"
    )
    sweep.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="a local process pool (default), or the Dask scheduler at --address",
    )
    sweep.add_argument("--address", metavar="ADDR", help="the Dask scheduler, tcp://host:port")
    sweep.add_argument(
        "--results",
        default="sweep.jsonl",
        metavar="FILE",
        help="the JSON Lines file of results, appended to (default: sweep.jsonl)",
    )
    sweep.add_argument(
        "--retry-errors", action="store_true", help="run again variants recorded with an error"
    )
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _run_root_option(sweep)
    sweep.set_defaults(command="sweep", handler=_sweep)

    graph = commands.add_parser("graph", parents=[sources], help="the dependency graph of a tree")
    graph.add_argument("key", help="the registration, e.g. demo:trainer")
    graph.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    graph.set_defaults(command="graph", handler=_graph)

    schema = commands.add_parser(
        "schema", parents=[sources], help="a JSON Schema for declarative files"
    )
    schema.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")
    schema.set_defaults(command="schema", handler=_schema)
    _results_parser(commands)
    _pictures_parser(commands)
    return parser


# -- loading -----------------------------------------------------------------------------


def _project_settings() -> dict[str, list[str]]:
    """Read ``[tool.cinnamon]`` from ``./pyproject.toml``: configs, discover, allow."""
    path = Path("pyproject.toml")
    if not path.is_file():
        return {}
    from cinnamon._files.declarative import parse_toml  # noqa: PLC0415 - only when there is one

    data = parse_toml(path.read_text(encoding="utf-8"), str(path))
    tool = data.get("tool")
    settings = tool.get("cinnamon", {}) if isinstance(tool, dict) else {}
    if not isinstance(settings, dict):
        reason = "must be a table"
        raise DeclarationError(reason, file=str(path), path="tool.cinnamon")
    found: dict[str, list[str]] = {}
    for name in ("configs", "discover", "allow"):
        value = settings.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            reason = "must be a list of strings"
            raise DeclarationError(reason, file=str(path), path=f"tool.cinnamon.{name}")
        found[name] = value
    unknown = sorted(set(settings) - set(found))
    if unknown:
        reason = f"unknown setting(s) {', '.join(unknown)}; use configs, discover or allow"
        raise DeclarationError(reason, file=str(path), path="tool.cinnamon")
    return found


def _registry(arguments: argparse.Namespace) -> Registry:
    from cinnamon._files.declarative import load  # noqa: PLC0415 - keeps `--help` fast
    from cinnamon._registry import Registry  # noqa: PLC0415

    settings = _project_settings()
    registry = Registry()
    for package in [*settings.get("discover", []), *arguments.discover]:
        registry.discover(package)
    allow = [*settings.get("allow", []), *arguments.allow]
    for file in [*settings.get("configs", []), *arguments.config]:
        load(registry, file, allow=allow)
    return registry


def _key(registry: Registry, text: str) -> RegistrationKey:
    from cinnamon._core.key import RegistrationKey  # noqa: PLC0415 - keeps `--help` fast

    key = RegistrationKey.coerce(text)
    registry.get(key)  # a missing key fails here, with suggestions
    return key


def _tree(registry: Registry, arguments: argparse.Namespace) -> Configuration:
    tree = registry.resolve(_key(registry, arguments.key))
    if arguments.overrides:
        from cinnamon._runs.overrides import apply_overrides  # noqa: PLC0415

        allow = [*_project_settings().get("allow", []), *arguments.allow]
        tree = apply_overrides(tree, arguments.overrides, registry=registry, allow=allow)
    return tree


# -- commands ----------------------------------------------------------------------------


def _list(arguments: argparse.Namespace, out: _Output) -> int:
    registry = _registry(arguments)
    tags = [tag for tag in arguments.tags.split(",") if tag]
    keys = registry.keys(name=arguments.name, tags=tags, namespace=arguments.namespace)
    rows = []
    for key in keys:
        entry = registry.get(key)
        component = _qualname(entry.component) if entry.component else "-"
        rows.append(
            [key.namespace, key.name, ",".join(sorted(key.tags)), component, entry.description]
        )
    out.table(["namespace", "name", "tags", "component", "description"], rows)
    if not rows:
        print("(no registrations match)", file=sys.stderr)
    return 0


def _show(arguments: argparse.Namespace, out: _Output) -> int:
    registry = _registry(arguments)
    tree = _tree(registry, arguments)
    if arguments.format != "tree":
        from cinnamon._core.key import RegistrationKey  # noqa: PLC0415
        from cinnamon._files.dump import dump  # noqa: PLC0415

        out.write(dump(tree, format=arguments.format, key=RegistrationKey.coerce(arguments.key)))
        return 0
    for line in _tree_lines(tree, out):
        out.write(line + "\n")
    return 0


def _validate(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._core.plan import compile_plan  # noqa: PLC0415

    registry = _registry(arguments)
    invalid = 0
    keys = registry.keys()
    for key in keys:
        try:
            tree = registry.resolve(key)
            if registry.get(key).component is not None:
                compile_plan(tree, key.name)
        except CinnamonError as error:
            invalid += 1
            out.write(f"{out.bad('invalid')}  {key}: {error}\n")
        else:
            out.write(f"{out.good('ok')}       {key}\n")
    summary = f"{len(keys) - invalid} valid, {invalid} invalid"
    print(summary, file=sys.stderr)
    return _EXIT_INVALID if invalid else 0


def _run(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._core.key import RegistrationKey  # noqa: PLC0415
    from cinnamon._core.plan import compile_plan  # noqa: PLC0415

    _add_run_root(arguments)
    registry = _registry(arguments)
    tree = _tree(registry, arguments)
    component = compile_plan(tree, RegistrationKey.coerce(arguments.key).name).run()
    method = getattr(component, arguments.method, None)
    if not callable(method):
        msg = f"{type(component).__name__} has no method {arguments.method!r} to run"
        raise UsageError(msg)
    result = method()
    if result is not None:
        try:
            text = json.dumps(result, indent=2, default=str)
        except (TypeError, ValueError):
            text = repr(result)
        out.write(text + "\n")
    return 0


def _sweep(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._runs.sweep import sweep  # noqa: PLC0415 - keeps `--help` fast

    _add_run_root(arguments)
    registry = _registry(arguments)
    report = sweep(
        registry,
        _key(registry, arguments.key),
        method=arguments.method,
        executor=arguments.executor,
        workers=arguments.workers,
        address=arguments.address,
        results=arguments.results,
        overrides=arguments.overrides,
        retry_errors=arguments.retry_errors,
        progress=not arguments.no_progress,
    )
    statuses = ("ok", "error", "skipped")
    out.table(["status", "variants"], [[name, str(getattr(report, name))] for name in statuses])
    out.write(
        f"results: {report.results} ({len(report.rows)} variants, "
        f"{report.recorded} recorded before)\n"
    )
    failed = [row for row in report.rows if row["status"] == "error"]
    for row in failed[:_SHOWN_ERRORS]:
        error = row["error"]
        where = " ".join(f"{path}={value}" for path, value in row["overrides"].items())
        print(
            f"{out.bad('error')} variant {row['index']} ({where or 'no overrides'}): "
            f"{error['type']}: {error['message']}",
            file=sys.stderr,
        )
    if len(failed) > _SHOWN_ERRORS:
        more = len(failed) - _SHOWN_ERRORS
        print(f"... and {more} more errors in {report.results}", file=sys.stderr)
    return _EXIT_INVALID if failed else 0


def _graph(arguments: argparse.Namespace, out: _Output) -> int:
    registry = _registry(arguments)
    tree = registry.resolve(_key(registry, arguments.key))
    nodes, edges = _graph_of(tree)
    if arguments.format == "mermaid":
        lines = ["graph TD"]
        lines += [f'    n{index}["{label}"]' for index, label in nodes]
        lines += [f'    n{parent} -->|"{field}"| n{child}' for parent, field, child in edges]
    else:
        lines = ["digraph cinnamon {", "    node [shape=box];"]
        lines += [f'    n{index} [label="{label}"];' for index, label in nodes]
        lines += [f'    n{parent} -> n{child} [label="{field}"];' for parent, field, child in edges]
        lines.append("}")
    out.write("\n".join(lines) + "\n")
    return 0


def _schema(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._files.schema import json_schema  # noqa: PLC0415

    registry = _registry(arguments)
    text = json.dumps(json_schema(registry), indent=2, sort_keys=True) + "\n"
    if arguments.output:
        Path(arguments.output).write_text(text, encoding="utf-8")
        print(f"wrote {arguments.output}", file=sys.stderr)
    else:
        out.write(text)
    return 0


# -- run root ----------------------------------------------------------------------------


def _run_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-root",
        metavar="DIR",
        help="set the run_root field (where run folders go), made absolute here",
    )


def _add_run_root(arguments: argparse.Namespace) -> None:
    """Turn ``--run-root`` into an override, absolute from where the command runs.

    Absolute, so that workers on other machines (or in other folders) write beneath
    the same folder: on a cluster, one every worker shares.
    """
    if arguments.run_root:
        folder = Path(arguments.run_root).expanduser().absolute()
        arguments.overrides = [*arguments.overrides, f"run_root={json.dumps(str(folder))}"]


# -- results -----------------------------------------------------------------------------


def _results_parser(commands: Any) -> None:
    results = commands.add_parser(
        "results", help="a table of a sweep's results or a run's metrics, or an export"
    )
    results.add_argument(
        "path", metavar="SWEEP_OR_RUN", help="a sweep.jsonl, a metrics.jsonl, or a run folder"
    )
    results.add_argument(
        "--metrics", default="", metavar="A,B", help="only these metrics (comma-separated)"
    )
    results.add_argument(
        "--sort", metavar="COLUMN", help="sort by COLUMN; --sort=-COLUMN sorts in descending order"
    )
    results.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="CONDITION",
        help="only rows where CONDITION holds, e.g. status=ok or val_loss<0.1 (repeatable)",
    )
    results.add_argument("--format", choices=["table", "csv", "json"], default="table")
    results.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")
    results.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    results.set_defaults(command="results", handler=_results)


def _results(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._runs.results import results  # noqa: PLC0415 - keeps `--help` fast

    table = results(arguments.path)
    chosen = [name.strip() for name in arguments.metrics.split(",") if name.strip()]
    every = table.select(chosen) if chosen else table.columns  # checked before filtering
    table = table.where(*arguments.where)
    if arguments.sort:
        table = table.sort(arguments.sort)
    present = set(table.columns)
    columns = [name for name in every if name in present or name in chosen]
    if arguments.format == "csv":
        text = table.to_csv(columns)
    elif arguments.format == "json":
        text = table.to_json(columns)
    else:
        text = ""
    if arguments.output:
        Path(arguments.output).write_text(text or table.to_csv(columns), encoding="utf-8")
        print(f"wrote {len(table)} rows to {arguments.output}", file=sys.stderr)
        return 0
    if text:
        out.write(text)
        return 0
    cells = [[_cell(row.get(name), name) for name in columns] for row in table.rows]
    out.table(list(columns), cells)
    if table.kind == "run":
        print(f"run {table.status}: {len(table)} epochs in {table.source}", file=sys.stderr)
    else:
        print(f"{len(table)} variants in {table.source}", file=sys.stderr)
    return 0


def _cell(value: Any, column: str) -> str:
    if column == "fingerprint" and isinstance(value, str):
        return value[:12]  # enough to tell variants apart; the files have it whole
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:57] + "..."  # noqa: PLR2004
    return json.dumps(value)


# -- pictures ----------------------------------------------------------------------------


def _pictures_parser(commands: Any) -> None:
    plot = commands.add_parser(
        "plot", help="draw a run's training curves, or a sweep's metrics by varied field"
    )
    plot.add_argument(
        "path", metavar="SWEEP_OR_RUN", help="a sweep.jsonl, a metrics.jsonl, or a run folder"
    )
    plot.add_argument(
        "--metrics", default="", metavar="A,B", help="the metrics to draw (comma-separated)"
    )
    plot.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="the picture, .png or .svg (default: plot.png beside the results)",
    )
    plot.add_argument("--debug", action="store_true", help="show tracebacks")
    plot.set_defaults(command="plot", handler=_plot)

    report = commands.add_parser(
        "report", help="write one self-contained HTML page about a run or a sweep"
    )
    report.add_argument(
        "path", metavar="SWEEP_OR_RUN", help="a sweep.jsonl, a metrics.jsonl, or a run folder"
    )
    report.add_argument(
        "--metrics",
        default="",
        metavar="A,B",
        help="the metrics to draw; a sweep ranks by the first",
    )
    report.add_argument(
        "--output", "-o", metavar="FILE", help="the page (default: report.html beside the results)"
    )
    report.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="a package root the run's config.toml may import classes from (repeatable)",
    )
    report.add_argument("--debug", action="store_true", help="show tracebacks")
    report.set_defaults(command="report", handler=_report)


def _plot(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._runs.results import results  # noqa: PLC0415 - keeps `--help` fast
    from cinnamon.integrations.plots import plot, save  # noqa: PLC0415

    table = results(arguments.path)
    chosen = [name.strip() for name in arguments.metrics.split(",") if name.strip()]
    target = arguments.output or table.source.parent / "plot.png"
    written = save(plot(table, chosen), target)
    out.write(f"{written}\n")
    return 0


def _report(arguments: argparse.Namespace, out: _Output) -> int:
    from cinnamon._report import write_report  # noqa: PLC0415 - keeps `--help` fast

    chosen = [name.strip() for name in arguments.metrics.split(",") if name.strip()]
    allow = [*_project_settings().get("allow", []), *arguments.allow]
    written = write_report(arguments.path, arguments.output, metrics=chosen, allow=allow)
    out.write(f"{written}\n")
    return 0


# -- rendering ---------------------------------------------------------------------------


def _qualname(thing: Any) -> str:
    from cinnamon._files.declarative import class_name  # noqa: PLC0415

    try:
        return class_name(thing).replace(":", ".")
    except UsageError:  # defined inside a function: no import path to show
        return getattr(thing, "__qualname__", repr(thing))


def _children(value: Any, path: str) -> Iterator[tuple[str, Configuration]]:
    """Yield the configurations inside a field's value, with their field paths."""
    from cinnamon._core.configuration import Configuration  # noqa: PLC0415 - keeps `--help` fast

    if isinstance(value, Configuration):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _children(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _children(item, f"{path}.{name}")


def _label(config: Configuration) -> str:
    from cinnamon._core.resolve import registration_of  # noqa: PLC0415

    entry = registration_of(config)
    component = entry.component if entry else type(config).__component__
    built = f" -> {getattr(component, '__qualname__', component)}" if component else ""
    origin = f"{entry.key}: " if entry else ""
    return f"{origin}{type(config).__name__}{built}"


def _graph_of(tree: Configuration) -> tuple[list[tuple[int, str]], list[tuple[int, str, int]]]:
    from cinnamon._core.tree import dynamic_fields  # noqa: PLC0415 - keeps `--help` fast

    numbers: dict[int, int] = {}
    nodes: list[tuple[int, str]] = []
    edges: list[tuple[int, str, int]] = []

    def number(config: Configuration) -> tuple[int, bool]:
        known = numbers.get(id(config))
        if known is not None:
            return known, False
        numbers[id(config)] = len(nodes)
        nodes.append((len(nodes), _label(config).replace('"', "'")))
        return numbers[id(config)], True

    stack = [tree]
    number(tree)
    while stack:
        config = stack.pop()
        parent = numbers[id(config)]
        for name in dynamic_fields(type(config)):
            for field, child in _children(config.__dict__[name], name):
                index, new = number(child)
                edges.append((parent, field, index))
                if new:
                    stack.append(child)
    return nodes, edges


def _tree_lines(tree: Configuration, out: _Output) -> Iterator[str]:
    """Render a resolved tree, depth first: each field's value, type and description.

    Values that differ from the field's default are highlighted and marked ``*``.
    """
    yield out.bold(_label(tree))
    # A stack of iterators instead of recursion: trees can be deeper than the stack.
    stack: list[Iterator[str | tuple[Configuration, str]]] = [_field_lines(tree, "", out)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, str):
            yield item
        else:
            stack.append(_field_lines(*item, out))


def _field_lines(
    config: Configuration, prefix: str, out: _Output
) -> Iterator[str | tuple[Configuration, str]]:
    """Yield one config's lines, and (child, prefix) where a child's lines belong."""
    from cinnamon._core.configuration import Configuration  # noqa: PLC0415 - keeps `--help` fast

    params = type(config).params()
    names = list(type(config).model_fields)
    for position, name in enumerate(names):
        branch, inner = ("└─ ", "   ") if position == len(names) - 1 else ("├─ ", "│  ")
        value = config.__dict__[name]
        nested = list(_children(value, name))
        if isinstance(value, Configuration):
            yield f"{prefix}{branch}{name} = {out.bold(_label(value))}"
            yield value, prefix + inner
            continue
        if nested:
            yield f"{prefix}{branch}{name}:"
            for offset, (path, child) in enumerate(nested):
                twig, indent = ("└─ ", "   ") if offset == len(nested) - 1 else ("├─ ", "│  ")
                yield f"{prefix}{inner}{twig}{path} = {out.bold(_label(child))}"
                yield child, prefix + inner + indent
            continue
        info = params[name]
        changed = not info.required and value != info.default
        shown = out.changed(repr(value)) if changed else repr(value)
        about = f"  {out.dim(info.description)}" if info.description else ""
        mark = " *" if changed else ""
        yield f"{prefix}{branch}{name}: {_type_name(info.annotation)} = {shown}{mark}{about}"


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


class _Output:
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
