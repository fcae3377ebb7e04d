"""The commands: each an ``add_*`` function that adds its parser and a function that runs it.

An ``add_*`` function takes the subcommands object and the parent parsers holding the
common options (where registrations come from), adds its parser and points the parser's
``handler`` default at the function that runs it. That function takes the parsed
arguments and an :class:`Output` and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cinnamon._cli.output import Output, graph_of, qualname, tree_lines
from cinnamon._cli.sources import Session
from cinnamon.errors import CinnamonError, DeclarationError, UsageError

if TYPE_CHECKING:
    from cinnamon._core.configuration import Configuration

__all__ = [
    "add_completion",
    "add_graph",
    "add_list",
    "add_run",
    "add_schema",
    "add_show",
    "add_sweep",
    "add_validate",
]

_EXIT_INVALID = 1
_FITS = ("run", "fit")  # the methods after which a trainer's stopping reason is shown
_SHOWN_ERRORS = 10  # failed variants listed by `cinnamon sweep`; the file has them all

# -- shared arguments ----------------------------------------------------------------------


def _key_and_overrides(parser: argparse.ArgumentParser, example: str) -> None:
    # KEY is optional to argparse so that `run --help` works without one; main() checks it.
    parser.add_argument("key", nargs="?", metavar="KEY", help=f"the registration, e.g. {example}")
    parser.add_argument(
        "overrides", nargs="*", metavar="PATH=VALUE", help="field overrides (see below)"
    )


def _field_help(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-h",
        "--help",
        action="store_true",
        help="show this help and exit; with KEY, also every field of its tree",
    )


def _method(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        default="run",
        help="the public method of the root component to call (default: run)",
    )


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


def check_method_name(name: str) -> None:
    """Refuse a ``--method`` that is not the name of a public method."""
    if not name.isidentifier() or name.startswith("_"):
        msg = (
            f"--method {name!r}: only a public method can be run, not a private or special "
            "name (one starting with '_')"
        )
        raise UsageError(msg)


def checked_method(component: Any, name: str) -> Any:
    """The public method ``name`` of ``component``, or a UsageError saying why not."""
    check_method_name(name)
    method = getattr(component, name, None)
    if not callable(method):
        msg = f"{type(component).__name__} has no method {name!r} to run"
        raise UsageError(msg)
    return method


# -- list ------------------------------------------------------------------------------------


def add_list(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    listing = commands.add_parser("list", parents=parents, help="list registered keys")
    listing.add_argument("--namespace", help="only keys in this namespace")
    listing.add_argument("--name", help="only keys with this name")
    listing.add_argument(
        "--tags", default="", help="only keys with all these tags (comma-separated)"
    )
    listing.set_defaults(command="list", handler=run_list)


def run_list(arguments: argparse.Namespace, out: Output) -> int:
    registry = Session(arguments).registry
    tags = [tag for tag in arguments.tags.split(",") if tag]
    keys = registry.keys(name=arguments.name, tags=tags, namespace=arguments.namespace)
    rows = []
    for key in keys:
        entry = registry.get(key)
        component = qualname(entry.component) if entry.component else "-"
        rows.append(
            [key.namespace, key.name, ",".join(sorted(key.tags)), component, _description(entry)]
        )
    out.table(["namespace", "name", "tags", "component", "description"], rows)
    if not rows:
        print("(no registrations match)", file=sys.stderr)
    return 0


def _description(entry: Any) -> str:
    """The registration's own description: its own, else what it builds, else its class's.

    A configuration bound to another component (a PipelineConfig registered to build a
    CallbackPipeline) describes the configuration's fields, not what the entry builds.
    """
    config_class = type(entry.config)
    own = (config_class.__doc__ or "").strip().partition("\n")[0]
    component = entry.component
    if entry.description != own or component is None or component is config_class.__component__:
        return str(entry.description)
    doc = (getattr(component, "__doc__", None) or "").strip().partition("\n")[0]
    return doc or str(entry.description)


# -- show ------------------------------------------------------------------------------------


def add_show(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    show = commands.add_parser("show", parents=parents, add_help=False, help="show a resolved tree")
    _key_and_overrides(show, "demo:trainer")
    show.add_argument(
        "--format",
        choices=["tree", "toml", "yaml", "json"],
        default="tree",
        help="a readable tree, or a declarative file (default: tree)",
    )
    _field_help(show)
    show.set_defaults(command="show", handler=run_show, field_help=True)


def run_show(arguments: argparse.Namespace, out: Output) -> int:
    session = Session(arguments)
    tree = session.tree(arguments, arguments.overrides)
    if arguments.format != "tree":
        from cinnamon._core.key import RegistrationKey  # noqa: PLC0415
        from cinnamon._files.dump import dump  # noqa: PLC0415

        out.write(dump(tree, format=arguments.format, key=RegistrationKey.coerce(arguments.key)))
        return 0
    for line in tree_lines(tree, out):
        out.write(line + "\n")
    return 0


# -- validate --------------------------------------------------------------------------------


def add_validate(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    validate = commands.add_parser(
        "validate", parents=parents, help="resolve every registration and report problems"
    )
    validate.set_defaults(command="validate", handler=run_validate)


def run_validate(arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._core.resolve import compile_plan  # noqa: PLC0415

    session = Session(arguments)
    invalid = 0
    keys = session.registry.keys()
    for key in keys:
        try:
            tree = session.resolve(key)
            if session.registry.get(key).component is not None:
                compile_plan(tree, key.name)
        except CinnamonError as error:
            invalid += 1
            out.write(f"{out.bad('invalid')}  {key}: {error}\n")
        else:
            out.write(f"{out.good('ok')}       {key}\n")
    summary = f"{len(keys) - invalid} valid, {invalid} invalid"
    print(summary, file=sys.stderr)
    return _EXIT_INVALID if invalid else 0


# -- run -------------------------------------------------------------------------------------


def add_run(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run", parents=parents, add_help=False, help="build a component and run it"
    )
    _key_and_overrides(run, "demo:trainer")
    _method(run)
    reuse = run.add_mutually_exclusive_group()
    reuse.add_argument(
        "--resume",
        action="store_true",
        help="run in a run_dir that already holds files, adding to them",
    )
    reuse.add_argument(
        "--overwrite",
        action="store_true",
        help="empty a run_dir that already holds files before running",
    )
    _run_root_option(run)
    _field_help(run)
    run.set_defaults(command="run", handler=run_run, field_help=True)


def run_run(arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._core.key import RegistrationKey  # noqa: PLC0415
    from cinnamon._core.resolve import compile_plan  # noqa: PLC0415

    _add_run_root(arguments)
    session = Session(arguments)
    tree = session.tree(arguments, arguments.overrides)
    _claim_run_dir(tree, resume=arguments.resume, overwrite=arguments.overwrite)
    component = compile_plan(tree, RegistrationKey.coerce(arguments.key).name).run()
    method = checked_method(component, arguments.method)
    fits = arguments.method in _FITS
    try:
        result = method()
    except BaseException as error:
        if fits:
            _why_it_ended(component, error)
        raise
    if fits:
        _why_it_ended(component, None)
    if result is not None:
        try:
            text = json.dumps(result, indent=2, default=str)
        except (TypeError, ValueError):
            text = repr(result)
        out.write(text + "\n")
    return 0


def _claim_run_dir(tree: Configuration, *, resume: bool, overwrite: bool) -> None:
    """Refuse a ``run_dir`` that holds another run's files, unless told what to do."""
    run_dir = tree.__dict__.get("run_dir") if "run_dir" in type(tree).model_fields else None
    if not isinstance(run_dir, str):
        return
    folder = Path(run_dir)
    if not folder.is_dir() or not any(folder.iterdir()) or resume:
        return
    if not overwrite:
        msg = (
            f"run_dir {run_dir!r} already holds files of another run; pass --resume to run "
            "there adding to them, --overwrite to empty it first, or choose another run_dir"
        )
        raise UsageError(msg)
    here = Path.cwd().resolve()
    if folder.resolve() in (here, *here.parents):
        msg = f"--overwrite refuses to empty {run_dir!r}: it holds the working folder"
        raise UsageError(msg)
    for item in folder.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    print(f"emptied {run_dir} (--overwrite)", file=sys.stderr)


