"""The declarative file formats: TOML, JSON and YAML read into data, with line positions.

Parsing is the formats' own parsers' job; what this module adds is safety (only regular
files are read, limits on size and nesting, duplicate keys refused, nothing quoted from
a file outside the project that is not a declarative file) and, only when an error
needs one, the line that a dotted path was written on, found by a scan of the text made
once per file.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, final

from cinnamon._core.limits import (
    FILE_BYTES_VARIABLE,
    MAX_DEPTH,
    MAX_FILE_NESTING,
    max_file_bytes,
    too_deep,
)
from cinnamon.errors import DeclarationError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

__all__ = [
    "FORMATS",
    "Document",
    "Format",
    "Parts",
    "check_nesting",
    "file_identity",
    "format_of",
    "parse_toml",
    "read_text",
    "render_path",
]

Format = Literal["toml", "yaml", "json"]
Parts = tuple[str | int, ...]

#: The file formats, by file suffix.
FORMATS: Mapping[str, Format] = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A YAML file can expand to far more values than it has characters (aliases of aliases);
# past this many values it is refused rather than walked.
_YAML_BUDGET = 1_000_000


def format_of(path: str | os.PathLike[str]) -> Format:
    """Return the format of a file from its suffix.

    Raises:
        UsageError: the suffix is not one of ``.toml``, ``.yaml``, ``.yml``, ``.json``.
    """
    suffix = Path(path).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        msg = f"unknown file type {suffix!r}; use one of {', '.join(FORMATS)}"
        raise UsageError(msg)
    return fmt


def render_path(parts: Iterable[str | int]) -> str:
    """Render path parts as a dotted path (``registrations."demo:a".fields.x[1]``)."""
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
            continue
        if not isinstance(part, str):  # YAML keys may be null, floats, dates, ...
            part = str(part)  # noqa: PLW2901 - shown as text like any key
        shown = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
        text = f"{text}.{shown}" if text else shown
    return text


def read_text(path: Path, name: str, by: Document | None, at: Parts | None) -> str:
    """Read a declarative file's text: a regular file, within the size limit, in UTF-8.

    What the name leads to is looked at (``os.stat``) before it is opened, so a FIFO, a
    device, a socket or a folder is refused without being opened; the file is then
    opened without blocking and looked at again, in case it was swapped in between.
    """
    try:
        return _read(path, name)
    except _Refused as refused:
        reason = refused.reason
    except OSError as error:
        if error.errno == errno.ELOOP:
            reason = f"cannot read {name!r}: {symlink_loop(path)}"
        else:
            reason = f"cannot read {name!r}: {error.strerror or error}"
    except UnicodeDecodeError as error:
        reason = f"{name!r} is not UTF-8 text ({error.reason} at byte {error.start})"
    except (ValueError, UnicodeEncodeError):  # NUL or a lone surrogate in the name
        reason = f"{name!r} is not a file name this system can use"
    if by is None or at is None:
        raise DeclarationError(reason, file=name)
    raise DeclarationError(reason, file=by.name, line=by.line_of(at), path=render_path(at))


class _Refused(Exception):  # noqa: N818 - internal signal, turned into a DeclarationError
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _read(path: Path, name: str) -> str:
    before = path.stat()  # follows links, opens nothing
    _check_regular(before, name)
    limit = max_file_bytes()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    with open(descriptor, "rb") as handle:  # noqa: PTH123 - a descriptor, not a path
        after = os.fstat(descriptor)
        _check_regular(after, name)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            reason = f"cannot read {name!r}: it was replaced while being opened"
            raise _Refused(reason)
        data = handle.read(limit + 1)
    if len(data) > limit:
        reason = (
            f"{name!r} is larger than {limit:,} bytes, the limit for declarative files; "
            f"set the environment variable {FILE_BYTES_VARIABLE} to read larger ones"
        )
        raise _Refused(reason)
    return data.decode("utf-8")


def _check_regular(status: os.stat_result, name: str) -> None:
    mode = status.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        kind = "a folder"
    elif stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:  # pragma: no cover - doors, ports and other rarities
        kind = "not a regular file"
    reason = f"cannot read {name!r}: it is {kind}; declarative files are regular files"
    raise _Refused(reason)


def symlink_loop(path: Path) -> str:
    """Describe the chain of symbolic links that leads from ``path`` back to itself."""
    chain: list[str] = []
    current = Path(os.path.normpath(path))
    with contextlib.suppress(OSError, ValueError):
        while str(current) not in chain and len(chain) < 40:  # noqa: PLR2004 - the kernel's
            chain.append(str(current))
            if not current.is_symlink():
                break
            current = Path(os.path.normpath(current.parent / current.readlink()))
    if str(current) in chain:
        chain.append(str(current))
    shown = " -> ".join(repr(link) for link in chain)
    return f"a loop of symbolic links ({shown})"


def file_identity(path: Path, name: str) -> Path:
    """The file's real path, which tells when two names mean one file."""
    try:
        return path.resolve()
    except RuntimeError:  # Python before 3.13: "Symlink loop from ..."
        reason = f"cannot read {name!r}: {symlink_loop(path)}"
    except OSError as error:
        if error.errno != errno.ELOOP:
            reason = f"{name!r} is not a file name this system can use"
        else:
            reason = f"cannot read {name!r}: {symlink_loop(path)}"
    except (ValueError, UnicodeError):  # NUL or a lone surrogate in the name
        reason = f"{name!r} is not a file name this system can use"
    raise DeclarationError(reason, file=name) from None


