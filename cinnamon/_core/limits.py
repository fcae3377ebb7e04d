"""Limits on what cinnamon accepts: how deep values nest and how large a file may be.

Several walkers of values are recursive (the parsers of TOML, JSON and YAML, the YAML
and JSON writers, ``copy.deepcopy``, pydantic), so a value nested thousands of
containers deep would make them raise ``RecursionError``. Rather than guard each of
them, values are measured once where they enter cinnamon (a file, an override, a saved
state, a sweep's results file, a configuration made in Python when it is resolved) and
refused when they nest deeper than :data:`MAX_DEPTH`. The measuring walk itself keeps
its own stack, so any depth is measured safely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon.errors import ConfigurationError, UsageError

__all__ = [
    "FILE_BYTES_VARIABLE",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_FILE_NESTING",
    "Parts",
    "depth_error",
    "max_file_bytes",
    "too_deep",
]

#: How many containers (lists, tuples, dicts, sets) a value may nest inside one another.
#: A configuration inside a value starts a new count: trees of configurations may be as
#: deep as you like. In a file, every table counts, the file's own top table included.
MAX_DEPTH = 200

#: How deep the text of a declarative file may nest: the parts of a dotted key, and
#: brackets inside brackets. It is larger than :data:`MAX_DEPTH` because each inline
#: configuration (a table with ``"@config"``) starts a new count of :data:`MAX_DEPTH`
#: levels, and a tree written as a file nests a table for each of its levels.
MAX_FILE_NESTING = 1_000

#: The largest declarative file cinnamon reads, in bytes, unless the environment
#: variable :data:`FILE_BYTES_VARIABLE` says otherwise.
MAX_FILE_BYTES = 10_000_000

#: The environment variable that raises (or lowers) :data:`MAX_FILE_BYTES`.
FILE_BYTES_VARIABLE = "CINNAMON_MAX_FILE_BYTES"

Parts = tuple[Any, ...]

# Values that hold nothing: skipped without a look at what they are.
_LEAVES = frozenset({str, int, float, bool, type(None), bytes})


def max_file_bytes() -> int:
    """The size limit for files: :data:`MAX_FILE_BYTES`, or the environment's setting.

    Raises:
        UsageError: the environment variable is set to something that is not a
            positive whole number.
    """
    text = os.environ.get(FILE_BYTES_VARIABLE)
    if text is None or not text.strip():
        return MAX_FILE_BYTES
    try:
        limit = int(text.replace("_", ""))
    except ValueError:
        limit = 0
    if limit < 1:
        msg = f"{FILE_BYTES_VARIABLE} must be a positive number of bytes, not {text!r}"
        raise UsageError(msg)
    return limit


def too_deep(  # noqa: C901, PLR0912 - one loop
    value: Any,
    limit: int = MAX_DEPTH,
    *,
    restart: str | None = None,
    entries: Mapping[RegistrationKey, Any] | None = None,
) -> Parts | None:
    """Return the path to a container nested more than ``limit`` deep, or ``None``.

    The path holds dict keys, list indices and field names from ``value`` down to the
    first container found below the limit. A configuration starts a new count, and so
    does a dict holding the key ``restart`` (``"@config"`` for the data of a file). A
    container met twice (shared, or holding itself) is looked at again only when it is
    met deeper than before, so shared values cost little and a container that holds
    itself is found too deep. With ``entries`` (registrations by key), references are
    followed into the configurations they name.
    """
    # (item, depth of the container holding it, link to the path: (part, parent link))
    stack: list[tuple[Any, int, Any]] = [(value, 0, None)]
    deepest: dict[int, int] = {}  # id of a container -> the deepest it was met at
    nodes: set[int] = set()
    while stack:
        item, depth, link = stack.pop()
        cls = type(item)
        if cls in _LEAVES:
            continue
        if entries is not None and isinstance(item, RegistrationKey):
            entry = entries.get(item)  # a shared reference names the same entry
            if entry is not None:
                stack.append((entry.config, 0, link))
            continue
        if isinstance(item, Configuration):
            if id(item) in nodes:
                continue
            nodes.add(id(item))
            children: Any = item.__dict__.items()
            depth = 0  # a configuration starts a new count
        else:
            if isinstance(item, dict):
                children = item.items()
                if restart is not None and restart in item:
                    depth = 0
            elif isinstance(item, (list, tuple)):
                children = enumerate(item)
            elif isinstance(item, (set, frozenset)):
                children = ((f"<item {index} of a set>", inner) for index, inner in enumerate(item))
            else:
                continue
            depth += 1
            if depth > limit:
                return _parts(link)
            if deepest.get(id(item), -1) >= depth:
                continue
            deepest[id(item)] = depth
        for part, inner in children:
            if type(inner) not in _LEAVES:
                stack.append((inner, depth, (part, link)))
    return None


def _parts(link: Any) -> Parts:
    parts = []
    while link is not None:
        part, link = link
        parts.append(part)
    return tuple(reversed(parts))


def depth_error(root: str, parts: Parts | None) -> ConfigurationError:
    """The error for a value found too deep at ``parts`` below ``root``.

    ``parts`` is ``None`` when a walk ran out of stack although no value nests deeper
    than :data:`MAX_DEPTH`: then the call came from a stack that was already deep.
    """
    if parts is None:
        message = (
            "the tree is too deep to walk from this call, which came from a stack that "
            "was already deep; call from less deep"
        )
        return ConfigurationError([(root, message)])
    path = root
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            path += f"[{part}]"
        else:
            text = str(part)
            path += f".{text}" if text.isidentifier() else f"[{text!r}]"
    message = (
        f"values nested too deeply: more than {MAX_DEPTH} lists, tuples, dicts or sets "
        "inside one another (between two configurations)"
    )
    return ConfigurationError([(path, message)])
