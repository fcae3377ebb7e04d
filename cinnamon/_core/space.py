"""Search spaces: the distribution a field's value is drawn from when a tree is tuned.

A field declared with ``Param(..., search=LogUniform(1e-4, 1e-1))`` (or written
``{ "@search" = { "log_uniform" = [1e-4, 1e-1] } }`` in a file) is a **dimension** of
the tuning of any tree that holds it. Distributions are plain values: they check
themselves against the field they are given to the first time a tuning meets the class
(or when the file is loaded), never when the class is defined.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, final

from cinnamon._core.configuration import Configuration, check_variant
from cinnamon._core.key import RegistrationKey
from cinnamon.errors import ConfigurationError

__all__ = [
    "Choice",
    "Distribution",
    "IntRange",
    "LogUniform",
    "Uniform",
    "check_search",
    "declare_search",
    "declared_search",
    "distribution_from",
    "field_search",
]


class Distribution:
    """What a searched field's values are drawn from (one of the four kinds below)."""

    __slots__ = ()
    #: The name of the kind in files (``{ "@search" = { NAME = [...] } }``).
    kind: ClassVar[str] = ""

    def problem(self) -> str | None:
        """Return why this distribution holds no values, or ``None`` if it is sound."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Any:
        """Draw one value with ``rng``."""
        raise NotImplementedError

    def written(self) -> dict[str, list[Any]]:
        """The distribution as a file writes it, inside ``@search``."""
        raise NotImplementedError


def _number_problem(low: Any, high: Any, *, log: bool, integral: bool) -> str | None:
    kind = "whole numbers" if integral else "numbers"
    for bound in (low, high):
        wrong = isinstance(bound, bool) or not isinstance(bound, (int, float))
        if wrong or (integral and not isinstance(bound, int)):
            return f"the bounds must be {kind}, not {bound!r:.40}"
        if not math.isfinite(bound):
            return f"the bounds must be finite, not {bound!r}"
    if low > high:
        return f"the low bound {low!r} is above the high bound {high!r}"
    if log and low <= 0:
        return f"a log scale needs bounds above 0, and the low bound is {low!r}"
    return None


@final
@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """Floats drawn uniformly between ``low`` and ``high``."""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def problem(self) -> str | None:
        return _number_problem(self.low, self.high, log=False, integral=False)

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def written(self) -> dict[str, list[Any]]:
        return {self.kind: [self.low, self.high]}


@final
@dataclass(frozen=True, slots=True)
class LogUniform(Distribution):
    """Floats between ``low`` and ``high`` whose logarithm is uniform (both above 0)."""

    low: float
    high: float
    kind: ClassVar[str] = "log_uniform"

    def problem(self) -> str | None:
        return _number_problem(self.low, self.high, log=True, integral=False)

    def sample(self, rng: random.Random) -> float:
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(value, self.low), self.high)  # exp(log(x)) may step past a bound

    def written(self) -> dict[str, list[Any]]:
        return {self.kind: [self.low, self.high]}


@final
@dataclass(frozen=True, slots=True)
class IntRange(Distribution):
    """Whole numbers ``low``, ``low + step``, ... up to ``high`` (included if on a step).

    With ``log=True`` the logarithm of the value is uniform (``step`` must be 1).
    """

    low: int
    high: int
    step: int = 1
    log: bool = False
    kind: ClassVar[str] = "int"

    def problem(self) -> str | None:
        found = _number_problem(self.low, self.high, log=self.log, integral=True)
        if found is not None:
            return found
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 1:
            return f"the step must be a whole number of at least 1, not {self.step!r:.40}"
        if self.log and self.step != 1:
            return "a log scale takes no step (the step must be 1)"
        return None

    def sample(self, rng: random.Random) -> int:
        if self.log:
            drawn = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return min(max(math.floor(drawn), self.low), self.high)
        return self.low + self.step * rng.randrange((self.high - self.low) // self.step + 1)

    def written(self) -> dict[str, list[Any]]:
        if self.log:
            return {"log_int": [self.low, self.high]}
        bounds: list[Any] = [self.low, self.high]
        return {self.kind: bounds if self.step == 1 else [*bounds, self.step]}


@final
@dataclass(frozen=True, slots=True, init=False)
class Choice(Distribution):
    """One of ``choices``, each as likely.

    Choices may be registration keys (or inline configurations): the field then takes
    the whole sub-tree, and the searched fields inside it are dimensions of their own,
    which exist only in the trials that pick it.
    """

    choices: tuple[Any, ...]
    kind: ClassVar[str] = "choice"

    def __init__(self, choices: Sequence[Any]) -> None:
        object.__setattr__(self, "choices", _as_tuple(choices))

    def problem(self) -> str | None:
        if not isinstance(self.choices, tuple):
            return f"the choices must be a list of values, not {self.choices!r:.40}"
        if not self.choices:
            return "a choice needs at least one value, and the list is empty"
        return None

    def sample(self, rng: random.Random) -> Any:
        return self.choices[rng.randrange(len(self.choices))]

    def written(self) -> dict[str, list[Any]]:
        return {self.kind: [_written_choice(value) for value in self.choices]}


def _as_tuple(choices: Any) -> Any:
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
        return choices  # refused by problem(), with the value shown
    return tuple(choices)


def _written_choice(value: Any) -> Any:
    return {"@ref": str(value)} if isinstance(value, RegistrationKey) else value


# -- the file form ---------------------------------------------------------------------------

_KINDS = ("uniform", "log_uniform", "int", "log_int", "choice")


def distribution_from(raw: Any) -> Distribution:
    """Read the table inside ``@search`` (``{"log_uniform": [1e-4, 1e-1]}``).

    Choices are taken as they are: decode references in them first.

    Raises:
        ValueError: the table names no kind, several, or bounds of the wrong shape;
            the message says which.
    """
    if not isinstance(raw, Mapping) or len(raw) != 1:
        shown = ", ".join(map(repr, raw)) if isinstance(raw, Mapping) else type(raw).__name__
        msg = f"@search holds one of {', '.join(_KINDS)} with its values, not {shown or 'nothing'}"
        raise ValueError(msg)
    ((kind, values),) = raw.items()
    if kind not in _KINDS:
        msg = f"unknown distribution {kind!r}; choose one of {', '.join(_KINDS)}"
        raise ValueError(msg)
    if not isinstance(values, list):
        msg = f"{kind} takes a list, not {type(values).__name__}"
        raise ValueError(msg)  # noqa: TRY004 - the loader reports it at the file's line
    if kind == "choice":
        return Choice(values)
    sizes = (2, 3) if kind == "int" else (2,)
    if len(values) not in sizes:
        wanted = "[low, high] or [low, high, step]" if kind == "int" else "[low, high]"
        msg = f"{kind} takes {wanted}, not {len(values)} values"
        raise ValueError(msg)
    if kind == "uniform":
        return Uniform(*values)
    if kind == "log_uniform":
        return LogUniform(*values)
    step = values[2] if len(values) == 3 else 1  # noqa: PLR2004 - [low, high, step]
    return IntRange(values[0], values[1], step, log=kind == "log_int")


# -- distributions of fields -----------------------------------------------------------------


def check_search(cls: type[Configuration], name: str, search: Any) -> Distribution:
    """Check that ``search`` is a sound distribution whose values the field ``name`` holds.

    Returns:
        The distribution, its choices as the field holds them (a key string on a
        reference field becomes a :class:`~cinnamon.RegistrationKey`).

    Raises:
        ConfigurationError: naming the field (``SGDConfig.learning_rate``): not a
            distribution, an empty or inverted one, or values the field refuses.
    """
    where = f"{cls.__name__}.{name}"
    if not isinstance(search, Distribution):
        kinds = "Uniform, LogUniform, IntRange or Choice"
        message = f"search must be a {kinds}, not {search!r:.60}"
        raise ConfigurationError([(where, message)])
    problem = search.problem()
    if problem is not None:
        raise ConfigurationError([(where, f"search {search!r:.80}: {problem}")])
    if isinstance(search, Choice):
        checked = tuple(
            _checked(cls, name, value, index, "choice")
            for index, value in enumerate(search.choices)
        )
        return Choice(checked)
    bounded: Any = search  # one of the three ranges
    low = _checked(cls, name, bounded.low, 0, "low bound")
    _checked(cls, name, bounded.high, 1, "high bound")
    if isinstance(search, (Uniform, LogUniform)) and not isinstance(low, float):
        message = (
            f"search {search!r:.80} draws floats, and the field holds "
            f"{type(low).__name__} values; use IntRange for whole numbers"
        )
        raise ConfigurationError([(where, message)])
    return search


def _checked(cls: type[Configuration], name: str, value: Any, index: int, what: str) -> Any:
    try:
        return check_variant(cls, name, value, index)
    except ConfigurationError as error:
        # check_variant speaks of variants; here the value is a bound or a choice.
        path, message = error.errors[0]
        message = message.replace(f"variant {index}", f"the {what}", 1)
        if what == "choice":
            message = message.replace("the choice", f"choice {index}", 1)
        raise ConfigurationError([(path, f"search: {message}")]) from error


def field_search(cls: type[Configuration]) -> Mapping[str, Distribution]:
    """Map each field of ``cls`` declared with ``Param(search=...)`` to its distribution.

    Checked (and kept) the first time the class is asked.

    Raises:
        ConfigurationError: a distribution that is unsound or that its field refuses.
    """
    cached = cls.__dict__.get("_cinnamon_field_search")
    if cached is None:
        found = {
            name: check_search(cls, name, info.search)
            for name, info in cls.params().items()
            if info.search is not None
        }
        cached = MappingProxyType(found)
        type.__setattr__(cls, "_cinnamon_field_search", cached)
    return cached


def declare_search(config: Configuration, search: Mapping[str, Distribution]) -> None:
    """Attach distributions declared for fields of one registration (checked already)."""
    object.__setattr__(config, "_cinnamon_search", MappingProxyType(dict(search)))


def declared_search(config: Configuration) -> Mapping[str, Distribution] | None:
    """Return what :func:`declare_search` attached to ``config``, if anything."""
    return getattr(config, "_cinnamon_search", None)
