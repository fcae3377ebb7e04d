"""Serializers: how a checkpoint turns the host's state into bytes, and back.

A serializer is anything with a ``suffix`` and ``dumps``/``loads`` (the
:class:`Serializer` protocol). Two come with cinnamon: :class:`JsonSerializer` for
plain data and :class:`NpzSerializer` for state holding numpy arrays, written as
numpy's ``.npz`` archive and read back without pickle.
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from cinnamon._core.component import Component
from cinnamon._core.configuration import Configuration
from cinnamon._files.formats import render_path
from cinnamon.errors import UsageError

__all__ = [
    "JsonSerializer",
    "JsonSerializerConfig",
    "NpzSerializer",
    "NpzSerializerConfig",
    "Serializer",
]

# The npz entry that holds everything but the arrays, as JSON.
_STRUCTURE = "__structure__"
# In that JSON, where an array was: {"@array": "<its entry in the archive>"}.
_ARRAY = "@array"
# Mapping keys JSON holds (it turns the non-strings into strings, as json.dumps does).
_KEY_TYPES = (str, int, float, bool, type(None))


@runtime_checkable
class Serializer(Protocol):
    """What :class:`~cinnamon.callbacks.Checkpoint` needs to write and read its files.

    Attributes:
        suffix: the file suffix, with its dot (``".json"``).
    """

    suffix: str

    def dumps(self, payload: Mapping[str, Any]) -> bytes:
        """Encode ``payload`` (``{"epoch": ..., "logs": ..., "state": ...}``) as bytes.

        Raises:
            UsageError: a value cannot be encoded; the message names its path.
        """
        ...

    def loads(self, data: bytes) -> dict[str, Any]:
        """Decode what :meth:`dumps` wrote."""
        ...


def _describe(value: object) -> str:
    kind = type(value)
    return f"{value!r:.60} (a {kind.__module__}.{kind.__qualname__})"


def _walk(value: Any, parts: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Yield ``(path, leaf)`` for each value below ``value`` that is not a container."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(parts, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Mapping):
            for key, child in reversed(list(item.items())):
                stack.append(((*where, _key(key, where)), child))
        elif isinstance(item, (list, tuple)):
            stack.extend(
                ((*where, index), child) for index, child in reversed(list(enumerate(item)))
            )
        else:
            yield where, item


def _key(key: object, where: tuple[str | int, ...]) -> str:
    if not isinstance(key, _KEY_TYPES):
        msg = f"cannot encode {render_path(where)}: its key {_describe(key)} is not a string"
        raise UsageError(msg)
    return str(key)


def _is_json_leaf(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float))  # bool is an int


class JsonSerializer(Component):
    """Write checkpoints as JSON: numbers, strings, booleans, ``None``, lists and dicts.

    NaN and infinities are kept (as ``NaN``/``Infinity``, which Python reads back). Any
    other value, a numpy array among them, is refused with a :class:`UsageError` naming
    its path in the payload (``state.model.weights``) before anything is written.
    """

    suffix = ".json"

    def dumps(self, payload: Mapping[str, Any]) -> bytes:
        """Encode ``payload`` as JSON, after checking every value is one JSON holds."""
        for where, leaf in _walk(payload, ()):
            if not _is_json_leaf(leaf):
                hint = "; NpzSerializer stores arrays" if hasattr(leaf, "__array__") else ""
                msg = f"cannot encode {render_path(where)} as JSON: it is {_describe(leaf)}{hint}"
                raise UsageError(msg)
        return (json.dumps(payload) + "\n").encode("utf-8")

    def loads(self, data: bytes) -> dict[str, Any]:
        """Decode a JSON checkpoint."""
        loaded: dict[str, Any] = json.loads(data)
        return loaded


class JsonSerializerConfig(Configuration, component=JsonSerializer):
    """Checkpoints as JSON (plain data only)."""


def _numpy() -> Any:
    try:
        return importlib.import_module("numpy")
    except ImportError:
        msg = "NpzSerializer needs numpy; install it with: pip install 'cinnamon[numpy]'"
        raise UsageError(msg) from None


class NpzSerializer(Component):
    """Write checkpoints as numpy ``.npz`` archives, which hold arrays exactly.

    Each numpy array in the payload becomes an entry of the archive named by its path
    (``state.model.weights``), so ``numpy.load(path)["state.model.weights"]`` reads it
    too; everything else is kept as JSON in the entry ``__structure__``. Reading uses
    ``allow_pickle=False``, so opening a checkpoint runs no code from it. Arrays of
    Python objects (``dtype=object``) would need pickle, and are refused with a
    :class:`UsageError` naming their path, as is any value that is neither an array
    nor plain data. Numpy scalars are stored as plain numbers.

    Raises:
        UsageError: numpy is not installed (``pip install "cinnamon[numpy]"``).
    """

    suffix = ".npz"

    def __init__(self) -> None:
        _numpy()  # fail when the callback is made, not at the first checkpoint

    def dumps(self, payload: Mapping[str, Any]) -> bytes:
        """Encode ``payload``: arrays as archive entries, the rest as JSON."""
        numpy = _numpy()
        arrays: dict[str, Any] = {}
        structure = json.dumps(_split(payload, (), arrays, numpy))
        buffer = io.BytesIO()
        numpy.savez(buffer, **{_STRUCTURE: numpy.array(structure)}, **arrays)
        return buffer.getvalue()

    def loads(self, data: bytes) -> dict[str, Any]:
        """Decode an npz checkpoint, without pickle."""
        numpy = _numpy()
        with numpy.load(io.BytesIO(data), allow_pickle=False) as archive:
            structure = json.loads(str(archive[_STRUCTURE]))

            def rebuilt(value: Any) -> Any:
                if isinstance(value, dict):
                    if set(value) == {_ARRAY}:
                        return archive[value[_ARRAY]]
                    return {key: rebuilt(item) for key, item in value.items()}
                if isinstance(value, list):
                    return [rebuilt(item) for item in value]
                return value

            loaded: dict[str, Any] = rebuilt(structure)
        return loaded


def _split(value: Any, parts: tuple[str | int, ...], arrays: dict[str, Any], numpy: Any) -> Any:
    """``value`` with its arrays moved into ``arrays`` (by path) and markers left behind."""
    if isinstance(value, Mapping):
        if _ARRAY in value:
            msg = f"cannot encode {render_path(parts)}: the key {_ARRAY!r} is reserved"
            raise UsageError(msg)
        return {
            _key(k, parts): _split(v, (*parts, _key(k, parts)), arrays, numpy)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_split(item, (*parts, index), arrays, numpy) for index, item in enumerate(value)]
    if isinstance(value, numpy.ndarray):
        if value.dtype.hasobject:
            msg = (
                f"cannot encode {render_path(parts)} as npz: it is an array of Python "
                "objects (dtype=object), which only pickle could store"
            )
            raise UsageError(msg)
        arrays[render_path(parts)] = value
        return {_ARRAY: render_path(parts)}
    if isinstance(value, numpy.generic):
        return value.item()
    if not _is_json_leaf(value):
        msg = f"cannot encode {render_path(parts)} as npz: it is {_describe(value)}"
        raise UsageError(msg)
    return value


class NpzSerializerConfig(Configuration, component=NpzSerializer):
    """Checkpoints as numpy .npz archives (arrays exactly, no pickle); needs numpy."""