def _why_it_ended(component: Any, error: BaseException | None) -> None:
    """Say on stderr why a fit ended, for components that train by epochs.

    Those are the ones with ``epoch``, ``epochs`` and ``stop_training`` attributes, as
    the demo Trainer and Keras-like trainers have.
    """
    epoch, epochs = getattr(component, "epoch", None), getattr(component, "epochs", None)
    if not isinstance(epoch, int) or not isinstance(epochs, int):
        return
    if not hasattr(component, "stop_training"):
        return
    if isinstance(error, KeyboardInterrupt):
        print(f"the fit was interrupted after epoch {epoch} of {epochs}", file=sys.stderr)
    elif error is not None:  # shown below the error, as a note of it
        notes = getattr(error, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
            error.__notes__ = notes  # type: ignore[attr-defined, unused-ignore]
        notes.append(f"the fit ended by this exception at epoch {epoch} of {epochs}")
    elif component.stop_training:
        stopper = _stopper(getattr(component, "callbacks", None))
        print(f"the fit stopped early after epoch {epoch} of {epochs}{stopper}", file=sys.stderr)
    else:
        print(f"the fit ran all {epochs} epochs", file=sys.stderr)


def _stopper(callbacks: Any) -> str:
    """Which callback stopped the fit, from the ones that record a ``stopped_epoch``."""
    stack, seen = [callbacks], set()
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if getattr(item, "stopped_epoch", None) is not None:
            monitor = getattr(item, "monitor", None)
            patience = getattr(item, "patience", None)
            about = f": {monitor} did not improve for {patience} epochs" if monitor else ""
            return f" ({type(item).__name__}{about})"
        stack.extend(getattr(item, "components", None) or ())
    return " (stop_training was set)"


# -- sweep -----------------------------------------------------------------------------------


def add_sweep(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    sweep = commands.add_parser(
        "sweep",
        parents=parents,
        add_help=False,
        help="run a method on every valid variant of a tree",
        description=(
            "Run a method on every valid variant of a tree: the fields declared with "
            "variants, and axes given here as PATH=a,b,c, PATH=range(START,STOP,STEP) or "
            "PATH=@KEY1,@KEY2."
        ),
    )
    _key_and_overrides(sweep, "demo:trainer")
    _method(sweep)
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
    _field_help(sweep)
    sweep.set_defaults(command="sweep", handler=run_sweep, field_help=True, axes=True)


def run_sweep(arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._cli.axes import split_axes  # noqa: PLC0415
    from cinnamon._runs.sweep import sweep  # noqa: PLC0415 - keeps `--help` fast

    check_method_name(arguments.method)
    _add_run_root(arguments)
    session = Session(arguments)
    key = session.key(arguments.key)
    tree = session.base(key)  # a missing reference fails here, with its file and line
    fixed, axes, texts = split_axes(
        arguments.overrides, registry=session.registry, allow=session.allow
    )
    _check_axis_paths(session, tree, axes, texts)
    report = sweep(
        session.registry,
        key,
        method=arguments.method,
        executor=arguments.executor,
        workers=arguments.workers,
        address=arguments.address,
        results=arguments.results,
        overrides=fixed,
        axes=axes,
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


def _check_axis_paths(
    session: Session, tree: Configuration, axes: dict[str, list[Any]], texts: dict[str, str]
) -> None:
    """A path the tree lacks is named with the axis as typed, and the nearest paths."""
    from cinnamon._runs.overrides import apply_overrides  # noqa: PLC0415

    for path, values in axes.items():
        try:
            apply_overrides(tree, {path: values[0]}, registry=session.registry, conditions=False)
        except DeclarationError as error:
            raise DeclarationError(
                error.reason, file=f"override {texts[path]!r}", path=error.path
            ) from error


# -- graph -----------------------------------------------------------------------------------


def add_graph(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    graph = commands.add_parser("graph", parents=parents, help="the dependency graph of a tree")
    graph.add_argument("key", metavar="KEY", help="the registration, e.g. demo:trainer")
    graph.add_argument(
        "--format",
        choices=["mermaid", "dot"],
        default="mermaid",
        help="Mermaid, which Markdown viewers draw, or DOT for graphviz (default: mermaid)",
    )
    graph.set_defaults(command="graph", handler=run_graph)


def run_graph(arguments: argparse.Namespace, out: Output) -> int:
    session = Session(arguments)
    tree = session.resolve(session.key(arguments.key))
    nodes, edges = graph_of(tree)
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


# -- schema ----------------------------------------------------------------------------------


def add_schema(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    schema = commands.add_parser(
        "schema", parents=parents, help="a JSON Schema for declarative files"
    )
    schema.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")
    schema.set_defaults(command="schema", handler=run_schema)


def run_schema(arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._files.schema import json_schema  # noqa: PLC0415

    registry = Session(arguments).registry
    text = json.dumps(json_schema(registry), indent=2, sort_keys=True) + "\n"
    if arguments.output:
        Path(arguments.output).write_text(text, encoding="utf-8")
        print(f"wrote {arguments.output}", file=sys.stderr)
    else:
        out.write(text)
    return 0


# -- completion ------------------------------------------------------------------------------


def add_completion(commands: Any, parents: list[argparse.ArgumentParser]) -> None:  # noqa: ARG001
    completion = commands.add_parser(
        "completion",
        help="print the shell completion script for bash or zsh",
        description=(
            "Print a completion script. Install it with "
            """echo 'eval "$(cinnamon completion bash)"' >> ~/.bashrc """
            "(or zsh and ~/.zshrc), then open a new shell."
        ),
    )
    completion.add_argument("shell", choices=["bash", "zsh"], help="the shell")
    completion.set_defaults(command="completion", handler=run_completion)
    hidden = commands.add_parser("__complete")  # what the scripts call; not in the help
    hidden.add_argument("shell", choices=["bash", "zsh"])
    hidden.add_argument("line")
    hidden.add_argument("point", type=int)
    hidden.add_argument("word", nargs="?", default="")
    hidden.set_defaults(command="__complete", handler=run_complete)


def run_completion(arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._cli.completion import script  # noqa: PLC0415

    out.write(script(arguments.shell))
    return 0


def run_complete(arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._cli.completion import complete  # noqa: PLC0415

    parser = arguments.parser  # the whole command line's, set by main()
    found = complete(arguments.shell, arguments.line, arguments.point, arguments.word, parser)
    out.write("".join(f"{candidate}\n" for candidate in found))
    return 0
