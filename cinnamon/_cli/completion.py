"""Shell completion: ``cinnamon completion bash|zsh`` prints a script that asks back.

The script hands the line typed so far to the hidden command ``cinnamon __complete``,
which answers with one candidate a line: commands, options, files after options that
take one, registration keys (from the same sources the command would load), and the
dotted paths of the key's tree for overrides (``PATH=``), or keys after ``PATH=@``.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from cinnamon._cli.sources import Session

__all__ = ["complete", "script"]

_FILE_OPTIONS = ("-c", "--config", "-l", "--layer", "-o", "--output", "--results")
_KEYED = ("show", "run", "sweep", "graph")
_OVERRIDES = ("show", "run", "sweep")

_BASH = r"""# cinnamon completion for bash: eval "$(cinnamon completion bash)"
_cinnamon_complete() {
    local IFS=$'\n'
    COMPREPLY=($(cinnamon __complete bash -- "$COMP_LINE" "$COMP_POINT" \
        "${COMP_WORDS[COMP_CWORD]}" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ( ${COMPREPLY[0]} == *= || ${COMPREPLY[0]} == */ ) ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -F _cinnamon_complete cinnamon
"""

_ZSH = r"""#compdef cinnamon
# cinnamon completion for zsh: eval "$(cinnamon completion zsh)" (after compinit)
_cinnamon() {
    local -a found spaced unspaced
    found=("${(@f)$(cinnamon __complete zsh -- "$LBUFFER" "${#LBUFFER}" \
        "${words[CURRENT]}" 2>/dev/null)}")
    found=(${found:#})
    unspaced=(${(M)found:#*[=/]})
    spaced=(${found:#*[=/]})
    (( ${#spaced} )) && compadd -Q -- "${spaced[@]}"
    (( ${#unspaced} )) && compadd -Q -S '' -- "${unspaced[@]}"
    (( ${#found} ))  # zsh reads the status: were there matches
}
if [[ "${funcstack[1]}" == "_cinnamon" ]]; then
    _cinnamon "$@"
else
    compdef _cinnamon cinnamon
fi
"""


def script(shell: str) -> str:
    """The completion script for ``shell`` (``bash`` or ``zsh``)."""
    return _BASH if shell == "bash" else _ZSH


def complete(
    shell: str, line: str, point: int, word: str, parser: argparse.ArgumentParser
) -> list[str]:
    """The candidates for the word being typed at ``point`` of ``line``.

    Bash splits words at ``:`` and ``=`` too, so each candidate is cut to the part
    after the last such break, which is what bash replaces (``word``).
    """
    typed = line[:point]
    try:
        words = shlex.split(typed)
    except ValueError:  # an open quote: complete as if it were closed
        words = typed.split()
    if not typed or typed[-1].isspace():
        words.append("")
    current, before = words[-1], words[1:-1]
    found = sorted(set(_candidates(current, before, parser)))
    cut = len(current) - len(word) if shell == "bash" and current.endswith(word) else 0
    return [candidate[cut:] for candidate in found if candidate.startswith(current)]


def _candidates(  # noqa: PLR0911 - one answer for each place on the line
    current: str, before: list[str], parser: argparse.ArgumentParser
) -> list[str]:
    subparsers = _subparsers(parser)
    command = next((word for word in before if word in subparsers), None)
    if command is None:
        if current.startswith("-"):
            return _options(parser)
        return [name for name in subparsers if not name.startswith("_")]
    sub = subparsers[command]
    if before and before[-1] in _FILE_OPTIONS:
        return _files(current)
    if current.startswith("-"):
        return _options(sub)
    positional = _positional(before[before.index(command) + 1 :], sub)
    if command == "completion":
        return ["bash", "zsh"] if not positional else []
    session = _session(parser, before) if command in _KEYED else None
    if session is None:
        return []
    keys = [str(key) for key in session.registry]
    if not positional or command not in _OVERRIDES:
        return [] if positional else keys
    path, equals, _ = current.partition("=")
    if equals:
        return [f"{path}=@{key}" for key in keys] if current.startswith(f"{path}=@") else []
    return [f"{path}=" for path in _tree_paths(session, positional[0])]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
        if option.startswith("--")
    ]


def _positional(words: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """The words that are not options nor the values of options."""
    takes_value = {
        option
        for action in parser._actions
        if action.nargs != 0
        for option in action.option_strings
    }
    found, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in takes_value
        else:
            found.append(word)
    return found


def _files(current: str) -> list[str]:
    typed = Path(current).expanduser() if current else Path()
    folder, stem = (
        (typed, "") if current.endswith("/") or not current else (typed.parent, typed.name)
    )
    if not folder.is_dir():
        return []
    shown = "" if not current or "/" not in current else current[: current.rfind("/") + 1]
    return [
        f"{shown}{item.name}{'/' if item.is_dir() else ''}"
        for item in folder.iterdir()
        if item.name.startswith(stem)
    ]


def _session(parser: argparse.ArgumentParser, before: list[str]) -> Session | None:
    try:
        arguments, _ = parser.parse_known_args(before)
        return Session(arguments)
    except (Exception, SystemExit):  # noqa: BLE001 - completion never fails loudly
        return None


def _tree_paths(session: Session, key: str) -> list[str]:
    from cinnamon._cli.fields import field_paths  # noqa: PLC0415

    try:
        return field_paths(session.resolve(session.key(key)))
    except Exception:  # noqa: BLE001 - a key that does not resolve has no paths to offer
        return []
