"""save_state and load_state: a component tree's state on disk, tied to its configuration.

A saved state is a folder::

    state.json       the record: the fingerprint, and the states (or which file holds them)
    config.toml      the resolved configuration, as a declarative file (config.json if
                     the tree has values TOML cannot write)
    fingerprint.txt  the configuration's fingerprint, for people and scripts

``state.json`` is the one file that counts, and it is written last: every file is
replaced atomically, and the record names the fingerprint (and, for pickle, the file
and the hash) of the state it belongs to. A crash at any point leaves either the old
record or the new one, each consistent on its own, so a mixed set can never load.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from cinnamon._core.component import BuildInfo, Component
from cinnamon._files.atomic import atomic_write, sync_folder
from cinnamon._files.dump import dump
from cinnamon._runs.fingerprint import fingerprint
from cinnamon.errors import StateError, StateMismatchError, UsageError, add_note

__all__ = ["load_state", "save_state"]

STATE_FILE = "state.json"
FINGERPRINT_FILE = "fingerprint.txt"
_MARK = "cinnamon-state"
_VERSION = 1
_PICKLE_FILE = re.compile(r"state-[0-9a-f]{16}\.pkl")
_CONFIG_FILE = re.compile(r"config\.(toml|json)")


def save_state(
    component: Component,
    path: str | os.PathLike[str],
    *,
    format: Literal["json", "pickle"] = "json",  # noqa: A002 - as dump(format=...)
) -> None:
    """Save the state of every component in a tree, with the configuration it came from.

    Each component of the tree (the root and everything :meth:`Component.walk`
    reaches) that defines both ``state_dict()`` and ``load_state_dict(state)``
    contributes ``state_dict()``, stored under its path below the root (``""`` for
    the root, ``model``, ``callbacks.components[1]``). A component reachable along
    several paths is saved once, under the first.

    The folder receives ``state.json`` (the record: the configuration's fingerprint
    and the states), ``config.toml`` (the resolved configuration, ``config.json`` if
    TOML cannot hold it) and ``fingerprint.txt``. Everything is encoded before any
    file is touched; each file is replaced atomically and the record last, so a crash
    leaves the previous save or this one loadable, never a mix of the two.

    Args:
        component: the root of the tree; it must have been built by a registry, which
            is how it knows its configuration.
        path: the folder to save into (made if needed; an earlier save there is
            replaced).
        format: ``"json"`` (the default: states must be plain data JSON can hold;
            tuples come back as lists and dict keys as strings) or ``"pickle"`` (any
            picklable state, stored in a separate file that :func:`load_state` only
            reads when told ``allow_pickle=True``).

    Raises:
        UsageError: the component was not built by a registry, a state cannot be
            encoded (the message names its path), or the configuration cannot be
            written as a declarative file.
    """
    if format not in ("json", "pickle"):
        msg = f"unknown format {format!r}; use 'json' or 'pickle'"
        raise UsageError(msg)
    info = _build_info(component, "save_state")
    folder = Path(path)
    states = {where: part.state_dict() for where, part in _stateful(component)}
    config_name, config_text = _config_file(info)
    record: dict[str, Any] = {
        "format": _MARK,
        "version": _VERSION,
        "fingerprint": fingerprint(info.config),
        "component": _class_name(type(component)),
        "config": config_name,
        "encoding": format,
    }
    blob: bytes | None = None
    if format == "pickle":
        try:
            blob = pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            msg = f"cannot pickle the state: {type(error).__name__}: {error}"
            raise UsageError(msg) from error
        digest = hashlib.sha256(blob).hexdigest()
        record.update(file=f"state-{digest[:16]}.pkl", sha256=digest)
    else:
        record["states"] = states
    try:
        text = json.dumps(record) + "\n"
    except (TypeError, ValueError) as error:  # find whose state it is, for the message
        _check_json(states, component)
        raise UsageError(str(error)) from error  # pragma: no cover - found above

    # Companions first, the record last: until state.json is replaced, the old record
    # (and the old pickle file it names, removed only afterwards) stays whole.
    if blob is not None:
        atomic_write(folder / record["file"], blob)
    atomic_write(folder / config_name, config_text)
    atomic_write(folder / FINGERPRINT_FILE, record["fingerprint"] + "\n")
    atomic_write(folder / STATE_FILE, text)
    _remove_stale(folder, keep={config_name, record.get("file")})


def load_state(
    component: Component, path: str | os.PathLike[str], *, allow_pickle: bool = False
) -> None:
    """Restore the states saved by :func:`save_state` into a tree built the same way.

    The state is refused unless it was saved from a configuration with the same
    fingerprint as ``component``'s. Each component is restored with
    ``load_state_dict(state)``, children before their parents.

    Args:
        component: the root of the tree, built by a registry.
        path: the folder the state was saved into.
        allow_pickle: read a state saved with ``format="pickle"``. Unpickling runs
            code named by the file, so only pass this for files you trust; without
            it, a pickled state is refused.

    Raises:
        FileNotFoundError: the folder holds no ``state.json``.
        StateMismatchError: the state was saved from another configuration; the
            message names both fingerprints.
        StateError: the record is malformed, pickled (without ``allow_pickle``), does
            not match its pickle file, or its components differ from the tree's.
        UsageError: the component was not built by a registry.
    """
    info = _build_info(component, "load_state")
    folder = Path(path)
    file = folder / STATE_FILE
    record = _read_record(file)
    current = fingerprint(info.config)
    if record["fingerprint"] != current:
        raise StateMismatchError(file=str(file), saved=record["fingerprint"], current=current)
    states = _read_states(record, folder, file, allow_pickle=allow_pickle)
    targets = _stateful(component)
    expected = [where for where, _ in targets]
    missing = [where for where in expected if where not in states]
    unexpected = [where for where in states if where not in expected]
    if missing or unexpected:
        problems = []
        if missing:
            problems.append("no state for " + ", ".join(map(_shown, missing)))
        if unexpected:
            problems.append(
                "a state for " + ", ".join(map(_shown, unexpected)) + " not in the tree"
            )
        msg = "; ".join(problems) + " (did the components' code change since it was saved?)"
        raise StateError(msg, file=str(file))
    for where, part in reversed(targets):  # children first, as they were built
        try:
            part.load_state_dict(states[where])
        except Exception as error:
            add_note(
                error,
                f"cinnamon: raised while loading the state of {_shown(where)} "
                f"({type(part).__name__}) from {file}",
            )
            raise


# -- the tree ------------------------------------------------------------------------------


def _build_info(component: object, caller: str) -> BuildInfo:
    if not isinstance(component, Component):
        msg = f"{caller}() takes a Component, not {type(component).__name__}"
        raise UsageError(msg)
    info = component.__cinnamon__
    if info is None:
        msg = (
            f"{caller}() needs a component built by a registry, which knows its "
            f"configuration; this {type(component).__name__} was made by hand"
        )
        raise UsageError(msg)
    return info


def _stateful(root: Component) -> list[tuple[str, Any]]:
    """The components with state, pre-order, each with its path below the root."""
    return [
        (where, part)
        for where, part in _paths(root)
        if callable(getattr(part, "state_dict", None))
        and callable(getattr(part, "load_state_dict", None))
    ]


def _paths(root: Component) -> Iterator[tuple[str, Component]]:
    seen: set[int] = set()
    stack: list[tuple[str, Component]] = [("", root)]
    while stack:
        where, part = stack.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        yield where, part
        children = [(f"{where}.{name}" if where else name, c) for name, c in part.children()]
        stack.extend(reversed(children))


def _shown(where: str) -> str:
    return repr(where) if where else "the root"


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


# -- encoding --------------------------------------------------------------------------------


def _check_json(states: Mapping[str, Any], root: Component) -> None:
    parts = dict(_paths(root))
    for where, state in states.items():
        try:
            json.dumps(state)
        except (TypeError, ValueError) as error:
            msg = (
                f"the state of {_shown(where)} ({type(parts[where]).__name__}) is not "
                f"plain data JSON can hold ({error}); return plain data from "
                "state_dict(), or save with format='pickle'"
            )
            raise UsageError(msg) from error


def _config_file(info: BuildInfo) -> tuple[str, str]:
    """The resolved configuration as TOML or, when TOML cannot hold it, JSON."""
    key = info.key
    try:
        return "config.toml", dump(info.config, key=key)
    except UsageError as toml_error:
        try:
            return "config.json", dump(info.config, format="json", key=key)
        except UsageError:
            msg = f"cannot write the configuration next to the state: {toml_error}"
            raise UsageError(msg) from toml_error


def _remove_stale(folder: Path, keep: set[str | None]) -> None:
    removed = False
    for entry in folder.iterdir():
        name = entry.name
        stale = _PICKLE_FILE.fullmatch(name) or _CONFIG_FILE.fullmatch(name)
        if stale and name not in keep:
            entry.unlink(missing_ok=True)
            removed = True
    if removed:
        sync_folder(folder)


# -- decoding --------------------------------------------------------------------------------


def _read_record(file: Path) -> dict[str, Any]:
    text = file.read_text(encoding="utf-8")
    try:
        record = json.loads(text)
    except ValueError as error:
        msg = f"not a saved state (invalid JSON: {error})"
        raise StateError(msg, file=str(file)) from None
    if not isinstance(record, dict) or record.get("format") != _MARK:
        msg = "not a saved state (it has no 'format': 'cinnamon-state')"
        raise StateError(msg, file=str(file))
    version = record.get("version")
    if not isinstance(version, int) or version > _VERSION:
        msg = f"saved by a newer cinnamon (version {version!r}); upgrade to load it"
        raise StateError(msg, file=str(file))
    if not isinstance(record.get("fingerprint"), str):
        msg = "the record has no fingerprint"
        raise StateError(msg, file=str(file))
    return record


def _read_states(
    record: Mapping[str, Any], folder: Path, file: Path, *, allow_pickle: bool
) -> dict[str, Any]:
    encoding = record.get("encoding")
    if encoding == "json":
        states = record.get("states")
    elif encoding == "pickle":
        name = record.get("file")
        if not isinstance(name, str) or not _PICKLE_FILE.fullmatch(name):
            msg = f"the record names no valid pickle file ({name!r})"
            raise StateError(msg, file=str(file))
        if not allow_pickle:
            msg = (
                f"the state is pickled (in {name}); unpickling runs code that the file "
                "names, so it is refused: pass allow_pickle=True if you trust the file"
            )
            raise StateError(msg, file=str(file))
        blob = (folder / name).read_bytes()
        if hashlib.sha256(blob).hexdigest() != record.get("sha256"):
            msg = f"{name} does not match the hash the record holds for it"
            raise StateError(msg, file=str(file))
        states = pickle.loads(blob)  # noqa: S301 - only with allow_pickle, hash checked
    else:
        msg = f"unknown encoding {encoding!r}; expected 'json' or 'pickle'"
        raise StateError(msg, file=str(file))
    if not isinstance(states, dict):
        msg = "the states are not a table of component paths"
        raise StateError(msg, file=str(file))
    return states
