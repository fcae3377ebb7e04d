"""Callback: a component whose ``on_*`` methods are hookpoints.

Dispatch is table driven. The first time a hookpoint reaches a callback, what implements
it is looked up once and kept on the instance as a single *entry*: ``None`` (nothing to
do), the bound method itself, or a small function calling several in turn. Every later
dispatch is one lookup and at most one call. Pipelines (``_pipeline.py``) put their
flattened children into the same tables and drop them, with :func:`forget`, whenever
their children change.

The tables live in slots rather than in the instance ``__dict__``: reading a slot is as
fast as attribute access gets, and stays so whatever happens to the ``__dict__`` (once
``vars()`` or ``__dict__`` has handed it out, CPython 3.11 reads attributes through it
more slowly, and the registry and ``Component.children()`` both do that).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any, ClassVar

from cinnamon._core.component import Component
from cinnamon.errors import HookpointError, UsageError, add_note

__all__ = [
    "EXCEPTION",
    "Callback",
    "Hook",
    "Hooks",
    "Pair",
    "call_hooks",
    "check_hookpoint",
    "entry_of",
    "fire",
    "forget",
    "lock",
    "note",
    "pair_index",
    "state_of",
]

#: A hook (a bound ``on_*`` method) is called as ``hook(logs=...)``; a dispatch entry
#: made from hooks by :func:`entry_of` is called as ``entry(logs)``.
Hook = Callable[..., object]
Hooks = tuple[Hook, ...]
Pair = tuple[Hook | None, Hook | None]

#: The general exception hook: guarded calls that raise fire it on every callback after
#: their own ``on_<x>_exception``, with ``{"hookpoint": ..., "error": ...}`` as logs.
EXCEPTION = "on_exception"

#: Held while dispatch tables are filled or dropped, and while pipelines change.
#: Readers never take it: they see a whole entry or none.
lock = threading.RLock()

# What cinnamon keeps in an instance __dict__ for itself (the parent links of
# pipelines) is named "_cinnamon_...", so that pickling and copying can leave it out.
_CACHED = "_cinnamon_"
# The host is stored under a dunder name because Component.children() skips those: the
# component a callback is attached to is not its child.
_HOST = "__cinnamon_component__"
# Each guard hookpoint pair gets a small number, its place in the pair tables, so that
# a guarded call finds both its entries with one slot read and one list index.
_pair_indices: dict[str, int] = {}


def pair_index(begin: str) -> int:
    """The place of the pair starting with hookpoint ``begin`` in every pair table."""
    with lock:
        return _pair_indices.setdefault(begin, len(_pair_indices))


def check_hookpoint(hookpoint: object) -> str:
    """Return ``hookpoint`` if it is a valid hookpoint name.

    Raises:
        UsageError: it is not a string.
        HookpointError: it is empty or not a method name starting with ``on_``.
    """
    if not isinstance(hookpoint, str):
        msg = f"a hookpoint must be a string such as 'on_fit_begin', not {hookpoint!r:.80}"
        raise UsageError(msg)
    stem = hookpoint.removeprefix("on_")
    if stem == hookpoint or not stem or not hookpoint.isidentifier():
        msg = (
            f"invalid hookpoint {hookpoint!r}: a hookpoint is a method name that starts "
            "with 'on_', such as 'on_fit_begin'"
        )
        raise HookpointError(msg)
    return hookpoint


def call_hooks(hooks: Hooks, hookpoint: str, logs: Any) -> None:
    """Call each hook with ``logs``; an error escapes unchanged, with a note."""
    for hook in hooks:
        try:
            hook(logs=logs)
        except Exception as error:
            note(error, hook, hookpoint)
            raise


def fire(entry: Hook | None, hookpoint: str, logs: Any) -> None:
    """Call a dispatch entry (see :func:`entry_of`), if there is one, with ``logs``."""
    if entry is not None:
        try:
            entry(logs)
        except Exception as error:
            note(error, entry, hookpoint)
            raise


def entry_of(hooks: Hooks, hookpoint: str) -> Hook | None:
    """Turn the hooks of a hookpoint into one dispatch entry, called as ``entry(logs)``.

    ``None`` for no hook; for one, the hook itself when calling it with ``logs`` by
    position means the same as by keyword (no loop to pay for); otherwise a function
    generated for these hooks that calls each in turn and notes which one raised.
    """
    calls = tuple(map(_by_position, hooks))
    if not calls:
        return None
    if len(calls) == 1:
        return calls[0]
    return _fan_out(calls, hookpoint)


# A fan-out is one call per line, unrolled, with no loop to run and no try per call:
# the handler tells from the line the error passed through which hook raised it.
_FAN_OUT = "def fan_out(logs):\n    try:\n{calls}\n    except Exception as error:\n{handler}"
_FAN_OUT_HANDLER = "        noted(error, calls, hookpoint)\n        raise\n"
_FIRST_CALL_LINE = 3


def _fan_out(calls: Hooks, hookpoint: str) -> Hook:
    """Generate a function that calls each of ``calls`` with its one argument, in order."""
    namespace: dict[str, Any] = {f"c{index}": call for index, call in enumerate(calls)}
    namespace.update(calls=calls, hookpoint=hookpoint, noted=_noted_in_fan_out)
    lines = "\n".join(f"        c{index}(logs)" for index in range(len(calls)))
    source = _FAN_OUT.format(calls=lines, handler=_FAN_OUT_HANDLER)
    exec(compile(source, f"<hooks of {hookpoint}>", "exec"), namespace)  # noqa: S102 - ours
    fan_out: Hook = namespace["fan_out"]
    # Errors from a fan-out already carry the note of the hook that raised them.
    fan_out._cinnamon_noted = True  # type: ignore[attr-defined]
    return fan_out


def _noted_in_fan_out(error: BaseException, calls: Hooks, hookpoint: str) -> None:
    traceback = error.__traceback__
    if traceback is not None:
        index = traceback.tb_lineno - _FIRST_CALL_LINE
        if 0 <= index < len(calls):
            note(error, calls[index], hookpoint)


def _by_position(hook: Hook) -> Hook:
    """``hook``, or an adapter, such that ``call(x)`` does ``hook(logs=x)``.

    Hooks are called as ``hook(logs=...)``. For the usual ``def on_x(self, logs)``,
    passing ``logs`` by position binds exactly the same arguments, and CPython calls a
    method with positional arguments alone noticeably faster; the parameters are read
    here, once, so that dispatch need not pay for keywords. Any other hook gets a small
    adapter that passes ``logs`` by keyword.
    """
    function, first = (hook.__func__, 1) if isinstance(hook, MethodType) else (hook, 0)
    code = getattr(function, "__code__", None) if isinstance(function, FunctionType) else None
    if (
        code is not None
        and code.co_argcount > first
        and code.co_posonlyargcount <= first
        and code.co_varnames[first] == "logs"
    ):
        return hook

    def by_keyword(logs: Any) -> object:
        return hook(logs=logs)

    by_keyword._cinnamon_hook = hook  # type: ignore[attr-defined]  # for note()
    return by_keyword


def note(error: BaseException, hook: Hook, hookpoint: str) -> None:
    """Tell, in a note on ``error``, which callback's hookpoint raised it."""
    if getattr(hook, "_cinnamon_noted", False):
        return
    hook = getattr(hook, "_cinnamon_hook", hook)
    owner = getattr(hook.func if isinstance(hook, partial) else hook, "__self__", None)
    if owner is None:
        where = repr(hook)
    else:
        where = type(owner).__name__
        info = getattr(owner, "__cinnamon__", None)
        if info is not None and info.path:
            where += f" at {info.path!r}"
    add_note(error, f"cinnamon: raised in hookpoint {hookpoint!r} of {where}")