def _real(folder: Path) -> Path:
    try:
        return folder.resolve()
    except (OSError, RuntimeError):  # pragma: no cover - the working folder is gone
        return folder


# The keys a declarative file may hold at its top (as the loader checks them).
_TOP_KEYS = frozenset({"$schema", "extends", "registrations"})


def _looks_declarative(data: Any) -> bool:
    return data is None or (isinstance(data, dict) and all(key in _TOP_KEYS for key in data))


_TOML_WHERE = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


# Tokens of TOML and JSON text, for the nesting check that runs before the parsers: a
# string (of any kind), a comment, a line break, a bracket, punctuation, anything else.
_NEST_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""(?:"{1,2}(?!"))?'
    r"|'''[\s\S]*?'''(?:'{1,2}(?!'))?"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
    r"|#[^\n]*|\n|[\[\]{}=,.]|[^\s\"'#\[\]{}=,.]+|[ \t\r]+|[\s\S]"
)


def check_nesting(text: str, fmt: Format, name: str) -> None:  # noqa: C901 - one small state machine
    """Refuse text whose brackets or dotted keys nest deeper than ``MAX_FILE_NESTING``.

    This runs before the parser, in one pass over the text: the parsers recurse on
    brackets and take time quadratic in the parts of a dotted key, so such text is
    refused here, with its line, before it can cost either.
    """
    toml = fmt == "toml"
    opened: list[str] = []  # the open brackets: "header", "array" or "table"
    line = 1
    dots = 0  # the dots so far in the key being read
    in_key = toml  # TOML keys start each line, and follow { and , in inline tables
    for found in _NEST_TOKEN.finditer(text):
        token = found.group()
        char = token[0]
        if char == "\n":
            line += 1
            if not opened or opened[-1] == "header":
                in_key, dots = toml, 0
        elif char in "\"'":
            line += token.count("\n")
        elif char == "." and in_key:
            dots += 1
            if dots >= MAX_FILE_NESTING:
                reason = (
                    f"values nested too deeply: a dotted key of more than {MAX_FILE_NESTING:,} "
                    "parts"
                )
                raise DeclarationError(reason, file=name, line=line)
        elif char in "[{":
            header = toml and char == "[" and in_key and (not opened or opened[-1] == "header")
            opened.append("header" if header else "table" if char == "{" else "array")
            in_key, dots = toml and (header or char == "{"), 0
            if len(opened) > MAX_FILE_NESTING:
                reason = (
                    f"values nested too deeply: more than {MAX_FILE_NESTING:,} levels of brackets"
                )
                raise DeclarationError(reason, file=name, line=line)
        elif char in "]}":
            if opened:
                opened.pop()
            in_key = False
        elif char == "=":
            in_key = False
        elif char == "," and toml and opened and opened[-1] == "table":
            in_key, dots = True, 0


def parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        table: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error.args[0]) if error.args else str(error)
        line: int | None = getattr(error, "lineno", None)
        found = _TOML_WHERE.search(message)
        if found is not None:
            message = message[: found.start()]
            if found[1] is not None:
                line = line or int(found[1])
                message += f" (column {found[2]})"
            else:
                line = line or text.count("\n") + 1
                message += " (at the end of the file)"
        reason = f"invalid TOML: {message}"
        raise DeclarationError(reason, file=name, line=line) from None
    except RecursionError:
        reason = "invalid TOML: values nested too deeply"
        raise DeclarationError(reason, file=name) from None
    except ValueError as error:  # a number past Python's 4,300-digit limit, say
        raise DeclarationError(f"invalid TOML: {error}", file=name) from None
    return table


