"""The declarative file formats: TOML, JSON and YAML read into data, with line positions.

Parsing is the formats' own parsers' job; what this module adds is safety (limits on
size and nesting, duplicate keys refused) and, only when an error needs one, the line
that a dotted path was written on, found by a scan of the text made once per file.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, final

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
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        reason = f"cannot read {name!r}: {error.strerror or error}"
    except UnicodeDecodeError as error:
        reason = f"{name!r} is not UTF-8 text ({error.reason} at byte {error.start})"
    except (ValueError, UnicodeEncodeError):  # NUL or a lone surrogate in the name
        reason = f"{name!r} is not a file name this system can use"
    if by is None or at is None:
        raise DeclarationError(reason, file=name)
    raise DeclarationError(reason, file=by.name, line=by.line_of(at), path=render_path(at))


def file_identity(path: Path, name: str) -> Path:
    """The file's real path, which tells when two names mean one file."""
    try:
        return path.resolve()
    except (OSError, ValueError, UnicodeError):  # NUL or a lone surrogate in the name
        reason = f"{name!r} is not a file name this system can use"
        raise DeclarationError(reason, file=name) from None


_TOML_WHERE = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


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
    budget = _YAML_BUDGET
    stack = [root]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            reason = (
                f"the YAML expands to more than {_YAML_BUDGET:,} values through its aliases; "
                "refusing to read it"
            )
            raise DeclarationError(reason, file=name, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


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
        for end in range(1, len(parts) + 1):
            self.index.setdefault(parts[:end], self.line)

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
    """One parsed file: its text, its data, and where each of its paths is written."""

    __slots__ = ("_index", "data", "fmt", "folder", "identity", "name", "node", "text")

    def __init__(self, text: str, fmt: Format, name: str, path: Path | None) -> None:
        self.text = text
        self.fmt = fmt
        self.name = name
        self.folder = Path.cwd() if path is None else path.parent
        self.identity = None if path is None else file_identity(path, name)
        self.node: Any = None
        self._index: dict[Parts, int] | None = None
        if fmt == "toml":
            self.data: Any = parse_toml(text, name)
        elif fmt == "json":
            self.data = _parse_json(text, name)
        else:
            self.data, self.node = _parse_yaml(text, name)

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
