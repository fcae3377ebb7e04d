"""Declarative files: registrations written in TOML, YAML or JSON, loaded all at once.

A file names each registration by its key, its configuration class and its field values::

    extends = ["base.toml"]

    [registrations."demo:trainer[fast]"]
    config = "TrainerConfig"
    [registrations."demo:trainer[fast]".fields]
    epochs = 10
    model = { "@ref" = "demo:mlp" }

Loading never runs code from the file: classes are named by an alias or by an import path
under a package root the caller allows, checked before anything is imported. A file with
any problem leaves the registry as it was; every error names the file, the dotted path
inside it and, where it can be found, the line.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import json
import os
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, final, get_args, get_origin

from pydantic import ValidationError

from cinnamon._core.configuration import Configuration, check_variant, declare_variants
from cinnamon._core.key import RegistrationKey
from cinnamon._core.registry import BaseRegistry, Registration, make_registration
from cinnamon._core.space import check_search, declare_search, distribution_from
from cinnamon._core.tree import TreePath, Walk, join, run
from cinnamon.errors import ConfigurationError, DeclarationError, InvalidKeyError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

__all__ = [
    "DIRECTIVES",
    "FORMATS",
    "Format",
    "check_allow",
    "class_name",
    "clean_location",
    "configurations_in",
    "decode",
    "describe_input",
    "flatten",
    "format_of",
    "load",
    "loads",
    "parse_toml",
    "render_path",
]

Format = Literal["toml", "yaml", "json"]
Parts = tuple[str | int, ...]

#: The file formats, by file suffix.
FORMATS: Mapping[str, Format] = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
#: The keys with a meaning of their own inside a field value.
DIRECTIVES = ("@ref", "@shared", "@config", "@component", "@variants", "@search")

_TOP_KEYS = ("$schema", "extends", "registrations")
_ENTRY_KEYS = ("config", "component", "description", "fields")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A YAML file can expand to far more values than it has characters (aliases of aliases);
# past this many values it is refused rather than walked.
_YAML_BUDGET = 1_000_000


def load(
    registry: BaseRegistry,
    path: str | os.PathLike[str],
    *,
    allow: Iterable[str] = (),
    aliases: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> list[RegistrationKey]:
    """Register every entry of a declarative file (and the files it extends).

    Either every registration is added or, if anything is wrong with the file, none is.

    Args:
        registry: the registry to add to.
        path: a ``.toml``, ``.yaml``, ``.yml`` or ``.json`` file.
        allow: package roots whose classes the file may name by import path
            (``"mypkg"`` allows ``"mypkg.models:MLP"``); ``cinnamon`` is always allowed.
        aliases: short names for classes (``{"MLPConfig": MLPConfig}``). Classes
            already registered in ``registry`` are also known by their ``__name__``.
        replace: overwrite registrations with the same keys.

    Returns:
        The keys added, in the order the files declare them (bases first).

    Raises:
        DeclarationError: the file cannot be read, is malformed, names a class it may
            not import, or holds values its configurations refuse.
        UsageError: ``allow`` or ``aliases`` is not what it should be.
    """
    if not isinstance(path, (str, os.PathLike)):
        msg = f"load() takes a file path, not {type(path).__name__}"
        raise UsageError(msg)
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        reason = f"unknown file type {suffix!r}; use one of {', '.join(FORMATS)}"
        raise DeclarationError(reason, file=name)
    text = _read_text(Path(name), name, None, None)
    loader = _Loader(registry, allow, aliases)
    return loader.register(_Document(text, fmt, name, Path(name)), replace=replace)


def loads(
    registry: BaseRegistry,
    text: str,
    *,
    format: Format = "toml",  # noqa: A002 - the natural name, as in json.loads' siblings
    allow: Iterable[str] = (),
    aliases: Mapping[str, Any] | None = None,
    source: str | os.PathLike[str] | None = None,
    replace: bool = False,
) -> list[RegistrationKey]:
    """Register every entry of a declarative file's text; see :func:`load`.

    Args:
        registry: the registry to add to.
        text: the file's text.
        format: ``"toml"``, ``"yaml"`` or ``"json"``.
        allow: package roots the text may import classes from.
        aliases: short names for classes.
        source: where the text came from: named in errors, and the folder that relative
            ``extends`` paths start from (the working folder without it).
        replace: overwrite registrations with the same keys.
    """
    if not isinstance(text, str):
        msg = f"loads() takes the file's text as a str, not {type(text).__name__}"
        raise UsageError(msg)
    fmt = FORMATS.get(f".{format}")
    if fmt is None:
        msg = f"unknown format {format!r}; use 'toml', 'yaml' or 'json'"
        raise UsageError(msg)
    name = "<text>" if source is None else os.fspath(source)
    loader = _Loader(registry, allow, aliases)
    document = _Document(text, fmt, name, None if source is None else Path(source))
    return loader.register(document, replace=replace)


class Place(Protocol):
    """Where decoded values come from: turns a problem at a path into an error."""

    def fail(self, reason: str, parts: Parts) -> DeclarationError:
        """Return the error for ``reason`` at ``parts``."""
        ...


def decode(
    raw: Any,
    place: Place,
    *,
    root: str,
    registry: BaseRegistry | None = None,
    allow: Iterable[str] = (),
    aliases: Mapping[str, Any] | None = None,
) -> Any:
    """Turn a value written in file syntax (directives and all) into a configuration value.

    ``root`` is the first part of every path handed to ``place.fail``.
    """
    loader = _Loader(registry, allow, aliases)
    if isinstance(raw, (dict, list)):
        return run(loader.value(raw, place, TreePath(None, root)))
    return raw


def check_allow(allow: Iterable[str]) -> tuple[str, ...]:
    """Check package roots given as ``allow`` and return them with ``cinnamon`` added."""
    if isinstance(allow, str):
        msg = f"allow must be a collection of package names, not the string {allow!r}"
        raise UsageError(msg)
    if not isinstance(allow, Iterable):
        msg = f"allow must be a collection of package names, not {allow!r:.80}"
        raise UsageError(msg)
    roots = tuple(allow)
    for root in roots:
        if not isinstance(root, str) or not _is_dotted(root):
            msg = f"allow: {root!r} is not a package name like 'mypkg' or 'mypkg.configs'"
            raise UsageError(msg)
    return ("cinnamon", *roots)


def class_name(cls: Any) -> str:
    """Return the import path (``module:QualName``) that names ``cls`` in a file."""
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        msg = (
            f"{cls!r} has no import path (it is defined inside a function, or is not a "
            "class); give it a name with aliases={...}"
        )
        raise UsageError(msg)
    # Prefer the public home of a class defined in a private module
    # (cinnamon._hooks.pipeline:PipelineConfig is written as cinnamon:PipelineConfig).
    parts = module.split(".")
    if any(part.startswith("_") for part in parts):
        for end in range(1, len(parts)):  # the shortest public home wins
            parent = sys.modules.get(".".join(parts[:end]))
            if parent is not None and getattr(parent, qualname, None) is cls:
                return f"{'.'.join(parts[:end])}:{qualname}"
    return f"{module}:{qualname}"


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


def _is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


# -- reading and parsing ---------------------------------------------------------------


def _read_text(path: Path, name: str, by: _Document | None, at: Parts | None) -> str:
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


def _identity(path: Path, name: str) -> Path:
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
class _Document:
    """One parsed file: its text, its data, and where each of its paths is written."""

    __slots__ = ("_index", "data", "fmt", "folder", "identity", "name", "node", "text")

    def __init__(self, text: str, fmt: Format, name: str, path: Path | None) -> None:
        self.text = text
        self.fmt = fmt
        self.name = name
        self.folder = Path.cwd() if path is None else path.parent
        self.identity = None if path is None else _identity(path, name)
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


# -- loading ---------------------------------------------------------------------------


@final
class _Entry:
    """One registration merged from every file that declares it, bases first."""

    __slots__ = ("data", "key", "sources")

    def __init__(self, key: RegistrationKey, document: _Document, raw_key: str, data: Any) -> None:
        self.key = key
        self.sources = [(document, raw_key)]
        self.data = data

    def fail(self, reason: str, parts: Parts) -> DeclarationError:
        """An error at ``parts`` (inside the entry), placed in the file that wrote them."""
        document, full = self.locate(parts)
        return document.fail(reason, full)

    def locate(self, parts: Parts) -> tuple[_Document, Parts]:
        best: tuple[int, _Document, Parts] | None = None
        for document, raw_key in reversed(self.sources):
            full = ("registrations", raw_key, *parts)
            depth = document.depth(full)
            if best is None or depth > best[0]:
                best = (depth, document, full)
        assert best is not None  # noqa: S101 - an entry has at least one source
        return best[1], best[2]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base``: tables key by key, other values replace.

    A reference, and an inline declaration of another class, replace what was there.
    """
    result = dict(base)
    stack = [(result, over)]
    while stack:
        target, source = stack.pop()
        for key, value in source.items():
            old = target.get(key)
            if isinstance(old, dict) and isinstance(value, dict) and _mergeable(old, value):
                merged = dict(old)
                target[key] = merged
                stack.append((merged, value))
            else:
                target[key] = value
    return result


