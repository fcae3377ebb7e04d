"""guard: fire a pair of hookpoints around every call of a function.

The guard is on users' hot paths (every batch of a training loop), so it does its
thinking once. At decoration time it reads the function's signature and generates, with
``exec`` as :mod:`dataclasses` does, a wrapper with exactly that signature: the
``callbacks`` argument is then a local variable, with no per-call binding of arguments.
At call time the wrapper takes the hooks from the callback's dispatch table (filled on
the first call) and loops over bound methods.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, final, overload

from cinnamon._hooks.callback import Callback, Pair, fire, note, pair_index
from cinnamon.errors import HookpointError, UsageError

__all__ = ["guard"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# {p} is a prefix that no parameter of the wrapped function starts with.
_TEMPLATE = """\
def {p}create({p}fn, {p}begin, {p}end, {p}exc, {p}where, {p}resolve, {p}note, {p}failed{d}):
    {async_}def {p}guarded({params}):
        if callbacks is None:
            return {await_}{p}fn({args})
        try:
            {p}b, {p}e = callbacks._cinnamon_pairs[{index}]
        except Exception:  # not in the table yet, or not a Callback at all
            {p}b, {p}e = {p}resolve(callbacks, {p}begin, {p}end, {index}, {p}where)
        if {p}b is not None:
            try:
                {p}b(None)
            except Exception as {p}x:
                {p}note({p}x, {p}b, {p}begin)
                raise
        try:
            {p}r = {await_}{p}fn({args})
        except BaseException as {p}x:
            {p}failed(callbacks, {p}exc, {p}x)
            raise
        if {p}e is not None:
            try:
                {p}e({p}r)
            except Exception as {p}x:
                {p}note({p}x, {p}e, {p}end)
                raise
        return {p}r
    return {p}guarded
