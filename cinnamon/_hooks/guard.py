"""guard: fire a pair of hookpoints around every call of a function.

The guard is on users' hot paths (every batch of a training loop), so it does its
thinking once. At decoration time it reads the function's signature and generates, with
``exec`` as :mod:`dataclasses` does, a wrapper with exactly that signature: the
``callbacks`` argument is then a local variable, with no per-call binding of arguments.
At call time the wrapper takes the hooks from the callback's dispatch table (filled on
the first call) and loops over bound methods.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, final, overload

from cinnamon._hooks.callback import EXCEPTION, Callback, Pair, fire, note, pair_index
from cinnamon.errors import HookpointError, UsageError, add_note

__all__ = ["guard"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# The template of every wrapper; {p} is a prefix that no parameter of the wrapped function
# starts with. The fast path has one try statement, whose handler tells from the line the
# exception passed through which step failed (the lines are marked "@<step>"): a try per
# step would cost a few instructions each on every call. A miss in the pair table falls
# through to the slow path below it, which finds the pair and runs the call step by step.
_TEMPLATE = """\
{async_}def {p}guarded({params}):
    if callbacks is None:
        return {await_}{p}fn({args})
    try:
        {p}b, {p}e = callbacks._cinnamon_pairs[{index}]  # @pair
        {setup}# @setup
        if {p}b is not None:
            {p}b(None)  # @begin
        {p}r = {await_}{p}fn({args})  # @call
        if {p}e is not None:
            {p}e({p}r)  # @end
        return {p}r
    except BaseException as {p}x:
        {p}w = {p}x.__traceback__.tb_lineno
        if {p}w == {line_call}:
            {p}failed(callbacks, {p}exc, {p}x)
            raise
        if {p}w == {line_begin}:
            {p}note({p}x, {p}b, {p}begin)
            raise
        if {p}w == {line_end}:
            {p}note({p}x, {p}e, {p}end)
            raise
        if {p}w == {line_setup}:
            {p}set_up_failed({p}x, {p}begin)
            raise
        if {p}w != {line_pair} or not isinstance({p}x, Exception):
            raise
    {p}b, {p}e = {p}resolve(callbacks, {p}begin, {p}end, {index}, {p}where)
    try:
        {setup_slow}
    except Exception as {p}x:
        {p}set_up_failed({p}x, {p}begin)
        raise
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
"""
# The line (counted from 1) of each step of the fast path, for the handler.
_LINES = {
    f"line_{line.rsplit('# @', 1)[1]}": number
    for number, line in enumerate(_TEMPLATE.splitlines(), start=1)
    if "# @" in line
}


@final
class _Guard:
    """The decorator made by ``guard(hookpoint)``."""

    __slots__ = ("_setup", "_stem")

    def __init__(self, stem: str | None, setup: bool = False) -> None:
        self._stem = stem
        self._setup = setup

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
        return _wrap(function, stem, self._setup)

    def __repr__(self) -> str:
        arguments = [] if self._stem is None else [repr(self._stem)]
        if self._setup:
            arguments.append("setup=True")
        return f"guard({', '.join(arguments)})"


@overload
def guard(hookpoint: str | None = None, *, setup: bool = False) -> _Guard: ...


@overload
def guard(hookpoint: classmethod[T, P, R]) -> classmethod[T, P, R]: ...


@overload
def guard(hookpoint: staticmethod[P, R]) -> staticmethod[P, R]: ...


@overload
def guard(hookpoint: Callable[P, R]) -> Callable[P, R]: ...


def guard(hookpoint: Any = None, *, setup: bool = False) -> Any:
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
    skipped, and ``on_fit_exception(logs=<the exception>)`` is fired instead, then the
    general ``on_exception(logs={"hookpoint": "on_fit_exception", "error": <the
    exception>})``, which fires once per exception and ``callbacks`` object however
    many guarded calls it passes through. An exception raised by a hook propagates
    unchanged, with a note naming the callback.

    With ``setup=True``, each call first attaches the callbacks to the call's first
    argument (``self`` of a method): ``callbacks.setup(component=self,
    save_path=callbacks.save_path)``, so that the begin hook finds its component, as
    Keras calls ``set_model`` before ``on_train_begin``. The callbacks stay attached
    after the call.

    Works on functions, methods, classmethods and staticmethods (in either decorator
    order) and ``async def`` functions, whose hooks fire around the awaited call. The
    wrapper has the function's name, docstring and signature, for ``inspect`` and for
    type checkers alike.

    Args:
        hookpoint: the name of the pair, with or without the ``on_`` prefix; by
            default the function's name.
        setup: whether to set the callbacks up with the first argument before each
            call's begin hook.

    Returns:
        A decorator, or the wrapped function when used bare as ``@guard``.

    Raises:
        UsageError: the decorated function has no ``callbacks`` parameter, is a
            generator function, or has no first positional parameter to set the
            callbacks up with for ``setup=True`` (at decoration), or ``callbacks`` is
            neither a Callback nor ``None`` (at call).
        HookpointError: the name does not make a valid hookpoint.
    """
    if not isinstance(setup, bool):
        msg = f"guard(setup=...) takes True or False, not {setup!r:.80}"
        raise UsageError(msg)
    if hookpoint is None or isinstance(hookpoint, str):
        return _Guard(None if hookpoint is None else _stem(hookpoint, None), setup)
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