def _mergeable(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if any(key in old or key in new for key in ("@ref", "@variants", "@search")):
        return False
    return not ("@config" in old and "@config" in new and old["@config"] != new["@config"])


@final
class _Loader:
    """Reads files into registrations, for one call of :func:`load` or :func:`loads`."""

    __slots__ = ("aliases", "allow", "names", "registered", "registry")

    def __init__(
        self, registry: BaseRegistry | None, allow: Iterable[str], aliases: Mapping[str, Any] | None
    ) -> None:
        self.registry = registry
        self.allow = check_allow(allow)
        if aliases is not None and not isinstance(aliases, Mapping):
            msg = f"aliases must be a mapping of names to classes, not {type(aliases).__name__}"
            raise UsageError(msg)
        if aliases is not None and not all(isinstance(name, str) for name in aliases):
            msg = "aliases must map names (strings) to classes"
            raise UsageError(msg)
        self.aliases: Mapping[str, Any] = aliases or {}
        self.names: dict[str, Any] = {}  # every class name looked up so far
        self.registered: dict[str, list[Any]] | None = None

    def register(self, root: _Document, *, replace: bool) -> list[RegistrationKey]:
        assert self.registry is not None  # noqa: S101 - only load() and loads() register
        made = self.read(root)
        if not replace:
            for entry, registration in made:
                if registration.key in self.registry:
                    reason = (
                        f"{str(registration.key)!r} is already registered; pass replace=True "
                        "to overwrite it"
                    )
                    raise entry.fail(reason, ())
        return self.registry.add_registrations([pair[1] for pair in made], replace=replace)

    def read(self, root: _Document) -> list[tuple[_Entry, Registration]]:
        merged: dict[RegistrationKey, _Entry] = {}
        for document in self._chain(root):
            seen: dict[RegistrationKey, str] = {}
            for raw_key, data in self._shape(document).items():
                at = ("registrations", raw_key)
                try:
                    key = RegistrationKey.parse(raw_key)
                except InvalidKeyError as error:
                    raise document.fail(str(error), at) from None
                if key in seen:
                    earlier = document.line_of(("registrations", seen[key]))
                    reason = f"{raw_key!r} is the same key as {seen[key]!r}"
                    reason += "" if earlier is None else f" (line {earlier})"
                    raise document.fail(reason, at)
                seen[key] = raw_key
                entry = merged.get(key)
                if entry is None:
                    merged[key] = _Entry(key, document, raw_key, data)
                else:
                    entry.data = _merge(entry.data, data)
                    entry.sources.append((document, raw_key))
        return [(entry, self._registration(entry)) for entry in merged.values()]

    # -- files and their shape --

    def _chain(self, root: _Document) -> list[_Document]:
        """The files to merge, each once, every base before the files extending it."""
        order: list[_Document] = []
        done: set[Path] = set()
        active: list[_Document] = [root]
        stack = [(root, iter(self._extends(root)))]
        while stack:
            document, bases = stack[-1]
            step = next(bases, None)
            if step is None:
                stack.pop()
                active.pop()
                order.append(document)
                if document.identity is not None:
                    done.add(document.identity)
                continue
            relative, at = step
            path = document.folder / relative
            name = os.path.normpath(path)
            try:
                identity = _identity(path, name)
            except DeclarationError as error:
                raise document.fail(error.reason, at) from None
            if any(other.identity == identity for other in active):
                start = next(i for i, d in enumerate(active) if d.identity == identity)
                cycle = " -> ".join(repr(d.name) for d in [*active[start:]]) + f" -> {name!r}"
                raise document.fail(f"extends cycle: {cycle}", at)
            if identity in done:
                continue
            suffix = path.suffix.lower()
            fmt = FORMATS.get(suffix)
            if fmt is None:
                reason = f"cannot extend {name!r}: unknown file type {suffix!r}"
                raise document.fail(reason, at)
            base = _Document(_read_text(path, name, document, at), fmt, name, path)
            active.append(base)
            stack.append((base, iter(self._extends(base))))
        return order

    def _extends(self, document: _Document) -> list[tuple[str, Parts]]:
        data = self._top(document)
        value = data.get("extends", [])
        if isinstance(value, str):
            return [(value, ("extends",))]
        if not isinstance(value, list):
            reason = f"extends must be a file name or a list of them, not {_kind(value)}"
            raise document.fail(reason, ("extends",))
        for index, item in enumerate(value):
            if not isinstance(item, str):
                reason = f"extends lists file names, not {_kind(item)}"
                raise document.fail(reason, ("extends", index))
        return [(item, ("extends", index)) for index, item in enumerate(value)]

    def _top(self, document: _Document) -> dict[str, Any]:
        data = document.data
        if data is None:  # an empty YAML file
            document.data = data = {}
        if not isinstance(data, dict):
            reason = f"a declarative file holds a table at the top, not {_kind(data)}"
            raise document.fail(reason, ())
        for key in data:
            if key not in _TOP_KEYS:
                raise document.fail(_unknown("key", key, _TOP_KEYS), (str(key),))
        return data

    def _shape(self, document: _Document) -> dict[str, Any]:
        registrations = self._top(document).get("registrations", {})
        if not isinstance(registrations, dict):
            reason = f"registrations must be a table of entries, not {_kind(registrations)}"
            raise document.fail(reason, ("registrations",))
        for raw_key, entry in registrations.items():
            at: Parts = ("registrations", str(raw_key))
            if not isinstance(raw_key, str):
                raise document.fail(f"a key must be a string, not {_kind(raw_key)}", at)
            if not isinstance(entry, dict):
                reason = f"an entry must be a table (with config, fields, ...), not {_kind(entry)}"
                raise document.fail(reason, at)
            for name, value in entry.items():
                if name not in _ENTRY_KEYS:
                    raise document.fail(_unknown("entry key", name, _ENTRY_KEYS), (*at, str(name)))
                wanted = dict if name == "fields" else str
                if not isinstance(value, wanted):
                    reason = f"{name} must be a {'table' if wanted is dict else 'string'}"
                    raise document.fail(f"{reason}, not {_kind(value)}", (*at, name))
        return registrations

    # -- entries and values --

    def _registration(self, entry: _Entry) -> Registration:

        data = entry.data
        if "config" not in data:
            reason = 'the entry names no configuration class; add config = "Name"'
            raise entry.fail(reason, ())
        cls = self._class(data["config"], "configuration", entry, ("config",))
        component = None
        if "component" in data:
            component = self._class(data["component"], "component", entry, ("component",))
        fields = data.get("fields", {})
        for name in fields:
            if isinstance(name, str) and name.startswith("@") and not name.startswith("@@"):
                reason = f"{name!r}: directives go inside field values, not among the fields"
                raise entry.fail(reason, ("fields", name))
        searched = {name: raw for name, raw in fields.items() if _declares_search(raw)}
        plain = {
            name: raw
            for name, raw in fields.items()
            if not _declares_variants(raw) and name not in searched
        }
        values = run(self._table(plain, entry, TreePath(None, "fields")))
        variants = {}
        for name, raw in fields.items():
            if name not in plain and name not in searched:
                variants[name] = self._variants(cls, name, raw, entry)
                if variants[name]:  # the first variant is the registration's own value
                    values[name] = variants[name][0]
        search = self._searches(cls, searched, entry, values)
        config = self._construct(cls, values, entry, TreePath(None, "fields"))
        if variants:
            declare_variants(config, variants)
        if search:
            declare_search(config, search)
        return make_registration(config, entry.key, component, data.get("description"))

    def _variants(
        self, cls: type[Configuration], name: str, raw: dict[str, Any], entry: _Entry
    ) -> tuple[Any, ...]:
        """Read ``{ "@variants" = [...] }``: each value decoded and checked by its field."""
        at: Parts = ("fields", name)
        others = sorted(str(key) for key in raw if key != "@variants")
        if others:
            reason = f"@variants takes no other keys; found {', '.join(others)}"
            raise entry.fail(reason, at)
        items = raw["@variants"]
        if not isinstance(items, list):
            reason = f"@variants holds a list of the field's values, not {_kind(items)}"
            raise entry.fail(reason, (*at, "@variants"))
        if name not in cls.model_fields:
            raise entry.fail(_unknown_field(cls, (name,)), at)
        path = join(join(TreePath(None, "fields"), name), "@variants")
        found = []
        for index, item in enumerate(items):
            value = item
            if isinstance(item, (dict, list)):
                value = run(self.value(item, entry, join(path, index)))
            try:
                found.append(check_variant(cls, name, value, index))
            except ConfigurationError as error:
                message = error.errors[0][1]
                raise entry.fail(message, (*at, "@variants", index)) from error
        return tuple(found)

    def _searches(
        self,
        cls: type[Configuration],
        searched: dict[str, Any],
        entry: _Entry,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """Read the fields declared with ``@search``; give required ones a value of theirs."""
        search = {name: self._search(cls, name, raw, entry) for name, raw in searched.items()}
        for name, distribution in search.items():
            if cls.model_fields[name].is_required():  # the registration's own value
                values[name] = _first_value(distribution)
        return search

    def _search(
        self, cls: type[Configuration], name: str, raw: dict[str, Any], entry: _Entry
    ) -> Any:
        """Read ``{ "@search" = { KIND = [...] } }`` and check it against its field."""
        at: Parts = ("fields", name, "@search")
        others = sorted(str(key) for key in raw if key != "@search")
        if others:
            reason = f"@search takes no other keys; found {', '.join(others)}"
            raise entry.fail(reason, at[:2])
        if name not in cls.model_fields:
            raise entry.fail(_unknown_field(cls, (name,)), at[:2])
        table = raw["@search"]
        if isinstance(table, dict) and isinstance(table.get("choice"), list):
            path = join(join(join(TreePath(None, "fields"), name), "@search"), "choice")
            table = {"choice": run(self.value(table["choice"], entry, path))}
        try:
            distribution = distribution_from(table)
        except ValueError as error:
            inner = (*at, next(iter(table))) if isinstance(table, dict) and table else at
            raise entry.fail(str(error), inner) from None
        try:
            return check_search(cls, name, distribution)
        except ConfigurationError as error:
            _, message = error.errors[0]
            raise entry.fail(message, (*at, distribution.kind)) from error

    def _table(self, raw: dict[str, Any], place: Place, path: TreePath) -> Walk:
        values: dict[Any, Any] = {}
        for key, raw_value in raw.items():
            name = key[1:] if isinstance(key, str) and key.startswith("@@") else key
            if isinstance(raw_value, (dict, list)):
                values[name] = yield self.value(raw_value, place, join(path, key))
            else:
                values[name] = raw_value
        return values

    def value(self, raw: Any, place: Place, path: TreePath) -> Walk:
        if isinstance(raw, list):
            items = []
            for index, item in enumerate(raw):
                if isinstance(item, (dict, list)):
                    items.append((yield self.value(item, place, join(path, index))))
                else:
                    items.append(item)
            return items
        if any(isinstance(key, str) and _is_directive(key) for key in raw):
            return (yield from self._directive(raw, place, path))
        return (yield from self._table(raw, place, path))

    def _directive(self, raw: dict[str, Any], place: Place, path: TreePath) -> Walk:
        for key in raw:
            if isinstance(key, str) and _is_directive(key) and key not in DIRECTIVES:
                reason = _unknown("directive", key, DIRECTIVES)
                reason += " (a literal key that starts with '@' is written '@@...')"
                raise place.fail(reason, _parts(join(path, key)))
        for declared in ("@variants", "@search"):  # read by _variants and _search
            if declared in raw:
                reason = (
                    f"{declared} declares the values of a field of a registration, so it is "
                    "the whole value of a field under fields; to vary a field of an inline "
                    "configuration, register that configuration and reference it"
                )
                raise place.fail(reason, _parts(join(path, declared)))
        if "@ref" in raw:
            return self._reference(raw, place, path)
        for lonely, partner in (("@shared", "@ref"), ("@component", "@config")):
            if lonely in raw and partner not in raw:
                reason = f"{lonely} goes with {partner}"
                raise place.fail(reason, _parts(join(path, lonely)))
        cls = self._class(raw["@config"], "configuration", place, _parts(join(path, "@config")))
        if "@component" in raw:
            at = _parts(join(path, "@component"))
            component = self._class(raw["@component"], "component", place, at)
            if component is not cls.__component__:
                reason = (
                    f"an inline {cls.__name__} builds its own component "
                    f"({_shown(cls.__component__)}), not {_shown(component)}; to build "
                    "another component, register it under a key and reference that"
                )
                raise place.fail(reason, at)
        fields = {key: value for key, value in raw.items() if key not in DIRECTIVES}
        values = yield from self._table(fields, place, path)
        return self._construct(cls, values, place, path)

    def _reference(self, raw: dict[str, Any], place: Place, path: TreePath) -> RegistrationKey:
        others = sorted(str(key) for key in raw if key not in ("@ref", "@shared"))
        if others:
            reason = f"a reference takes only @ref and @shared, not {', '.join(others)}"
            raise place.fail(reason, _parts(path))
        text, shared = raw["@ref"], raw.get("@shared", False)
        if not isinstance(text, str):
            reason = f"@ref holds a key string like 'demo:mlp', not {_kind(text)}"
            raise place.fail(reason, _parts(join(path, "@ref")))
        if not isinstance(shared, bool):
            reason = f"@shared is true or false, not {_kind(shared)}"
            raise place.fail(reason, _parts(join(path, "@shared")))
        try:
            key = RegistrationKey.parse(text)
        except InvalidKeyError as error:
            raise place.fail(str(error), _parts(join(path, "@ref"))) from None
        return key.with_shared() if shared else key

    def _construct(
        self, cls: type[Configuration], values: dict[Any, Any], place: Place, path: TreePath
    ) -> Configuration:
        try:
            return cls(**values)
        except ConfigurationError as error:
            raise self._refused(error, cls, values, place, _parts(path)) from error
        except TypeError as error:  # keywords that are not strings
            raise place.fail(f"field names must be strings ({error})", _parts(path)) from None

    def _refused(
        self,
        error: ConfigurationError,
        cls: type[Configuration],
        values: dict[Any, Any],
        place: Place,
        at: Parts,
    ) -> DeclarationError:
        problems: list[tuple[Parts, str]] = []
        for loc, detail in flatten(error):
            kind = detail["type"]
            parts = clean_location(loc, values, keep_last=kind == "missing")
            if kind == "extra_forbidden":
                message = _unknown_field(cls, loc)
            elif kind == "missing":
                message = "missing: this field has no default, so the file must set it"
            else:
                message = f"{detail['msg']} (got {describe_input(detail['input'])})"
            problems.append(((*at, *parts), message))
        if not problems:  # pragma: no cover - every branch was another union member's
            return place.fail(str(error), at)
        first = place.fail(problems[0][1], problems[0][0])
        if len(problems) == 1:
            return first
        lines = [first.reason]
        for parts, message in problems[1:]:
            other = place.fail(message, parts)
            lines.append(f"  and {other}")
        return DeclarationError("\n".join(lines), file=first.file, line=first.line, path=first.path)

    # -- class names --

    def _class(self, name: Any, what: str, place: Place, at: Parts) -> Any:
        if not isinstance(name, str):
            raise place.fail(f"a class name must be a string, not {_kind(name)}", at)
        found = self.names.get(name)
        if found is None:
            found = self._import(name, place, at) if ":" in name else self._alias(name, place, at)
            self.names[name] = found
        if what == "configuration":
            if not (isinstance(found, type) and issubclass(found, Configuration)):
                reason = f"{name!r} is {_shown(found)}, not a Configuration class"
                raise place.fail(reason, at)
        elif not callable(found):
            raise place.fail(f"{name!r} is {_shown(found)}, which cannot build anything", at)
        return found

    def _import(self, name: str, place: Place, at: Parts) -> Any:
        module, _, qualname = name.partition(":")
        if not _is_dotted(module) or not _is_dotted(qualname):
            reason = f"malformed import path {name!r}: write 'package.module:QualName'"
            raise place.fail(reason, at)
        if not any(module == root or module.startswith(f"{root}.") for root in self.allow):
            allowed = ", ".join(repr(root) for root in self.allow)
            reason = (
                f"refusing to import {name!r}: {module!r} is not under an allowed package "
                f"root ({allowed}); if you trust it, allow its package with allow=[...], "
                "the command line's --allow, or allow = [...] under [tool.cinnamon] in "
                "pyproject.toml"
            )
            raise place.fail(reason, at)
        try:
            value: Any = importlib.import_module(module)
        except Exception as error:
            reason = f"cannot import {module!r} for {name!r}: {type(error).__name__}: {error}"
            raise place.fail(reason, at) from error
        for part in qualname.split("."):
            try:
                value = getattr(value, part)
            except AttributeError:
                reason = f"cannot find {name!r}: {_shown(value)} has no attribute {part!r}"
                raise place.fail(reason, at) from None
            if isinstance(value, types.ModuleType):
                # An allowed module's attributes include the modules it imported
                # (os, importlib, ...): stepping through them would escape the roots.
                reason = f"refusing {name!r}: {part!r} is a module, not a class"
                raise place.fail(reason, at)
        home = getattr(value, "__module__", None)
        if not isinstance(value, type) or not isinstance(home, str):
            reason = f"refusing {name!r}: a file names classes, not {_shown(value)}"
            raise place.fail(reason, at)
        if not any(home == root or home.startswith(f"{root}.") for root in self.allow):
            reason = (
                f"refusing {name!r}: it is {home}.{value.__qualname__}, re-exported from an "
                "allowed package but defined outside it; allow its own package to use it"
            )
            raise place.fail(reason, at)
        return value

    def _alias(self, name: str, place: Place, at: Parts) -> Any:
        if name in self.aliases:
            return self.aliases[name]
        known = self._registered()
        candidates = known.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            shown = ", ".join(sorted(repr(_path_or_repr(c)) for c in candidates))
            reason = f"{name!r} is ambiguous: it could be {shown}; use an import path"
            raise place.fail(reason, at)
        names = sorted({*self.aliases, *known})
        reason = f"unknown class name {name!r}"
        close = difflib.get_close_matches(name, names, n=3)
        if close:
            reason += "; did you mean " + " or ".join(map(repr, close)) + "?"
        if "." in name:
            reason += " (an import path is written 'package.module:QualName')"
        else:
            reason += (
                " (a name is an alias, or the class name of a registered configuration or "
                "component; otherwise use an import path 'package.module:QualName')"
            )
        raise place.fail(reason, at)

    def _registered(self) -> dict[str, list[Any]]:
        if self.registered is None:
            found: dict[str, list[Any]] = {}
            registrations = [] if self.registry is None else map(self.registry.get, self.registry)
            for registration in registrations:
                for cls in (type(registration.config), registration.component):
                    name = getattr(cls, "__name__", None)
                    if cls is not None and isinstance(name, str):
                        same = found.setdefault(name, [])
                        if all(other is not cls for other in same):
                            same.append(cls)
            self.registered = found
        return self.registered


# -- helpers ---------------------------------------------------------------------------


def _declares_variants(raw: Any) -> bool:
    return isinstance(raw, dict) and "@variants" in raw


def _declares_search(raw: Any) -> bool:
    return isinstance(raw, dict) and "@search" in raw


def _first_value(distribution: Any) -> Any:
    """A required field's value when a tree is not tuned: the first choice, or the low bound."""
    return distribution.choices[0] if distribution.kind == "choice" else distribution.low


def _is_directive(key: str) -> bool:
    return key.startswith("@") and not key.startswith("@@")


def _parts(path: TreePath) -> Parts:
    parts: list[str | int] = []
    node: TreePath | None = path
    while node is not None:
        parts.append(node.part)
        node = node.parent
    return tuple(reversed(parts))


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r:.60}"
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r:.60}"


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__!r}"
    return repr(_path_or_repr(value))


