"""What the framework adapters share: checking what they wrap, and firing hookpoints."""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from typing import Any

from cinnamon._hooks.callback import Callback
from cinnamon.errors import UsageError


def framework(module: str, extra: str) -> Any:
    """Import ``module``, or say which extra of cinnamon brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        msg = (
            f"cinnamon.integrations.{extra} needs {module}: install it with "
            f"pip install 'cinnamon[{extra}]' ({type(error).__name__}: {error})"
        )
        raise UsageError(msg) from error


def checked(callback: object, adapter: str) -> Callback:
    """``callback`` if it is a cinnamon Callback (a pipeline is one)."""
    if not isinstance(callback, Callback):
        msg = (
            f"{adapter} wraps a cinnamon Callback or CallbackPipeline, not {callback!r:.80}; "
            "build one first (registry.build(key, CallbackPipeline))"
        )
        raise UsageError(msg)
    return callback


def folder(save_path: str | os.PathLike[str] | None) -> Path | None:
    """``save_path`` as a ``Path``, or ``None``."""
    return None if save_path is None else Path(save_path)


def numbers(logs: Any) -> dict[str, Any]:
    """A framework's logs as a plain dict; tensors of one value become floats."""
    if not logs:
        return {}
    plain: dict[str, Any] = {}
    for name, value in dict(logs).items():
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "ndim", 1) == 0:
            with contextlib.suppress(TypeError, ValueError, RuntimeError):
                value = item()  # noqa: PLW2901 - the same value, as a Python number
        plain[str(name)] = value
    return plain
