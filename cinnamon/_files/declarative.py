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

import importlib
import os
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, final

from cinnamon._core.configuration import Configuration, check_variant, declare_variants
from cinnamon._core.explain import (
    clean_location,
    describe_input,
    describe_kind,
    describe_object,
    flatten,
    import_path_or_repr,
    unknown_field,
    unknown_name,
)
from cinnamon._core.key import RegistrationKey
from cinnamon._core.registry import BaseRegistry, Registration, make_registration
from cinnamon._core.space import check_search, declare_search, distribution_from
from cinnamon._core.tree import DEEP, TreePath, Walk, join, run
from cinnamon._files.env import interpolate
from cinnamon._files.formats import (
    FORMATS,
    Document,
    Format,
    Parts,
    file_identity,
    read_text,
)
from cinnamon.errors import (
    ConfigurationError,
    DeclarationError,
    InvalidKeyError,
    InvalidValueError,
    UsageError,
    close_matches,
    did_you_mean,
)

__all__ = [
    "DIRECTIVES",
    "Loaded",
    "Place",
    "check_allow",
    "class_name",
    "decode",
    "load",
    "load_files",
    "loads",
]

#: The keys with a meaning of their own inside a field value.
DIRECTIVES = ("@ref", "@shared", "@config", "@component", "@variants", "@search")

_TOP_KEYS = ("$schema", "extends", "registrations")
_ENTRY_KEYS = ("config", "component", "description", "fields")


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
    text = read_text(Path(name), name, None, None)
    loader = _Loader(registry, allow, aliases)
    return loader.register([Document(text, fmt, name, Path(name))], replace=replace)