def _path_or_repr(value: Any) -> str:
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}:{qualname}"
    return repr(value)


def describe_input(value: Any) -> str:
    if isinstance(value, Configuration):
        return f"a {type(value).__name__}"
    if isinstance(value, RegistrationKey):
        return f"a reference to {str(value)!r}"
    return f"{value!r:.80}"


def _unknown(what: str, name: Any, known: Iterable[str]) -> str:
    reason = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(str(name), list(known), n=3)
    if close:
        return reason + "; did you mean " + " or ".join(map(repr, close)) + "?"
    return reason + f" (expected one of {', '.join(known)})"


def flatten(error: ConfigurationError) -> list[tuple[tuple[Any, ...], Any]]:
    """Each problem under a configuration error as ``(pydantic location, details)``.

    Configurations validate in their own ``__init__``, so a nested one that fails shows
    up in its parent's error as a single "value error"; its own problems are brought up
    here, their locations joined to the parent's. Noise from the reference branch of
    ``Ref[...]`` unions is left out.
    """
    found: list[tuple[tuple[Any, ...], Any]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), iter(_details(error)))]
    while stack:
        prefix, details = stack[-1]
        detail = next(details, None)
        if detail is None:
            stack.pop()
            continue
        loc = (*prefix, *detail["loc"])
        inner = (detail.get("ctx") or {}).get("error")
        if isinstance(inner, ConfigurationError) and _details(inner):
            stack.append((loc, iter(_details(inner))))
        else:
            found.append((loc, detail))
    return found


