"""What the built-in callbacks share: reading metrics, comparing them, finding the host."""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from cinnamon._hooks.callback import Callback
from cinnamon.errors import NotFoundError, UsageError

#: How a monitored metric improves: "min" (lower is better) or "max" (higher is better).
Mode = Literal["min", "max"]

# A plain file name that stays in its folder on every system: no folder separators, no
# ":" (on Windows "C:x" is a path on drive C), no control characters, and no "." or " "
# at the end (Windows drops those, so ".. " would be ".."); "." and ".." are refused too.
_FILE_NAME = r"^[^/\\:\x00-\x1f]*[^/\\:. \x00-\x1f]$"
# Entries of the logs that count things rather than measure them; not shown as metrics.
_COUNTERS = ("epoch", "batch")


# -- shared helpers ------------------------------------------------------------------------


def _metrics(logs: object) -> Mapping[str, Any]:
    """The logs as a mapping of metrics (empty when the hook got none)."""
    return logs if isinstance(logs, Mapping) else {}


def _epoch_of(metrics: Mapping[str, Any], counted: int) -> int:
    epoch = metrics.get("epoch")
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else counted


def _monitored(metrics: Mapping[str, Any], name: str, owner: Callback, epoch: int) -> float:
    """The value of the metric ``owner`` monitors, as a float.

    Raises:
        NotFoundError: the logs have no such metric.
        UsageError: the metric is not a number.
    """
    where = f"{type(owner).__name__}(monitor={name!r})"
    if name not in metrics:
        available = [key for key in metrics if key not in _COUNTERS]
        msg = (
            f"{where}: the logs of epoch {epoch} have no metric {name!r} "
            f"(they have {', '.join(map(repr, available)) or 'none'})"
        )
        close = difflib.get_close_matches(name, available, n=1)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        raise NotFoundError(msg)
    value = metrics[name]
    try:
        return float(value)
    except (TypeError, ValueError):
        msg = f"{where}: the metric {name!r} of epoch {epoch} is {value!r:.60}, not a number"
        raise UsageError(msg) from None


def _improved(current: float, best: float | None, mode: Mode, min_delta: float) -> bool:
    """Whether ``current`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
    if math.isnan(current):
        return False
    if best is None:
        return True
    return current < best - min_delta if mode == "min" else current > best + min_delta


def _folder(callback: Callback) -> Path:
    folder = callback.save_path
    if folder is None:
        msg = (
            f"{type(callback).__name__} has no folder to write to: call "
            "setup(component=..., save_path=<folder>) before the fit"
        )
        raise UsageError(msg)
    return folder


def _host(callback: Callback, needs: str) -> Any:
    host = callback.component
    if host is None:
        msg = f"{type(callback).__name__} is attached to no component: call setup(component=...)"
        raise UsageError(msg)
    if not hasattr(host, needs):
        msg = (
            f"{type(callback).__name__} needs a component with {needs!r}, and {host!r:.80} has none"
        )
        raise UsageError(msg)
    return host


def _plain(value: Any, *, allow_nan: bool) -> Any:  # noqa: PLR0911 - a return per kind
    """``value`` made of JSON types only.

    Non-finite floats become ``None`` unless ``allow_nan``; numbers of other kinds
    (numpy scalars, ``Decimal``) become ``int`` or ``float``; anything else its ``str``.
    """
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    if isinstance(value, float):
        return value if allow_nan or math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _plain(item, allow_nan=allow_nan) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item, allow_nan=allow_nan) for item in value]
    if callable(getattr(value, "tolist", None)):  # numpy arrays and scalars, duck-typed
        return _plain(value.tolist(), allow_nan=allow_nan)
    if hasattr(value, "__index__"):
        return operator.index(value)
    if hasattr(value, "__float__"):
        return _plain(float(value), allow_nan=allow_nan)
    return str(value)