def _parse_json(text: str, name: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        table: dict[str, Any] = {}
        for key, value in items:
            if key in table:
                raise _DuplicateKeyError(key)
            table[key] = value
        return table

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as error:
        reason = f"invalid JSON: {error.msg} (column {error.colno})"
        raise DeclarationError(reason, file=name, line=error.lineno) from None
    except _DuplicateKeyError as error:
        line = _duplicate_line(text, json.dumps(error.key))
        reason = f"invalid JSON: duplicate key {error.key!r}"
        raise DeclarationError(reason, file=name, line=line) from None
    except RecursionError:
        reason = "invalid JSON: values nested too deeply"
        raise DeclarationError(reason, file=name) from None
    except ValueError as error:  # a number past Python's 4,300-digit limit, say
        raise DeclarationError(f"invalid JSON: {error}", file=name) from None


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _duplicate_line(text: str, quoted: str) -> int | None:
    found = list(re.finditer(re.escape(quoted) + r"\s*:", text))
    return None if len(found) < 2 else text.count("\n", 0, found[1].start()) + 1  # noqa: PLR2004


def _parse_yaml(text: str, name: str) -> tuple[Any, Any]:
    try:
        yaml: Any = importlib.import_module("yaml")  # optional: needed only for YAML
    except ImportError:
        reason = "reading YAML needs PyYAML; install it with: pip install 'cinnamon[yaml]'"
        raise DeclarationError(reason, file=name) from None
    try:  # the loader's reader checks the characters as soon as it is made
        loader = _yaml_loader(yaml)(text)
    except yaml.YAMLError as error:
        raise DeclarationError(f"invalid YAML: {error}", file=name) from None
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_yaml_size(node, yaml, name)
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        problem = str(error.problem or error.context or "malformed YAML")
        tag = re.search(r"the tag '([^']*)'", problem)
        if tag is not None:
            shown = tag[1].replace("tag:yaml.org,2002:", "!!")
            reason = (
                f"YAML tag {shown!r} is not allowed: files are read with PyYAML's safe "
                "loader, which makes plain data only"
            )
        else:
            reason = f"invalid YAML: {problem}"
        raise DeclarationError(reason, file=name, line=line) from None
    except yaml.YAMLError as error:
        raise DeclarationError(f"invalid YAML: {error}", file=name) from None
    except DeclarationError:  # the size or the depth, already said with the line
        raise
    except RecursionError:
        reason = "invalid YAML: values nested too deeply"
        raise DeclarationError(reason, file=name) from None
    except ValueError as error:  # a number past Python's 4,300-digit limit, say
        raise DeclarationError(f"invalid YAML: {error}", file=name) from None
    finally:
        loader.dispose()
    return data, node


_yaml_loaders: dict[int, Any] = {}


def _yaml_loader(yaml: Any) -> Any:
    cached = _yaml_loaders.get(id(yaml))
    if cached is not None:
        return cached

    class Loader(yaml.SafeLoader):  # type: ignore[misc] # the base class is Any to mypy
        """PyYAML's safe loader, refusing duplicate keys (it keeps the last silently)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = seen.get(key)
                except TypeError:
                    continue  # unhashable: the safe loader reports it below
                if earlier is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen[key] = key_node
            return super().construct_mapping(node, deep=deep)

    _yaml_loaders[id(yaml)] = Loader
    return Loader


def _check_yaml_size(root: Any, yaml: Any, name: str) -> None:
    """Refuse a YAML document too large (through aliases) or too deep to construct."""
    budget = _YAML_BUDGET
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            reason = (
                f"the YAML expands to more than {_YAML_BUDGET:,} values through its aliases; "
                "refusing to read it"
            )
            raise DeclarationError(reason, file=name, line=node.start_mark.line + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and depth > MAX_FILE_NESTING:
            reason = (
                f"values nested too deeply: more than {MAX_FILE_NESTING:,} levels of lists "
                "and tables"
            )
            raise DeclarationError(reason, file=name, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)


# -- line numbers ---------------------------------------------------------------------
# Parsers give lines for syntax errors only; for problems found later (a wrong value, an
# unknown field) each format's text is scanned once, on the first error, into a map from
# every path in the file to the line where it is written.


class _Confused(Exception):  # noqa: N818 - internal signal, never escapes
    """The scanner met something it does not understand; keep what it found so far."""


_TOML_SPACE = re.compile(r"(?:[ \t\r]+|#[^\n]*)*")
_TOML_STRING = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""(?:"{1,2}(?!"))?'
    r"|'''[\s\S]*?'''(?:'{1,2}(?!'))?"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
)
_TOML_SCALAR = re.compile(r"[^\s,\]}#]+(?: [0-9]{2}:[^\s,\]}#]*)?")


@final
class _TomlIndex:
    """Maps each key path of a (valid) TOML text to the line where it is written."""

    __slots__ = ("index", "line", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.index: dict[Parts, int] = {}

    def build(self) -> dict[Parts, int]:
        with contextlib.suppress(_Confused, IndexError):
            self._scan()
        return self.index

    def _note(self, parts: Parts) -> None:
        # Every prefix of a noted path is noted with it, so the first prefix found noted
        # ends the loop: the keys of one table cost one step each, not their depth.
        for end in range(len(parts), 0, -1):
            prefix = parts[:end]
            if prefix in self.index:
                return
            self.index[prefix] = self.line

    def _space(self) -> None:
        self.pos = _TOML_SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def _expect(self, char: str) -> None:
        self._space()
        if not self.text.startswith(char, self.pos):
            raise _Confused
        self.pos += len(char)

    def _key(self) -> Parts:
        parts: list[str | int] = []
        text = self.text
        while True:
            self._space()
            if text[self.pos] in "\"'":
                found = _TOML_STRING.match(text, self.pos)
                if found is None:
                    raise _Confused
                token = found.group()
                if token[0] == "'" or "\\" not in token:
                    parts.append(token[1:-1])
                else:
                    parts.append(tomllib.loads(f"k = {token}")["k"])
            else:
                found = _BARE_KEY.match(text, self.pos)
                if found is None:
                    raise _Confused
                parts.append(found.group())
            self.pos = found.end()
            self._space()
            if not text.startswith(".", self.pos):
                return tuple(parts)
            self.pos += 1

    def _scan(self) -> None:  # noqa: C901, PLR0912, PLR0915 - one state machine reads best whole
        text = self.text
        table: Parts = ()
        counts: dict[Parts, int] = {}
        stack: list[list[Any]] = []  # open inline tables and arrays: [kind, path, count]
        mode = "statement"
        target: Parts = ()
        while True:
            self._space()
            if self.pos >= len(text):
                return
            char = text[self.pos]
            if char == "\n":
                self.pos += 1
                self.line += 1
                continue
            if mode == "after" and not stack:
                mode = "statement"
            if mode == "statement":
                if char == "[":
                    array = text.startswith("[[", self.pos)
                    self.pos += 2 if array else 1
                    parts = self._key()
                    self._expect("]]" if array else "]")
                    if array:
                        counts[parts] = counts.get(parts, -1) + 1
                        parts = (*parts, counts[parts])
                    table = parts
                    self._note(table)
                else:
                    target = table + self._key()
                    self._expect("=")
                    self._note(target)
                    mode = "value"
            elif mode == "key":
                if char == "}":
                    self.pos += 1
                    stack.pop()
                    mode = "after"
                else:
                    target = stack[-1][1] + self._key()
                    self._expect("=")
                    self._note(target)
                    mode = "value"
            elif mode == "item":
                if char == "]":
                    self.pos += 1
                    stack.pop()
                    mode = "after"
                else:
                    target = (*stack[-1][1], stack[-1][2])
                    self._note(target)
                    mode = "value"
            elif mode == "value":
                if char in "{[":
                    self.pos += 1
                    stack.append(["table" if char == "{" else "array", target, 0])
                    mode = "key" if char == "{" else "item"
                else:
                    found = (_TOML_STRING if char in "\"'" else _TOML_SCALAR).match(text, self.pos)
                    if found is None:
                        raise _Confused
                    self.line += found.group().count("\n")
                    self.pos = found.end()
                    mode = "after"
            else:  # after a value inside an inline table or an array
                kind = stack[-1][0]
                if char == ",":
                    self.pos += 1
                    if kind == "array":
                        stack[-1][2] += 1
                    mode = "key" if kind == "table" else "item"
                elif char == ("}" if kind == "table" else "]"):
                    self.pos += 1
                    stack.pop()
                else:
                    raise _Confused


_JSON_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def _json_index(text: str) -> dict[Parts, int]:  # noqa: C901, PLR0912 - a small state machine
    index: dict[Parts, int] = {}
    stack: list[list[Any]] = []  # [kind, path, count or next key path, expecting a key]
    line = 1
    for found in _JSON_TOKEN.finditer(text):
        piece = found.group()
        if piece[0].isspace():
            line += piece.count("\n")
            continue
        top = stack[-1] if stack else None
        if top is not None and top[0] == "object" and top[3] and piece[0] == '"':
            path = (*top[1], json.loads(piece))
            index.setdefault(path, line)
            top[2], top[3] = path, False
            continue
        if piece == ":":
            continue
        if piece == ",":
            if top is not None and top[0] == "object":
                top[3] = True
            elif top is not None:
                top[2] += 1
            continue
        if piece in "}]":
            stack.pop()
            continue
        if top is None:
            path = ()
        elif top[0] == "object":
            path = top[2]
        else:
            path = (*top[1], top[2])
            index.setdefault(path, line)
        if piece == "{":
            stack.append(["object", path, (), True])
        elif piece == "[":
            stack.append(["array", path, 0, False])
    return index


def _yaml_index(root: Any) -> dict[Parts, int]:
    index: dict[Parts, int] = {}
    stack: list[tuple[Any, Parts]] = [(root, ())]
    budget = _YAML_BUDGET  # aliases can repeat a subtree; the size was checked on reading
    while stack and budget > 0:
        node, path = stack.pop()
        budget -= 1
        if isinstance(node.value, list):
            for position, item in enumerate(node.value):
                if isinstance(item, tuple):
                    key_node, value_node = item
                    inner = (*path, str(key_node.value))
                    index.setdefault(inner, key_node.start_mark.line + 1)
                    stack.append((value_node, inner))
                else:
                    inner = (*path, position)
                    index.setdefault(inner, item.start_mark.line + 1)
                    stack.append((item, inner))
    return index


@final
class Document:
    """One parsed file: its text, its data, and where each of its paths is written.

    ``by`` is the file that extends this one. The project is the working folder and
    the folder of the file first loaded; a file outside it that is not a declarative
    file (one extended by mistake or by a malicious link, ``/etc/...``) gets errors
    that quote nothing of what it holds.
    """

    __slots__ = (
        "_index",
        "data",
        "fmt",
        "folder",
        "identity",
        "name",
        "node",
        "private",
        "project",
        "text",
    )

    def __init__(
        self, text: str, fmt: Format, name: str, path: Path | None, by: Document | None = None
    ) -> None:
        self.text = text
        self.fmt = fmt
        self.name = name
        self.folder = Path.cwd() if path is None else path.parent
        self.identity = None if path is None else file_identity(path, name)
        self.node: Any = None
        self._index: dict[Parts, int] | None = None
        if by is not None:
            self.project: tuple[Path, ...] = by.project
        else:
            here = _real(Path.cwd())
            folders = [here] if self.identity is None else [here, self.identity.parent]
            self.project = tuple(dict.fromkeys(folders))
        outside = self.identity is not None and not any(
            self.identity.is_relative_to(folder) for folder in self.project
        )
        self.private = False  # set below for a file outside the project that is not ours
        try:
            if fmt != "yaml":
                check_nesting(text, fmt, name)
            if fmt == "toml":
                self.data: Any = parse_toml(text, name)
            elif fmt == "json":
                self.data = _parse_json(text, name)
            else:
                self.data, self.node = _parse_yaml(text, name)
        except DeclarationError as error:
            if outside:
                raise self._hidden(error.line) from None
            raise
        self.private = outside and not _looks_declarative(self.data)
        deep = too_deep(self.data, restart="@config")
        if deep is not None:
            reason = (
                f"values nested too deeply: more than {MAX_DEPTH} levels of lists and tables "
                "(between inline configurations)"
            )
            raise self.fail(reason, deep)

    def _hidden(self, line: int | None) -> DeclarationError:
        folders = " or ".join(repr(os.fspath(folder)) for folder in self.project)
        reason = (
            f"{self.name!r} is not a declarative file, and it is outside the project "
            f"(below {folders}), so nothing of what it holds is shown"
        )
        return DeclarationError(reason, file=self.name, line=line)

    def line_of(self, parts: Parts) -> int | None:
        """The line of ``parts``, or of its longest prefix written in the file."""
        if self._index is None:
            if self.fmt == "toml":
                self._index = _TomlIndex(self.text).build()
            elif self.fmt == "json":
                self._index = _json_index(self.text)
            else:
                self._index = {} if self.node is None else _yaml_index(self.node)
        for end in range(len(parts), 0, -1):
            line = self._index.get(parts[:end])
            if line is not None:
                return line
        return None

    def fail(self, reason: str, parts: Parts) -> DeclarationError:
        if self.private:
            return self._hidden(self.line_of(parts))
        return DeclarationError(
            reason, file=self.name, line=self.line_of(parts), path=render_path(parts)
        )

    def depth(self, parts: Parts) -> int:
        """How many leading parts of ``parts`` the data of this file holds."""
        value = self.data
        for count, part in enumerate(parts):
            if isinstance(value, dict) and isinstance(part, str):
                if part not in value:
                    return count
                value = value[part]
            elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
                value = value[part]
            else:
                return count
        return len(parts)