def state_of(component: Component) -> dict[str, Any]:
    """The attributes of ``component`` without what cinnamon caches on it."""
    return {k: v for k, v in component.__dict__.items() if not k.startswith(_CACHED)}


def forget(callback: Callback) -> None:
    """Drop every dispatch entry of ``callback``; call it with :data:`lock` held."""
    callback._cinnamon_version = getattr(callback, "_cinnamon_version", 0) + 1
    callback._cinnamon_pairs = []
    callback._cinnamon_singles = {}


class Callback(Component):
    """A component that reacts to hookpoints: its methods whose names start with ``on_``.

    Define any ``on_<something>(self, logs)`` method; it is a hookpoint, called as
    ``method(logs=...)``. Fire one by hand with :meth:`run`, or around a function with
    :func:`~cinnamon.guard`. Several callbacks are combined with
    :class:`~cinnamon.CallbackPipeline`.

    One name is special: ``on_exception(self, logs)`` is fired by every guarded call
    that raises, whatever its hookpoint, after ``on_<x>_exception``, with ``logs`` a
    dict of the ``"hookpoint"`` fired and the ``"error"``. Class attributes
    :attr:`runs_after` and :attr:`runs_before` order a callback among its siblings in a
    pipeline.

    A callback looks up its hook methods the first time each hookpoint reaches it and
    keeps the bound methods; replacing a hook method on an instance afterwards is not
    seen. A subclass may override :meth:`run` to dispatch by itself; :func:`guard` and
    pipelines then call its ``run``.

    Attributes:
        component: the component the callback is attached to by :meth:`setup`, or
            ``None``. It is not one of the callback's children.
        save_path: where the callback may write files, or ``None``.
    """

    # The tables: entries by hookpoint for run(), pairs by pair_index() for guard, and
    # a counter bumped by forget(), so that a fill racing with a change is not kept.
    __slots__ = ("_cinnamon_pairs", "_cinnamon_singles", "_cinnamon_version")
    _cinnamon_pairs: list[Pair | None]
    _cinnamon_singles: dict[str, Hook | None]
    _cinnamon_version: int

    save_path: Path | None = None
    #: Callbacks this one runs after in a :class:`~cinnamon.CallbackPipeline`: classes
    #: (matched with ``isinstance``) or class names (matched against the classes a
    #: sibling is an instance of). A constraint that matches no sibling is ignored.
    runs_after: ClassVar[tuple[type[Callback] | str, ...]] = ()
    #: Callbacks this one runs before in a pipeline, given as for :attr:`runs_after`.
    runs_before: ClassVar[tuple[type[Callback] | str, ...]] = ()
    # Whether the class overrides run(): then dispatchers must go through it.
    _cinnamon_runs_itself: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Note whether the subclass dispatches hookpoints through its own ``run``."""
        super().__init_subclass__(**kwargs)
        cls._cinnamon_runs_itself = cls.run is not Callback.run

    @property
    def component(self) -> Any:
        """The component this callback is attached to, or ``None``."""
        return self.__dict__.get(_HOST)

    @component.setter
    def component(self, value: Any) -> None:
        self.__dict__[_HOST] = value

    def setup(self, component: Any = None, save_path: str | os.PathLike[str] | None = None) -> None:
        """Attach the callback to ``component``, with ``save_path`` for its side effects.

        Args:
            component: the component the callback serves (a trainer, a model, ...).
            save_path: a folder the callback may write to; kept as a ``Path``.
        """
        self.component = component
        self.save_path = None if save_path is None else Path(save_path)

    def clear(self) -> None:
        """Detach the callback: ``component`` and ``save_path`` go back to ``None``."""
        self.component = None
        self.save_path = None

    def run(self, hookpoint: str, logs: Any = None) -> None:
        """Fire ``hookpoint``: call ``self.<hookpoint>(logs=logs)`` if the method exists.

        A callback without the method does nothing. An exception raised by the hook
        propagates unchanged, with a note naming the callback and the hookpoint.

        Args:
            hookpoint: the method name, starting with ``on_``.
            logs: passed to the hook as ``logs``.

        Raises:
            UsageError: ``hookpoint`` is not a string.
            HookpointError: ``hookpoint`` is empty or does not start with ``on_``.
        """
        if self._cinnamon_runs_itself:  # reached through super().run() of an override
            call_hooks(self._cinnamon_own(check_hookpoint(hookpoint)), hookpoint, logs)
            return
        try:
            entry = self._cinnamon_singles[hookpoint]
        except (AttributeError, KeyError, TypeError):  # no table, a miss, unhashable
            entry = self._cinnamon_single(hookpoint)
        if entry is not None:
            try:
                entry(logs)
            except Exception as error:
                note(error, entry, hookpoint)
                raise

    def __getstate__(self) -> dict[str, Any]:
        """Return the state to pickle or copy, without cached entries or links."""
        return state_of(self)

    # -- dispatch entries (used by run, guard and pipelines) ---------------------------

    def _cinnamon_single(self, hookpoint: object) -> Hook | None:
        """Check ``hookpoint``, find what implements it, and remember that.

        The entry is found under the lock that changes to pipelines take, so that it
        reflects one state of nested pipelines, never a mix of two.
        """
        name = check_hookpoint(hookpoint)
        with lock:
            version = getattr(self, "_cinnamon_version", 0)  # read before the children are
            entry = entry_of(self._cinnamon_outside(name), name)
            if getattr(self, "_cinnamon_version", 0) == version:  # else changed by this thread
                table = getattr(self, "_cinnamon_singles", None)
                if table is None:
                    table = self._cinnamon_singles = {}
                table[name] = entry
        return entry

    def _cinnamon_pair(self, begin: str, end: str, index: int) -> Pair:
        """Find and remember the entries of a guard's pair (names already checked).

        Both entries are found under the lock that changes to pipelines take, so that a
        guarded call's begin and end hooks reach the same callbacks even while another
        thread changes a pipeline.
        """
        with lock:
            version = getattr(self, "_cinnamon_version", 0)
            pair = (
                entry_of(self._cinnamon_outside(begin), begin),
                entry_of(self._cinnamon_outside(end), end),
            )
            if getattr(self, "_cinnamon_version", 0) == version:  # else changed by this thread
                table = getattr(self, "_cinnamon_pairs", [])
                if len(table) <= index:  # grow a copy: readers may hold the old list
                    table = [*table, *[None] * (index + 1 - len(table))]
                table[index] = pair
                self._cinnamon_pairs = table
        return pair

    def _cinnamon_entry(self, hookpoint: str) -> Hook | None:
        """The dispatch entry of ``hookpoint``, remembered or found now."""
        try:
            return self._cinnamon_singles[hookpoint]
        except (AttributeError, KeyError):
            return self._cinnamon_single(hookpoint)

    def _cinnamon_outside(self, hookpoint: str) -> Hooks:
        """The hooks a dispatcher calls, honouring an overridden ``run``."""
        if self._cinnamon_runs_itself:
            return (partial(self.run, hookpoint),)
        return self._cinnamon_own(hookpoint)

    def _cinnamon_own(self, hookpoint: str) -> Hooks:
        """The callback's own methods for ``hookpoint`` (here: the method, if any)."""
        method = getattr(self, hookpoint, None)
        return (method,) if callable(method) else ()