@final
class Loaded:
    """What :func:`load_files` registered, and where each registration is written.

    Attributes:
        keys: the keys added, in the order the files declare them (bases first).
    """

    __slots__ = ("_entries", "keys")

    def __init__(self, keys: list[RegistrationKey], entries: dict[RegistrationKey, _Entry]) -> None:
        self.keys = keys
        self._entries = entries

    def where(self, key: RegistrationKey, parts: Parts = ()) -> tuple[str, int | None] | None:
        """The file and line that write ``parts`` of ``key``'s fields (``None``: no file)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        document, full = entry.locate(("fields", *parts) if parts else ())
        return document.name, document.line_of(full)


def load_files(
    registry: BaseRegistry,
    files: Iterable[tuple[str | os.PathLike[str], bool]],
    *,
    allow: Iterable[str] = (),
    aliases: Mapping[str, Any] | None = None,
) -> Loaded:
    """Register several files as one load, each file read once however it is reached.

    ``files`` pairs each path with whether it is a *layer*. A file reached again, by
    its own name or through another file's ``extends``, is not read again. An entry of
    a key that an earlier file already declares is merged into it (as ``extends``
    merges) when its file extends the earlier one or is a layer; otherwise two
    different declarations of one key are an error naming both files and lines.
    Either everything is added or, if anything is wrong, nothing is.
    """
    loader = _Loader(registry, allow, aliases)
    roots: list[Document] = []
    layers: set[int] = set()
    seen: set[Path] = set()
    for path, layer in files:
        name = os.fspath(path)
        fmt = FORMATS.get(Path(name).suffix.lower())
        if fmt is None:
            suffix = Path(name).suffix.lower()
            reason = f"unknown file type {suffix!r}; use one of {', '.join(FORMATS)}"
            raise DeclarationError(reason, file=name)
        identity = file_identity(Path(name), name)
        if identity in seen:
            continue
        seen.add(identity)
        if layer:
            layers.add(len(roots))
        roots.append(Document(read_text(Path(name), name, None, None), fmt, name, Path(name)))
    made = loader.read(roots, layers)
    keys = loader.add(made, replace=False)
    return Loaded(keys, {entry.key: entry for entry, _ in made})


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
    document = Document(text, fmt, name, None if source is None else Path(source))
    return loader.register([document], replace=replace)


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
    if isinstance(raw, str):
        return _interpolated(raw, place, (root,))
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


def _is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


# -- loading ---------------------------------------------------------------------------


@final
class _Entry:
    """One registration merged from every file that declares it, bases first."""

    __slots__ = ("data", "key", "sources")

    def __init__(self, key: RegistrationKey, document: Document, raw_key: str, data: Any) -> None:
        self.key = key
        self.sources = [(document, raw_key)]
        self.data = data

    def fail(self, reason: str, parts: Parts) -> DeclarationError:
        """An error at ``parts`` (inside the entry), placed in the file that wrote them."""
        document, full = self.locate(parts)
        return document.fail(reason, full)

    def locate(self, parts: Parts) -> tuple[Document, Parts]:
        best: tuple[int, Document, Parts] | None = None
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

    __slots__ = (
        "aliases",
        "allow",
        "ancestors",
        "configs",
        "keys",
        "names",
        "registered",
        "registry",
    )

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
        self.configs: dict[str, type[Configuration]] = {}  # those that name configurations
        self.keys: dict[str, RegistrationKey] = {}  # key strings parsed so far (keys are frozen)
        self.registered: dict[str, list[Any]] | None = None
        # Each file's bases, transitively: whether one file's entry may merge into another's.
        self.ancestors: dict[Path | None, set[Path]] = {}

    def register(self, roots: list[Document], *, replace: bool) -> list[RegistrationKey]:
        return self.add(self.read(roots), replace=replace)

    def add(
        self, made: list[tuple[_Entry, Registration]], *, replace: bool
    ) -> list[RegistrationKey]:
        assert self.registry is not None  # noqa: S101 - only load() and loads() register
        if not replace and len(self.registry):  # an empty registry holds no key twice
            for entry, registration in made:
                if registration.key in self.registry:
                    reason = (
                        f"{str(registration.key)!r} is already registered; pass replace=True "
                        "to overwrite it"
                    )
                    raise entry.fail(reason, ())
        return self.registry.add_registrations([pair[1] for pair in made], replace=replace)

    def read(
        self, roots: list[Document], layers: set[int] | None = None
    ) -> list[tuple[_Entry, Registration]]:
        merged: dict[RegistrationKey, _Entry] = {}
        origins: dict[RegistrationKey, list[int]] = {}  # the root each source came through
        for document, origin in self._chain(roots):
            seen: dict[RegistrationKey, str] = {}
            for raw_key, data in self._shape(document).items():
                at = ("registrations", raw_key)
                try:
                    key = self.keys[raw_key] = RegistrationKey.parse(raw_key)
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
                    origins[key] = [origin]
                else:
                    if origin not in (layers or ()):
                        self._check_clash(entry, origins[key], document, origin, raw_key, data)
                    entry.data = _merge(entry.data, data)
                    entry.sources.append((document, raw_key))
                    origins[key].append(origin)
        return [(entry, self._registration(entry)) for entry in merged.values()]

    def _check_clash(  # noqa: PLR0917 - one private call site, named by position
        self,
        entry: _Entry,
        origins: list[int],
        document: Document,
        origin: int,
        raw_key: str,
        data: Any,
    ) -> None:
        """Refuse an entry that redeclares a key another root's file declares differently."""
        bases = self.ancestors.get(document.identity, set())
        for (earlier, earlier_key), earlier_origin in zip(entry.sources, origins, strict=True):
            if earlier_origin == origin or earlier.identity in bases:
                continue
            if earlier.data["registrations"][earlier_key] == data:
                continue  # the same declaration twice says nothing new
            line = earlier.line_of(("registrations", earlier_key))
            reason = (
                f"{str(entry.key)!r} is declared differently in {earlier.name}"
                f"{'' if line is None else f' (line {line})'} too, and neither file extends "
                "the other; keep one, make this file extend the other, or load it as a "
                "layer over it (the command line's --layer)"
            )
            raise document.fail(reason, ("registrations", raw_key))

    # -- files and their shape --

    def _chain(self, roots: list[Document]) -> list[tuple[Document, int]]:
        """The files to merge, each once, every base before the files extending it.

        Each file comes with the index of the root it was first reached from.
        """
        order: list[tuple[Document, int]] = []
        done: set[Path] = set()
        for origin, root in enumerate(roots):
            if root.identity is not None and root.identity in done:
                continue
            self._walk(root, origin, order, done)
        return order

    def _walk(
        self, root: Document, origin: int, order: list[tuple[Document, int]], done: set[Path]
    ) -> None:
        active: list[Document] = [root]
        stack = [(root, iter(self._extends(root)), set[Path]())]
        while stack:
            document, bases, reached = stack[-1]
            step = next(bases, None)
            if step is None:
                stack.pop()
                active.pop()
                order.append((document, origin))
                every = set(reached)
                for known in reached:
                    every |= self.ancestors.get(known, set())
                self.ancestors[document.identity] = every
                if document.identity is not None:
                    done.add(document.identity)
                continue
            relative, at = step
            path = document.folder / relative
            name = os.path.normpath(path)
            try:
                identity = file_identity(path, name)
            except DeclarationError as error:
                raise document.fail(error.reason, at) from None
            if any(other.identity == identity for other in active):
                start = next(i for i, d in enumerate(active) if d.identity == identity)
                cycle = " -> ".join(repr(d.name) for d in [*active[start:]]) + f" -> {name!r}"
                raise document.fail(f"extends cycle: {cycle}", at)
            reached.add(identity)
            if identity in done:
                continue
            suffix = path.suffix.lower()
            fmt = FORMATS.get(suffix)
            if fmt is None:
                reason = f"cannot extend {name!r}: unknown file type {suffix!r}"
                raise document.fail(reason, at)
            base = Document(read_text(path, name, document, at), fmt, name, path, by=document)
            active.append(base)
            stack.append((base, iter(self._extends(base)), set()))

    def _extends(self, document: Document) -> list[tuple[str, Parts]]:
        data = self._top(document)
        value = data.get("extends", [])
        if isinstance(value, str):
            return [(value, ("extends",))]
        if not isinstance(value, list):
            reason = f"extends must be a file name or a list of them, not {describe_kind(value)}"
            raise document.fail(reason, ("extends",))
        for index, item in enumerate(value):
            if not isinstance(item, str):
                reason = f"extends lists file names, not {describe_kind(item)}"
                raise document.fail(reason, ("extends", index))
        return [(item, ("extends", index)) for index, item in enumerate(value)]

    def _top(self, document: Document) -> dict[str, Any]:
        data = document.data
        if data is None:  # an empty YAML file
            document.data = data = {}
        if not isinstance(data, dict):
            reason = f"a declarative file holds a table at the top, not {describe_kind(data)}"
            raise document.fail(reason, ())
        for key in data:
            if key not in _TOP_KEYS:
                raise document.fail(unknown_name("key", key, _TOP_KEYS), (str(key),))
        return data

    def _shape(self, document: Document) -> dict[str, Any]:
        registrations = self._top(document).get("registrations", {})
        if not isinstance(registrations, dict):
            reason = f"registrations must be a table of entries, not {describe_kind(registrations)}"
            raise document.fail(reason, ("registrations",))
        for raw_key, entry in registrations.items():
            at: Parts = ("registrations", str(raw_key))
            if not isinstance(raw_key, str):
                raise document.fail(f"a key must be a string, not {describe_kind(raw_key)}", at)
            if not isinstance(entry, dict):
                found = describe_kind(entry)
                reason = f"an entry must be a table (with config, fields, ...), not {found}"
                raise document.fail(reason, at)
            for name, value in entry.items():
                if name not in _ENTRY_KEYS:
                    raise document.fail(
                        unknown_name("entry key", name, _ENTRY_KEYS), (*at, str(name))
                    )
                wanted = dict if name == "fields" else str
                if not isinstance(value, wanted):
                    reason = f"{name} must be a {'table' if wanted is dict else 'string'}"
                    raise document.fail(f"{reason}, not {describe_kind(value)}", (*at, name))
        return registrations

    # -- entries and values --

    def _registration(self, entry: _Entry) -> Registration:
        try:
            return self._quick(entry)
        except Exception:  # noqa: BLE001 - the careful reading below says what is wrong
            return self._careful(entry)

    def _quick(self, entry: _Entry) -> Registration:
        """Read an entry written in the common forms, without tracking paths.

        Loading spends most of its time here, so this reads plain values, lists, tables,
        ``@config`` and ``@ref`` by recursion and keeps no path; anything else, and every
        problem, raises, and :meth:`_careful` reads the entry again to say what and where.
        """
        data = entry.data
        cls = self.configs.get(data["config"]) or self._configuration(data["config"])
        component = None
        if "component" in data:
            component = self._class(data["component"], "component", _NOWHERE, ())
        values = {}
        quick = self._quick_value
        for name, raw in data.get("fields", {}).items():
            if name[:1] == "@":  # a directive or an escaped name: read carefully
                raise _Careful
            if isinstance(raw, (dict, list)):
                values[name] = quick(raw, 0)
            elif type(raw) is str and "$" in raw:  # ${env:...} or $$: interpolated carefully
                raise _Careful
            else:
                values[name] = raw
        return make_registration(cls(**values), entry.key, component, data.get("description"))

    def _quick_value(self, raw: Any, depth: int) -> Any:
        if depth > DEEP:
            raise _Careful
        quick = self._quick_value
        kind = type(raw)
        if kind is list:
            return self._quick_list(raw, depth)
        if kind is not dict:  # a subclass of dict or list
            raise _Careful
        if "@ref" in raw:
            return self._quick_reference(raw)
        values = {}
        cls = None
        for key, item in raw.items():
            if key[:1] == "@":
                if key != "@config":
                    raise _Careful
                cls = self.configs.get(item) or self._configuration(item)
            elif isinstance(item, (dict, list)):
                values[key] = quick(item, depth + 1)
            elif type(item) is str and "$" in item:  # ${env:...} or $$: interpolated carefully
                raise _Careful
            else:
                values[key] = item
        return values if cls is None else cls(**values)

    def _quick_list(self, raw: list[Any], depth: int) -> list[Any]:
        quick = self._quick_value
        items = [quick(item, depth + 1) if isinstance(item, (dict, list)) else item for item in raw]
        if any(type(item) is str and "$" in item for item in items):
            raise _Careful  # ${env:...} or $$: interpolated carefully
        return items

    def _quick_reference(self, raw: dict[str, Any]) -> RegistrationKey:
        text = raw["@ref"]
        if len(raw) == 1 and type(text) is str:  # the usual reference: parsed once
            key = self.keys.get(text)
            if key is None:
                key = self.keys[text] = RegistrationKey.parse(text)
            return key
        found: RegistrationKey = self._reference(raw, _NOWHERE, TreePath(None, ""))
        return found

    def _configuration(self, name: Any) -> type[Configuration]:
        found: type[Configuration] = self._class(name, "configuration", _NOWHERE, ())
        self.configs[name] = found
        return found

    def _careful(self, entry: _Entry) -> Registration:
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
            reason = f"@variants holds a list of the field's values, not {describe_kind(items)}"
            raise entry.fail(reason, (*at, "@variants"))
        if name not in cls.model_fields:
            raise entry.fail(unknown_field(cls, (name,)), at)
        path = join(join(TreePath(None, "fields"), name), "@variants")
        found = []
        for index, item in enumerate(items):
            value = item
            if isinstance(item, (dict, list)):
                value = run(self.value(item, entry, join(path, index)))
            elif isinstance(item, str):
                value = _interpolated(item, entry, (*at, "@variants", index))
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
            raise entry.fail(unknown_field(cls, (name,)), at[:2])
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
            elif isinstance(raw_value, str):
                values[name] = _interpolated(raw_value, place, _parts(join(path, key)))
            else:
                values[name] = raw_value
        return values

    def value(self, raw: Any, place: Place, path: TreePath) -> Walk:
        if isinstance(raw, list):
            items = []
            for index, item in enumerate(raw):
                if isinstance(item, (dict, list)):
                    items.append((yield self.value(item, place, join(path, index))))
                elif isinstance(item, str):
                    items.append(_interpolated(item, place, _parts(join(path, index))))
                else:
                    items.append(item)
            return items
        if any(isinstance(key, str) and _is_directive(key) for key in raw):
            return (yield from self._directive(raw, place, path))
        return (yield from self._table(raw, place, path))

    def _directive(self, raw: dict[str, Any], place: Place, path: TreePath) -> Walk:
        for key in raw:
            if isinstance(key, str) and _is_directive(key) and key not in DIRECTIVES:
                reason = unknown_name("directive", key, DIRECTIVES)
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
                    f"({describe_object(cls.__component__)}), not {describe_object(component)}; "
                    "to build another component, register it under a key and reference that"
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
            reason = f"@ref holds a key string like 'demo:mlp', not {describe_kind(text)}"
            raise place.fail(reason, _parts(join(path, "@ref")))
        if not isinstance(shared, bool):
            reason = f"@shared is true or false, not {describe_kind(shared)}"
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
                message = unknown_field(cls, loc)
            elif kind == "missing":
                message = "missing: this field has no default, so the file must set it"
            else:
                message = f"{detail['msg']} (got {describe_input(detail['input'])})"
            problems.append(((*at, *parts), message))
        if not problems:  # pragma: no cover - every branch was another union member's
            return place.fail(str(error), at)
        first = place.fail(problems[0][1], problems[0][0])
        if len(problems) == 1:
            return InvalidValueError.from_declaration(first)
        lines = [first.reason]
        for parts, message in problems[1:]:
            other = place.fail(message, parts)
            lines.append(f"  and {other}")
        reason = "\n".join(lines)
        return InvalidValueError(reason, file=first.file, line=first.line, path=first.path)

    # -- class names --

    def _class(self, name: Any, what: str, place: Place, at: Parts) -> Any:
        if not isinstance(name, str):
            raise place.fail(f"a class name must be a string, not {describe_kind(name)}", at)
        found = self.names.get(name)
        if found is None:
            found = self._import(name, place, at) if ":" in name else self._alias(name, place, at)
            self.names[name] = found
        if what == "configuration":
            if not (isinstance(found, type) and issubclass(found, Configuration)):
                reason = f"{name!r} is {describe_object(found)}, not a Configuration class"
                raise place.fail(reason, at)
        elif not callable(found):
            raise place.fail(
                f"{name!r} is {describe_object(found)}, which cannot build anything", at
            )
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
                reason = f"cannot find {name!r}: {describe_object(value)} has no attribute {part!r}"
                raise place.fail(reason, at) from None
            if isinstance(value, types.ModuleType):
                # An allowed module's attributes include the modules it imported
                # (os, importlib, ...): stepping through them would escape the roots.
                reason = f"refusing {name!r}: {part!r} is a module, not a class"
                raise place.fail(reason, at)
        home = getattr(value, "__module__", None)
        if not isinstance(value, type) or not isinstance(home, str):
            reason = f"refusing {name!r}: a file names classes, not {describe_object(value)}"
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
            shown = ", ".join(sorted(repr(import_path_or_repr(c)) for c in candidates))
            reason = f"{name!r} is ambiguous: it could be {shown}; use an import path"
            raise place.fail(reason, at)
        names = sorted({*self.aliases, *known})
        reason = f"unknown class name {name!r}"
        reason += did_you_mean(close_matches(name, names))
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


def _interpolated(text: str, place: Place, parts: Parts) -> str:
    try:
        return interpolate(text)
    except ValueError as error:
        raise place.fail(str(error), parts) from None


class _Careful(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the quick reading of an entry: read this one carefully."""


@final
class _Nowhere:
    """The place of the quick reading, which never reports an error itself."""

    def fail(self, reason: str, parts: Parts) -> DeclarationError:  # noqa: ARG002 - Place's
        raise _Careful


_NOWHERE = _Nowhere()


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
