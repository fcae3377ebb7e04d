"""The argument parser: the common options, and every command's parser.

To add a command, write ``add_NAME(commands, parents)`` (which adds its parser with
``commands.add_parser(NAME, parents=parents, ...)`` and sets ``handler`` to the function
that runs it, ``(arguments, out) -> exit status``) and list it in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from cinnamon._cli.commands import (
    add_completion,
    add_graph,
    add_list,
    add_run,
    add_schema,
    add_show,
    add_sweep,
    add_validate,
)
from cinnamon._cli.experiments import add_pictures, add_results
from cinnamon._cli.tune import add_tune

__all__ = ["COMMANDS", "build_parser", "subparser"]

#: The commands, in the order ``cinnamon --help`` lists them.
COMMANDS: tuple[Callable[[Any, list[argparse.ArgumentParser]], None], ...] = (
    add_list,
    add_show,
    add_validate,
    add_run,
    add_sweep,
    add_tune,
    add_graph,
    add_schema,
    add_results,
    add_pictures,
    add_completion,
)


class _FileAction(argparse.Action):
    """Collects --config and --layer files in one list, in order, each marked."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,  # noqa: ARG002 - argparse's signature
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,  # noqa: ARG002
    ) -> None:
        files = [*getattr(namespace, "files", []), (values, self.const)]
        namespace.files = files


def sources() -> argparse.ArgumentParser:
    """The options every command takes: where registrations come from."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("where registrations come from")
    group.add_argument(
        "--config",
        "-c",
        action=_FileAction,
        const=False,
        dest="files",
        default=[],
        metavar="FILE",
        help="a declarative file to load (repeatable); a file reached again is read once",
    )
    group.add_argument(
        "--layer",
        "-l",
        action=_FileAction,
        const=True,
        dest="files",
        metavar="FILE",
        help="a file whose entries merge over those of the files before it (repeatable)",
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
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The whole command line's parser."""
    parser = argparse.ArgumentParser(
        prog="cinnamon",
        description=(
            "Inspect, check and run component trees. Registrations come from --config "
            "files, --discover packages and [tool.cinnamon] in ./pyproject.toml."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cinnamon {_version()}")
    parser.set_defaults(command=None, debug=False)
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")
    parents = [sources()]
    for add in COMMANDS:
        add(subcommands, parents)
    return parser


def subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of ``command``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[command]
            return found
    raise KeyError(command)  # pragma: no cover - every command has a parser


def _version() -> str:
    import cinnamon  # noqa: PLC0415 - the version is read from the installed metadata

    return str(cinnamon.__version__)
