"""Event filters: a callback that lets only some calls of its hookpoints through.

A :class:`FilteredCallback` is a pipeline of one callback (or more) whose filtered
hookpoints fire on every N-th call, once on the N-th call, or when a predicate says so,
as ignite's event filters do. The filter is worked out when the dispatch tables are
filled: the hookpoints it does not filter, and every guarded call that does not reach
it, cost nothing more than without it.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from cinnamon._core.configuration import Configuration, Param, Ref
from cinnamon._hooks.callback import Callback, Hook, check_hookpoint, entry_of, fire, lock
from cinnamon._hooks.pipeline import CallbackPipeline
from cinnamon.errors import ConfigurationError, HookpointError, UsageError

__all__ = ["FilteredCallback", "FilteredCallbackConfig", "Predicate"]

#: A filter's predicate: called with the number of the call (from 1) and its logs.
Predicate = Callable[[int, Any], bool]

# The per-hookpoint call counters live under a "_cinnamon_" name, which pickling and
# copying leave out: a copy starts counting afresh.
_COUNTERS = "_cinnamon_counters"


class FilteredCallback(CallbackPipeline):
    """Let only some calls of ``hookpoints`` reach ``callback``; every other passes freely.

    The calls of each filtered hookpoint are counted from 1 (each hookpoint on its own,
    from when the filter was made); give exactly one of:

    - ``every=N``: calls N, 2N, 3N, ... go through;
    - ``once=N``: call N goes through, no other;
    - ``when=predicate``: the calls for which ``predicate(number, logs)`` is true go
      through (from Python only: a file cannot hold code).

    Args:
        callback: the callback to filter (a pipeline filters all its callbacks alike).
        hookpoints: the hookpoints to filter, one name or several; each must be one
            that ``callback`` implements.
        every: let every N-th call through.
        once: let the N-th call through, and only it.
        when: let the calls for which the predicate holds through.

    Raises:
        HookpointError: a hookpoint is malformed or ``callback`` does not implement it.
        ConfigurationError: not exactly one of ``every``, ``once`` and ``when`` is
            given, or ``every`` or ``once`` is below 1.
        UsageError: ``callback`` is not a Callback, a count is not an int, or ``when``
            is not callable.
    """

    _cinnamon_flattened: ClassVar[bool] = False

    def __init__(
        self,
        callback: Callback,
        hookpoints: str | Iterable[str],
        *,
        every: int | None = None,
        once: int | None = None,
        when: Predicate | None = None,
    ) -> None:
        """Filter ``hookpoints`` of ``callback`` by ``every``, ``once`` or ``when``."""
        if not isinstance(callback, Callback):
            msg = f"FilteredCallback filters a Callback, not {callback!r:.80}"
            raise UsageError(msg)
        self.hookpoints = _hookpoints(hookpoints, callback)
        self.every, self.once, self.when = _rule(every, once, when)
        super().__init__([callback])

    def _cinnamon_own(self, hookpoint: str) -> tuple[Hook, ...]:
        hooks = super()._cinnamon_own(hookpoint)
        if hookpoint not in self.hookpoints or not hooks:
            return hooks
        entry = entry_of(hooks, hookpoint)
        counter = self._counter(hookpoint)
        passes = self._passes

        def filtered(logs: Any) -> None:
            if passes(next(counter), logs):
                fire(entry, hookpoint, logs)

        # fire() has noted an error with the callback that raised it.
        filtered._cinnamon_noted = True  # type: ignore[attr-defined]
        return (filtered,)

    def _passes(self, number: int, logs: Any) -> bool:
        if self.every is not None:
            return number % self.every == 0
        if self.once is not None:
            return number == self.once
        return bool(self.when(number, logs)) if self.when is not None else True

    def _counter(self, hookpoint: str) -> itertools.count[int]:
        """The counter of ``hookpoint``, kept across refills of the dispatch tables."""
        with lock:
            counters: dict[str, itertools.count[int]] = self.__dict__.setdefault(_COUNTERS, {})
            return counters.setdefault(hookpoint, itertools.count(1))


class FilteredCallbackConfig(Configuration, component=FilteredCallback):
    """A :class:`FilteredCallback` declared in a file: ``every`` or ``once`` (no code)."""

    callback: Ref[Configuration] = Param(description="the callback to filter")
    hookpoints: list[str] = Param(description="the hookpoints to filter, e.g. on_batch_end")
    every: int | None = Param(None, ge=1, description="let every N-th call through")
    once: int | None = Param(None, ge=1, description="let only the N-th call through")


def _hookpoints(hookpoints: object, callback: Callback) -> tuple[str, ...]:
    names = (hookpoints,) if isinstance(hookpoints, str) else hookpoints
    if not isinstance(names, Iterable):
        msg = f"FilteredCallback takes hookpoint names, not {hookpoints!r:.80}"
        raise UsageError(msg)
    checked = tuple(check_hookpoint(name) for name in names)
    if not checked:
        msg = "FilteredCallback needs at least one hookpoint to filter"
        raise HookpointError(msg)
    if callback._cinnamon_runs_itself:  # its own run() decides; nothing to check against
        return checked
    for name in checked:
        if not callback._cinnamon_outside(name):
            known = sorted(_implemented(callback))
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = (
                f"FilteredCallback filters {name!r}, a hookpoint that "
                f"{type(callback).__name__} does not implement (it implements "
                f"{', '.join(map(repr, known)) or 'none'}){hint}"
            )
            raise HookpointError(msg)
    return checked


def _implemented(callback: Callback) -> set[str]:
    """The hookpoints that ``callback`` (or any callback inside it) implements."""
    found: set[str] = set()
    for each in callback.walk():
        for kind in type(each).__mro__:
            found.update(n for n, v in vars(kind).items() if n.startswith("on_") and callable(v))
    return found


def _rule(
    every: object, once: object, when: object
) -> tuple[int | None, int | None, Predicate | None]:
    given = [
        name
        for name, value in (("every", every), ("once", once), ("when", when))
        if value is not None
    ]
    if len(given) != 1:
        msg = f"give exactly one of every, once and when (got {', '.join(given) or 'none'})"
        raise ConfigurationError([(given[1] if len(given) > 1 else "every", msg)])
    for name, value in (("every", every), ("once", once)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            msg = f"FilteredCallback's {name} is a number of calls (int), not {value!r:.80}"
            raise UsageError(msg)
        if value < 1:
            raise ConfigurationError(
                [(name, f"counts calls from 1, so it must be >= 1, not {value}")]
            )
    if when is not None and not callable(when):
        msg = f"FilteredCallback's when is a predicate (number, logs) -> bool, not {when!r:.80}"
        raise UsageError(msg)
    return every, once, when  # type: ignore[return-value]  # checked above