def _wrap(function: Callable[..., Any], stem: str, setup: bool) -> Callable[..., Any]:
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
    wrapper = _generate(function, signature, stem, where, _host_parameter(signature, where, setup))
    functools.update_wrapper(wrapper, function)
    name = getattr(function, "__name__", None)
    if isinstance(name, str):  # so that tracebacks name the function, not the template
        code = wrapper.__code__.replace(co_name=name)
        if sys.version_info >= (3, 11):
            code = code.replace(co_qualname=where)
        wrapper.__code__ = code
    return wrapper


def _host_parameter(signature: inspect.Signature, where: str, setup: bool) -> str | None:
    """The name of the parameter whose value ``setup=True`` gives the callbacks, if any."""
    if not setup:
        return None
    first = next(iter(signature.parameters.values()), None)
    if first is None or first.name == "callbacks" or first.kind not in _POSITIONAL:
        msg = (
            f"guard(setup=True) sets the callbacks up with the first argument of the "
            f"guarded call (self, for a method), and {where}{signature} has none"
        )
        raise UsageError(msg)
    return first.name


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _generate(
    function: Callable[..., Any],
    signature: inspect.Signature,
    stem: str,
    where: str,
    host: str | None,
) -> Callable[..., Any]:
    """Generate the wrapper of ``function``, with exactly its parameters.

    What the wrapper refers to lives in the globals it is compiled with rather than in
    a closure, whose cells every call would copy into its frame.
    """
    parameters = list(signature.parameters.values())
    prefix = "_cinnamon_"
    while any(p.name.startswith(prefix) for p in parameters):
        prefix = "_" + prefix
    namespace: dict[str, Any] = {}
    params: list[str] = []
    args: list[str] = []
    for index, parameter in enumerate(parameters):
        name = parameter.name
        text = name
        if parameter.default is not parameter.empty:
            default = f"{prefix}d{index}"
            namespace[default] = parameter.default
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
    # Without setup the fast path's line stays empty: even a `pass` costs an instruction.
    setup = ""
    if host is not None:
        setup = f"callbacks.setup(component={host}, save_path=callbacks.save_path)  "
    source = _TEMPLATE.format(
        p=prefix,
        index=pair_index(begin),
        params=", ".join(params),
        args=", ".join(args),
        async_="async " if is_async else "",
        await_="await " if is_async else "",
        setup=setup,
        setup_slow=setup or "pass",
        **_LINES,
    )
    namespace.update(
        {
            f"{prefix}{name}": value
            for name, value in {
                "fn": function,
                "begin": begin,
                "end": end,
                "exc": exc,
                "where": where,
                "resolve": _resolve,
                "note": note,
                "failed": _failed,
                "set_up_failed": _set_up_failed,
            }.items()
        }
    )
    exec(compile(source, f"<guard of {where}>", "exec"), namespace)  # noqa: S102 - our template
    wrapper: Callable[..., Any] = namespace[f"{prefix}guarded"]
    return wrapper


def _resolve(callbacks: object, begin: str, end: str, index: int, where: str) -> Pair:
    """Find the begin and end entries of ``callbacks`` when they are not in its table."""
    if not isinstance(callbacks, Callback):
        msg = f"{where}(): callbacks must be a Callback or None, not {callbacks!r:.80}"
        raise UsageError(msg)
    return callbacks._cinnamon_pair(begin, end, index)


# Set on an exception, the callbacks objects its general exception hook has reached,
# so that a guarded call nested in another does not report it twice to the same ones.
_REPORTED = "_cinnamon_reported_to"


def _failed(callbacks: Callback, hookpoint: str, error: BaseException) -> None:
    """Fire the exception hooks of a guarded call that raised ``error``.

    First ``on_<x>_exception`` with the error, then the general ``on_exception`` with
    the hookpoint and the error, unless it already reached these callbacks.
    """
    fire(callbacks._cinnamon_entry(hookpoint), hookpoint, error)
    general = callbacks._cinnamon_entry(EXCEPTION)
    if general is None:
        return
    # Identities rather than the objects: the error may be pickled (sweeps send errors
    # between processes), and the callbacks are alive for as long as it propagates.
    reported: set[int] | None = getattr(error, _REPORTED, None)
    if reported is None:
        reported = set()
        with contextlib.suppress(AttributeError, TypeError):  # an exception without __dict__
            setattr(error, _REPORTED, reported)
    elif id(callbacks) in reported:
        return
    reported.add(id(callbacks))
    fire(general, EXCEPTION, {"hookpoint": hookpoint, "error": error})


def _set_up_failed(error: BaseException, begin: str) -> None:
    add_note(error, f"cinnamon: raised in setup(component=...) of the callbacks, before {begin!r}")
