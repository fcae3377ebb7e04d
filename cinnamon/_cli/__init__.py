"""The ``cinnamon`` command line: list, show, validate, run, sweep, graph, schema, completion.

The package holds one module per concern: :mod:`.parser` (the options, and the list of
commands), :mod:`.commands` (each command's parser and what it does), :mod:`.sources`
(where registrations come from), :mod:`.fields` (the per-field help), :mod:`.axes`
(sweep axes), :mod:`.completion` and :mod:`.output`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cinnamon._cli.output import Output
from cinnamon._cli.parser import build_parser, subparser
from cinnamon._cli.sources import import_hint
from cinnamon.errors import CinnamonError, UsageError

__all__ = ["main"]

_EXIT_ERROR = 1


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 - an exit status each
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    import_from_working_folder()
    parser = build_parser()
    arguments = _parse(parser, argv)
    if arguments is None:
        return 0
    out = Output(sys.stdout)
    try:
        if getattr(arguments, "help", False):
            usage = subparser(parser, arguments.command).format_help()
            return _field_help(usage, arguments, out)
        _refuse_axes(arguments)
        arguments.parser = parser
        return int(arguments.handler(arguments, out))
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


def _parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace | None:
    """The parsed arguments, or ``None`` when a help was printed and nothing is to run."""
    # Overrides may stand before or after options (`run KEY --config F a=1 b=2`), which
    # argparse cannot interleave with subcommands; collect the stragglers by hand.
    arguments, extra = parser.parse_known_args(argv)
    if arguments.command is None:
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        parser.print_help()
        return None
    command = subparser(parser, arguments.command)
    takes_overrides = hasattr(arguments, "overrides")
    options = [item for item in extra if item.startswith("-")]
    if options or (extra and not takes_overrides):
        command.error(f"unrecognized arguments: {' '.join(options or extra)}")
    if extra:
        arguments.overrides = [*arguments.overrides, *extra]
    for item in getattr(arguments, "overrides", ()):
        if "=" not in item:
            command.error(
                f"{item!r} is neither an option nor an override: an override is written "
                f"PATH=VALUE, like {item}=... (options start with -)"
            )
    if getattr(arguments, "field_help", False) and arguments.key is None:
        if getattr(arguments, "help", False):
            command.print_help()
            return None
        command.error("the following arguments are required: KEY")
    return arguments


def import_from_working_folder() -> None:
    """Let user modules in the working folder import, as ``python -m cinnamon`` does.

    ``python -m`` puts the working folder first on ``sys.path``; the installed script
    puts its own folder there instead, so without this the two would import differently.
    """
    here = str(Path.cwd())
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)


def _field_help(usage: str, arguments: argparse.Namespace, out: Output) -> int:
    from cinnamon._cli.fields import field_help  # noqa: PLC0415
    from cinnamon._cli.sources import Session  # noqa: PLC0415

    session = Session(arguments)
    overrides = [item for item in arguments.overrides if not _is_axis(item)]
    tree = session.tree(arguments, overrides)
    out.write(usage + "\n" + field_help(tree))
    return 0


def _is_axis(text: str) -> bool:
    from cinnamon._cli.axes import is_axis  # noqa: PLC0415

    return is_axis(text)


def _refuse_axes(arguments: object) -> None:
    """Several values for one field make a sweep; other commands say so."""
    if getattr(arguments, "axes", False):
        return
    for text in getattr(arguments, "overrides", ()):
        if _is_axis(text):
            path, _, value = text.partition("=")
            msg = (
                f"override {text!r} gives several values, which only `cinnamon sweep` "
                f"varies; for one text holding commas, quote it: {path}='\"{value}\"'"
            )
            raise UsageError(msg)


def _fail(error: BaseException, *, traceback_hint: bool = False) -> None:
    kind = "" if isinstance(error, CinnamonError) else f"{type(error).__name__}: "
    lines = [f"error: {kind}{error}"]
    lines += [f"  {note}" for note in getattr(error, "__notes__", ())]
    hint = import_hint(error)
    if hint is not None:
        lines.append(f"  {hint}")
    if traceback_hint:
        lines.append("  (run again with --debug for the traceback)")
    print("\n".join(lines), file=sys.stderr)