def _details(error: ConfigurationError) -> list[Any]:
    cause = error.__cause__ or error.__context__
    if not isinstance(cause, ValidationError):
        return []
    details = cause.errors(include_url=False)
    return [detail for detail in details if not _other_branch(detail["loc"], details)]


def _other_branch(loc: tuple[Any, ...], details: list[Any]) -> bool:
    """Whether an error is only the reference branch of a union that failed elsewhere.

    For ``Ref[MLPConfig]`` given a table, pydantic reports both "not a valid MLPConfig"
    and "not a RegistrationKey"; only the first says anything.
    """
    for index, part in enumerate(loc):
        if isinstance(part, str) and "_validate_key" in part:
            prefix = loc[:index]
            return any(other["loc"][:index] == prefix and other["loc"] != loc for other in details)
    return False


def clean_location(loc: tuple[Any, ...], values: Any, *, keep_last: bool) -> Parts:
    """Drop the union members pydantic adds to a location, following the input's shape.

    Every part names something in the input except union members (``'MLPConfig'``,
    ``'function-plain[...]'``) and, for a missing field, the last part. Literal keys
    that start with '@' are written '@@' in files, so they go back to that.
    """
    parts: list[str | int] = []
    current = values
    for position, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, (list, tuple)) and isinstance(part, int):
            current = current[part] if 0 <= part < len(current) else None
        elif keep_last and position == len(loc) - 1:
            pass
        else:
            continue
        parts.append(f"@{part}" if isinstance(part, str) and part.startswith("@") else part)
    return tuple(parts)