"""


@final
class _Guard:
    """The decorator made by ``guard(hookpoint)``."""

    __slots__ = ("_stem",)

    def __init__(self, stem: str | None) -> None:
        self._stem = stem

    @overload
    def __call__(self, function: classmethod[T, P, R]) -> classmethod[T, P, R]: ...

    @overload
    def __call__(self, function: staticmethod[P, R]) -> staticmethod[P, R]: ...

    @overload
    def __call__(self, function: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, function: Any) -> Any:
        """Return ``function`` wrapped so that its calls fire the hookpoint pair."""
        if isinstance(function, (classmethod, staticmethod)):
            return type(function)(self(function.__func__))
        if not callable(function):
            msg = f"guard() decorates functions and methods, not {function!r:.80}"
            raise UsageError(msg)
        stem = self._stem
        if stem is None:
            stem = _stem(getattr(function, "__name__", None), function)
        return _wrap(function, stem)

    def __repr__(self) -> str:
        return "guard()" if self._stem is None else f"guard({self._stem!r})"


@overload
def guard(hookpoint: str | None = None) -> _Guard: ...


@overload
def guard(hookpoint: classmethod[T, P, R]) -> classmethod[T, P, R]: ...


@overload
def guard(hookpoint: staticmethod[P, R]) -> staticmethod[P, R]: ...


@overload
def guard(hookpoint: Callable[P, R]) -> Callable[P, R]: ...


def guard(hookpoint: Any = None) -> Any:
    """Fire ``on_<x>_begin`` before and ``on_<x>_end`` after each call of a function.

    ``@guard("fit")``, ``@guard("on_fit")`` and, on a function named ``fit``,
    ``@guard()`` or plain ``@guard`` all mean the pair ``on_fit_begin`` /
    ``on_fit_end``. The function must have a parameter named ``callbacks``; on each
    call its value (given by keyword, by position, or its default) is the
    :class:`~cinnamon.Callback` to notify:

    1. ``callbacks.on_fit_begin(logs=None)``;
    2. the call itself;
    3. ``callbacks.on_fit_end(logs=<its return value>)``.

    With ``callbacks=None`` it is a plain call. If the call raises, the exception
    propagates unchanged (the same object, even ``KeyboardInterrupt``), the end hook is
    skipped, and ``on_fit_exception(logs=<the exception>)`` is fired instead. An
    exception raised by a hook propagates unchanged, with a note naming the callback.

    Works on functions, methods, classmethods and staticmethods (in either decorator
    order) and ``async def`` functions, whose hooks fire around the awaited call. The
    wrapper has the function's name, docstring and signature, for ``inspect`` and for
    type checkers alike.

    Args:
        hookpoint: the name of the pair, with or without the ``on_`` prefix; by
            default the function's name.

    Returns:
        A decorator, or the wrapped function when used bare as ``@guard``.

    Raises:
        UsageError: the decorated function has no ``callbacks`` parameter or is a
            generator function (at decoration), or ``callbacks`` is neither a Callback
            nor ``None`` (at call).
        HookpointError: the name does not make a valid hookpoint.
    """
    if hookpoint is None or isinstance(hookpoint, str):
        return _Guard(None if hookpoint is None else _stem(hookpoint, None))
    if callable(hookpoint) or isinstance(hookpoint, (classmethod, staticmethod)):
        return _Guard(None)(hookpoint)
    msg = f"guard() takes a hookpoint name such as 'fit', not {hookpoint!r:.80}"
    raise UsageError(msg)


def _stem(name: object, function: object) -> str:
    """The ``<x>`` of ``on_<x>_begin``, from a hookpoint or a function name."""
    if not isinstance(name, str):
        msg = f"{function!r:.80} has no name to make a hookpoint of; pass one: @guard('fit')"
        raise UsageError(msg)
    stem = name.removeprefix("on_")
    if not stem or not f"on_{stem}_begin".isidentifier():
        whose = "" if function is None else f" (the name of {function!r:.80})"
        msg = (
            f"{name!r}{whose} does not make a hookpoint: give a name such as 'fit' or "
            "'on_fit', for the pair 'on_fit_begin' / 'on_fit_end'"
        )
        raise HookpointError(msg)
    return stem


def _wrap(function: Callable[..., Any], stem: str) -> Callable[..., Any]:
    where = getattr(function, "__qualname__", None) or repr(function)
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        msg = f"guard() cannot read the signature of {where}"
        raise UsageError(msg) from error
    parameter = signature.parameters.get("callbacks")
    if parameter is None or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
        msg = (
            f"guard() finds the callbacks in a parameter named 'callbacks', and "
            f"{where}{signature} has none; add one, e.g. 'callbacks: Callback | None = None'"
        )
        raise UsageError(msg)
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        msg = (
            f"guard() cannot wrap the generator function {where}: the call only creates "
            "the generator, so the hooks would fire before any of its work"
        )
        raise UsageError(msg)
    wrapper = _generate(function, signature, stem, where)
    functools.update_wrapper(wrapper, function)
    name = getattr(function, "__name__", None)
    if isinstance(name, str):  # so that tracebacks name the function, not the template
        code = wrapper.__code__.replace(co_name=name)
        if sys.version_info >= (3, 11):
            code = code.replace(co_qualname=where)
        wrapper.__code__ = code
    return wrapper


def _generate(
    function: Callable[..., Any], signature: inspect.Signature, stem: str, where: str
) -> Callable[..., Any]:
    """Generate the wrapper of ``function``, with exactly its parameters."""
    parameters = list(signature.parameters.values())
    prefix = "_cinnamon_"
    while any(p.name.startswith(prefix) for p in parameters):
        prefix = "_" + prefix
    defaults: dict[str, Any] = {}
    params: list[str] = []
    args: list[str] = []
    for index, parameter in enumerate(parameters):
        name = parameter.name
        text = name
        if parameter.default is not parameter.empty:
            default = f"{prefix}d{index}"
            defaults[default] = parameter.default
            text += f"={default}"
        kind = parameter.kind
        if kind is parameter.VAR_POSITIONAL:
            params.append(f"*{name}")
            args.append(f"*{name}")
        elif kind is parameter.VAR_KEYWORD:
            params.append(f"**{name}")
            args.append(f"**{name}")
        elif kind is parameter.KEYWORD_ONLY:
            if not any(p.kind in (p.VAR_POSITIONAL, p.KEYWORD_ONLY) for p in parameters[:index]):
                params.append("*")
            params.append(text)
            args.append(f"{name}={name}")
        else:
            params.append(text)
            args.append(name)
            following = parameters[index + 1] if index + 1 < len(parameters) else None
            if kind is parameter.POSITIONAL_ONLY and (
                following is None or following.kind is not parameter.POSITIONAL_ONLY
            ):
                params.append("/")
    begin, end, exc = f"on_{stem}_begin", f"on_{stem}_end", f"on_{stem}_exception"
    is_async = inspect.iscoroutinefunction(function)
    source = _TEMPLATE.format(
        p=prefix,
        index=pair_index(begin),
        d="".join(f", {name}" for name in defaults),
        params=", ".join(params),
        args=", ".join(args),
        async_="async " if is_async else "",
        await_="await " if is_async else "",
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<guard of {where}>", "exec"), namespace)  # noqa: S102 - our template
    create = namespace[f"{prefix}create"]
    wrapper: Callable[..., Any] = create(
        function, begin, end, exc, where, _resolve, note, _failed, *defaults.values()
    )
    return wrapper


def _resolve(callbacks: object, begin: str, end: str, index: int, where: str) -> Pair:
    """Find the begin and end entries of ``callbacks`` when they are not in its table."""
    if not isinstance(callbacks, Callback):
        msg = f"{where}(): callbacks must be a Callback or None, not {callbacks!r:.80}"
        raise UsageError(msg)
    return callbacks._cinnamon_pair(begin, end, index)


def _failed(callbacks: Callback, hookpoint: str, error: BaseException) -> None:
    """Fire the exception hook of a guarded call that raised ``error``."""
    fire(callbacks._cinnamon_entry(hookpoint), hookpoint, error)
