"""Fingerprints: a stable hash of a configuration tree."""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.resolve import registration_of
from cinnamon._core.tree import TreePath, join
from cinnamon.errors import UsageError

__all__ = ["fingerprint"]

# Integers up to this many bits are written in decimal (about 3,000 digits, well inside
# Python's 4,300-digit limit for str()); longer ones in hex, which has no limit.
_DECIMAL_BITS = 10_000
# Bump when the encoding changes, so old and new fingerprints never collide silently.
_VERSION = b"cinnamon-fingerprint-1\n"


def fingerprint(config: Configuration) -> str:
    """Return a stable hash (64 hex digits) of a configuration tree.

    The same tree gives the same fingerprint in any process, on any machine and
    whatever order its fields were declared in; a change of any value anywhere in the
    tree, of a node's configuration class or of the component a node builds, changes
    it. Pass a resolved tree (``registry.resolve(key)``) to cover everything a build
    depends on; an unresolved tree hashes its references by key.

    Raises:
        UsageError: a value has no stable form (an arbitrary object); the message
            names its dotted path.
    """
    if not isinstance(config, Configuration):
        msg = f"fingerprint() takes a Configuration, not {type(config).__name__}"
        raise UsageError(msg)
    digest = hashlib.sha256(_VERSION)
    for token in _tokens(config):
        digest.update(token.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _tokens(root: Configuration) -> Iterator[str]:
    """Encode the tree as a flat stream of tokens, depth first, without recursion."""
    seen: dict[int, int] = {}  # id(node) -> its number, so shared nodes hash as shared
    stack: list[tuple[Any, TreePath] | str] = [(root, TreePath(None, type(root).__name__))]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
            continue
        value, path = item
        if isinstance(value, Configuration):
            number = seen.get(id(value))
            if number is not None:
                yield f"same:{number}"
                continue
            seen[id(value)] = len(seen)
            yield f"config:{_name(type(value))}"
            entry = registration_of(value)
            component = entry.component if entry is not None else type(value).__component__
            yield f"component:{_name(component) if component is not None else ''}"
            fields = sorted(type(value).model_fields)
            yield f"fields:{len(fields)}"
            for name in reversed(fields):
                stack.append((value.__dict__[name], join(path, name)))
                stack.append(f"field:{name}")
        elif isinstance(value, (list, tuple)):
            yield f"{type(value).__name__}:{len(value)}"
            stack.extend(
                (item, join(path, index)) for index, item in reversed(list(enumerate(value)))
            )
        elif isinstance(value, dict):
            keys = sorted(value, key=_scalar)
            yield f"dict:{len(keys)}"
            for key in reversed(keys):
                stack.append((value[key], join(path, str(key))))
                stack.append(f"key:{_scalar(key)}")
        else:
            yield _leaf(value, path)


def _leaf(value: Any, path: TreePath) -> str:
    if isinstance(value, RegistrationKey):
        return f"ref:{value}:{int(value.shared)}"
    if isinstance(value, BaseModel):  # a plain pydantic value: its JSON form is stable
        return f"model:{_name(type(value))}:{value.model_dump_json()}"
    if isinstance(value, enum.Enum):
        return f"enum:{_name(type(value))}:{_scalar(value.value)}"
    if isinstance(value, PurePath):
        return f"path:{value.as_posix()}"
    if isinstance(value, (set, frozenset)):
        return f"set:{json.dumps(sorted(_scalar(item) for item in value))}"
    try:
        return _scalar(value)
    except UsageError:
        msg = (
            f"{path}: cannot fingerprint a {type(value).__name__}; use values with a "
            "stable form (numbers, strings, lists, dicts, configurations, enums, paths)"
        )
        raise UsageError(msg) from None


def _scalar(value: Any) -> str:
    """The typed, canonical text of a plain value (True, 1 and 1.0 stay apart)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"bool:{int(value)}"
    if isinstance(value, int):  # past what str() may write, hex (which has no limit)
        return f"int:{value:#x}" if value.bit_length() > _DECIMAL_BITS else f"int:{value}"
    if isinstance(value, float):
        return f"float:{'nan' if math.isnan(value) else value.hex()}"
    if isinstance(value, str):
        return f"str:{json.dumps(value)}"
    if isinstance(value, bytes):
        return f"bytes:{value.hex()}"
    msg = f"no stable form for {type(value).__name__}"
    raise UsageError(msg)


def _name(thing: Any) -> str:
    return f"{getattr(thing, '__module__', '?')}:{getattr(thing, '__qualname__', repr(thing))}"