def _unknown_field(cls: type[Configuration], loc: tuple[Any, ...]) -> str:
    name = str(loc[-1])
    classes = _classes_at(cls, loc[:-1])
    fields = sorted({field for owner in classes for field in owner.model_fields})
    owner = f" of {classes[0].__name__}" if len(classes) == 1 else ""
    reason = f"unknown field {name!r}{owner}"
    close = difflib.get_close_matches(name, fields, n=3)
    if close:
        return reason + "; did you mean " + " or ".join(map(repr, close)) + "?"
    if fields:
        return reason + f" (its fields: {', '.join(fields)})"
    return reason


def _classes_at(cls: type[Configuration], loc: tuple[Any, ...]) -> list[type[Configuration]]:
    """The configuration classes that may stand at ``loc`` below ``cls``."""
    current = [cls]
    for part in loc:
        if not isinstance(part, str):
            continue
        named = [owner for owner in current if owner.__name__ == part]
        if named:
            current = named
            continue
        annotations = [
            owner.model_fields[part].annotation for owner in current if part in owner.model_fields
        ]
        if annotations:
            found: list[type[Configuration]] = []
            for annotation in annotations:
                found.extend(c for c in configurations_in(annotation) if c not in found)
            current = found
    return current


def configurations_in(annotation: Any) -> list[type[Configuration]]:
    found: list[type[Configuration]] = []
    stack = [annotation]
    seen = 0
    while stack and seen < 1000:  # noqa: PLR2004 - annotations are small; stop if odd
        seen += 1
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, Configuration):
            found.append(item)
        elif get_origin(item) is not None or isinstance(item, types.UnionType):
            stack.extend(get_args(item))
        elif item is typing.Any:
            continue
    return found
