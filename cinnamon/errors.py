"""Every exception cinnamon raises on purpose.

Each error also subclasses the built-in it really is, so ``except LookupError``
and friends keep working::

    CinnamonError
    ├── NotFoundError        (LookupError)  a pipeline child or logged metric is not there
    │   └── NotRegisteredError              a key names no registration
    ├── AlreadyRegisteredError (ValueError) the same key registered twice
    ├── InvalidKeyError      (ValueError)   a malformed key or key string
    ├── CycleError           (ValueError)   registrations (or callback orderings) in a cycle
    ├── ConfigurationError   (ValueError)   a value a configuration refuses
    ├── ConditionError       (ValueError)   a resolved tree that breaks a condition of a node
    ├── DeclarationError     (ValueError)   a declarative file that is malformed or unsafe
    │   └── InvalidValueError                a value in a file or override that is refused
    │                                          (also a ConfigurationError)
    ├── HookpointError       (ValueError)   an empty or malformed hookpoint name
    ├── StateError           (ValueError)   a saved state or sweep results file that is unreadable
    │   └── StateMismatchError              a state saved from another configuration
    └── UsageError           (TypeError)    the API called with the wrong kind of thing

Errors that concern a place in a configuration tree carry it as ``.path``, a dotted
path from the root (``trainer.callbacks[1].patience``); errors about a registration
carry its ``.key``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cinnamon._core.key import RegistrationKey

__all__ = [
    "AlreadyRegisteredError",
    "CinnamonError",
    "ConditionError",
    "ConfigurationError",
    "CycleError",
    "DeclarationError",
    "HookpointError",
    "InvalidKeyError",
    "InvalidValueError",
    "NotFoundError",
    "NotRegisteredError",
    "StateError",
    "StateMismatchError",
    "UsageError",
]


def close_matches(name: str, known: Iterable[str], *, cutoff: float = 0.6) -> list[str]:
    """Return up to three of ``known`` that look like ``name``, closest first."""
    return difflib.get_close_matches(name, list(known), n=3, cutoff=cutoff)


def did_you_mean(suggestions: Iterable[str]) -> str:
    """Word suggestions as the tail of a message: ``"; did you mean 'a' or 'b'?"``."""
    shown = [repr(str(suggestion)) for suggestion in suggestions]
    return f"; did you mean {' or '.join(shown)}?" if shown else ""


def _at(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


class CinnamonError(Exception):
    """The base of every error cinnamon raises on purpose."""


class NotFoundError(CinnamonError, LookupError):
    """Something asked for by name or position is not there.

    A pipeline asked for a child it does not have, or a callback watching a metric
    that the logs do not hold.
    """


class NotRegisteredError(NotFoundError):
    """A key (or a reference inside a configuration) names no registration.

    Attributes:
        key: the key that was looked up.
        path: where the reference stands in the tree ("" for a top-level lookup).
        suggestions: registered keys whose names are close to the missing one.
    """

    def __init__(
        self,
        key: RegistrationKey,
        *,
        path: str = "",
        suggestions: Sequence[RegistrationKey] = (),
    ) -> None:
        self.key = key
        self.path = path
        self.suggestions = tuple(suggestions)
        message = f"no registration {str(key)!r} in namespace {key.namespace!r}"
        message += did_you_mean(map(str, self.suggestions))
        super().__init__(_at(path, message))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class AlreadyRegisteredError(CinnamonError, ValueError):
    """A registration under an existing key, without ``replace=True``.

    Attributes:
        key: the key that is already taken.
    """

    def __init__(self, key: RegistrationKey) -> None:
        self.key = key
        super().__init__(f"{str(key)!r} is already registered; pass replace=True to overwrite it")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class InvalidKeyError(CinnamonError, ValueError):
    """A registration key, or its string form, that is malformed."""


class CycleError(CinnamonError, ValueError):
    """Registrations whose references lead back to themselves.

    Also raised for callbacks whose ordering constraints in a pipeline form a cycle;
    ``cycle`` then names the callbacks.

    Attributes:
        cycle: the keys on the cycle, in reference order, starting and ending with
            the same key.
    """

    def __init__(self, cycle: Sequence[RegistrationKey | str]) -> None:
        self.cycle = tuple(cycle)
        chain = " -> ".join(repr(str(key)) for key in self.cycle)
        super().__init__(f"dependency cycle: {chain}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class ConfigurationError(CinnamonError, ValueError):
    """A value that a configuration refuses.

    Wraps pydantic's ``ValidationError`` (kept as ``__cause__``) so that each problem
    reads as a dotted path from the root of the tree.

    Attributes:
        path: the dotted path of the first problem.
        errors: every problem as ``(dotted path, message)`` pairs.
    """

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = tuple(errors)
        self.path = self.errors[0][0] if self.errors else ""
        lines = [_at(path, message) for path, message in self.errors]
        super().__init__("\n".join(lines) if lines else "invalid configuration")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class ConditionError(CinnamonError, ValueError):
    """A resolved configuration tree that breaks a condition of one of its nodes.

    Conditions are methods marked with :func:`~cinnamon.condition`; they are checked on
    every resolved tree.

    Attributes:
        path: the dotted path of the node whose condition failed (``trainer.model``).
        condition: the condition's name.
        reason: what the condition said about the failure ("" when it only returned
            false).
    """

    def __init__(self, path: str, condition: str, reason: str = "") -> None:
        self.path = path
        self.condition = condition
        self.reason = reason
        message = f"condition {condition!r} failed" + (f": {reason}" if reason else "")
        super().__init__(_at(path, message))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class DeclarationError(CinnamonError, ValueError):
    """A declarative file (or command-line override) that cannot be loaded.

    Attributes:
        file: the file's path, or the ``source`` named for text (``'<text>'`` without one).
        line: the 1-based line of the problem, where it is known.
        path: the dotted path of the problem inside the file.
        reason: the problem itself, without the location.
    """

    def __init__(
        self, reason: str, *, file: str | None = None, line: int | None = None, path: str = ""
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.path = path
        where = file or "<text>"
        if line is not None:
            where += f":{line}"
        # Not super(): in InvalidValueError the next class is ConfigurationError, whose
        # constructor takes a list of problems, not a message.
        CinnamonError.__init__(self, f"{where}: {_at(path, reason)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class InvalidValueError(DeclarationError, ConfigurationError):
    """A value written in a file or an override that its configuration refuses.

    Both a :class:`DeclarationError` (it has a ``.file``, ``.line`` and ``.path``) and a
    :class:`ConfigurationError` (``.errors`` lists the problems), so code that catches
    refused values with ``except ConfigurationError`` catches these too.
    """

    def __init__(
        self, reason: str, *, file: str | None = None, line: int | None = None, path: str = ""
    ) -> None:
        super().__init__(reason, file=file, line=line, path=path)
        self.errors = ((path, reason),)

    @classmethod
    def from_declaration(cls, error: DeclarationError) -> InvalidValueError:
        """The same problem, at the same place, as a refused value."""
        return cls(error.reason, file=error.file, line=error.line, path=error.path)


class HookpointError(CinnamonError, ValueError):
    """A hookpoint name that is empty or does not start with ``on_``."""


class StateError(CinnamonError, ValueError):
    """A saved state (or a sweep's results file) that cannot be read back.

    Attributes:
        file: the file at fault.
    """

    def __init__(self, message: str, *, file: str) -> None:
        self.file = file
        super().__init__(f"{file}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class StateMismatchError(StateError):
    """A state saved from a configuration other than the component's own.

    Attributes:
        file: the state file.
        saved: the fingerprint of the configuration the state was saved from.
        current: the fingerprint of the component's configuration.
    """

    def __init__(self, *, file: str, saved: str, current: str) -> None:
        self.saved = saved
        self.current = current
        message = (
            f"the state was saved from another configuration (fingerprint {saved}); "
            f"this component's configuration has fingerprint {current}"
        )
        super().__init__(message, file=file)


class UsageError(CinnamonError, TypeError):
    """The API was handed the wrong kind of thing (a misused decorator, a wrong type)."""


def _rebuild(cls: type[CinnamonError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    # Errors must survive pickling (sweeps send them between processes); their
    # __init__ signatures differ from Exception's, so rebuild from the finished state.
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def add_note(error: BaseException, note: str) -> None:
    """Attach ``note`` to ``error`` (shown under its traceback), on every Python."""
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # pragma: no cover - Python 3.10 has no add_note; keep the note where 3.11 looks
        notes = getattr(error, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
            error.__notes__ = notes  # type: ignore[attr-defined, unused-ignore]
        notes.append(note)
