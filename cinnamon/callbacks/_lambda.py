"""LambdaCallback: hookpoints given as functions, from Python."""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType
from typing import Any

from cinnamon._hooks.callback import Callback, check_hookpoint
from cinnamon.errors import UsageError

__all__ = ["LambdaCallback"]


class LambdaCallback(Callback):
    """A callback whose hooks are functions given by keyword.

    ``LambdaCallback(on_epoch_end=lambda logs: print(logs["loss"]))`` calls the function
    with the logs (by position) at each ``on_epoch_end``; any hookpoint name may be
    given. Its ``component`` and ``save_path`` are set by :meth:`setup` as for any
    callback, so a function can reach them through the callback it closes over.

    A file cannot hold code, so this callback has no configuration: write a small
    :class:`~cinnamon.Callback` subclass with a configuration to declare one in a file.

    Args:
        hooks: ``on_<something>=function``, each function taking the logs.

    Raises:
        HookpointError: a keyword is not a hookpoint name (``on_...``).
        UsageError: a value is not callable.
    """

    def __init__(self, **hooks: Callable[[Any], object]) -> None:
        for name, function in hooks.items():
            check_hookpoint(name)
            if not callable(function):
                msg = f"LambdaCallback({name}=...) needs a function, not {function!r:.80}"
                raise UsageError(msg)
            # Bound to the callback, so that an error's note names the LambdaCallback.
            setattr(self, name, MethodType(_caller(function), self))
        self.hooks = dict(hooks)


def _caller(function: Callable[[Any], object]) -> Callable[[Any, Any], object]:
    def hook(self: Any, logs: Any) -> object:  # noqa: ARG001 - bound for the note
        return function(logs)

    return hook
