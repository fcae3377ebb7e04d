"""Samplers: where a tuning's next trial comes from, asked and told by the driver.

:class:`RandomSampler` draws trial ``n`` from a generator seeded with the tuning's seed
and ``n`` alone, so a trial's values never depend on which trials ran before it, in
which order or in which process: the same seed gives the same trials, and a resumed
tuning runs exactly the trials an uninterrupted one would have.

:class:`OptunaSampler` asks an Optuna study (``pip install "cinnamon[optuna]"``) for
each trial, defining the space as it goes (a choice's sub-tree dimensions are suggested
only when the choice picks it), and tells it each outcome. A tuning resumed without
Optuna storage replays the results file into a fresh study; with storage, the study
is loaded and the trials a killed driver left running are told they failed.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator, Mapping
from typing import Any, final

from cinnamon._core.space import Choice, IntRange, LogUniform, Uniform
from cinnamon._runs.search import Dimension, SearchSpace
from cinnamon.errors import UsageError

__all__ = ["OptunaSampler", "RandomSampler", "Sampler"]


class Sampler:
    """The interface the driver uses: trial numbers, then ask and tell."""

    #: How the sampler is named in a study's identity.
    name = ""

    def numbers(self, done: set[int], trials: int) -> Iterator[int]:
        """The numbers of the trials still to run, for a tuning of ``trials`` in all."""
        raise NotImplementedError

    def ask(self, number: int) -> dict[str, Any]:
        """Return the overrides of trial ``number``."""
        raise NotImplementedError

    def tell(self, number: int, row: Mapping[str, Any]) -> None:
        """Learn the outcome of trial ``number`` (its results row)."""


@final
class RandomSampler(Sampler):
    """Independent random draws, trial ``n`` seeded by ``(seed, n)``."""

    name = "random"

    def __init__(self, space: SearchSpace, seed: int) -> None:
        self.space = space
        self.seed = seed

    def numbers(self, done: set[int], trials: int) -> Iterator[int]:
        return (number for number in range(trials) if number not in done)

    def ask(self, number: int) -> dict[str, Any]:
        # A string seed is hashed with SHA-512, the same in every process and version.
        return self.space.sample(random.Random(f"cinnamon-tune:{self.seed}:{number}"))  # noqa: S311


@final
class OptunaSampler(Sampler):
    """An Optuna study driven by ask and tell.

    Args:
        space: the search space.
        sampler: ``"optuna-tpe"`` or an ``optuna.samplers.BaseSampler``.
        seed: the seed of the TPE sampler (``"optuna-tpe"`` only).
        minimize: the direction of the study.
        storage: an Optuna storage URL (``"sqlite:///study.db"``), or ``None`` for a study
            in memory, replayed from ``rows``.
        study_name: the study's name in the storage.
        rows: the results rows already recorded.
    """

    def __init__(
        self,
        space: SearchSpace,
        sampler: Any,
        *,
        seed: int,
        minimize: bool,
        storage: str | None,
        study_name: str,
        rows: Mapping[int, Mapping[str, Any]],
    ) -> None:
        optuna = load_optuna()
        if sampler == "optuna-tpe":
            sampler = optuna.samplers.TPESampler(seed=seed)
        self.name = sampler if isinstance(sampler, str) else type(sampler).__name__
        self.optuna = optuna
        self.space = space
        self.study = optuna.create_study(
            storage=storage,
            sampler=sampler,
            study_name=study_name,
            direction="minimize" if minimize else "maximize",
            load_if_exists=storage is not None,
        )
        self.running: dict[int, Any] = {}  # our trial number -> Optuna's trial
        states = optuna.trial.TrialState
        if storage is None:
            for row in rows.values():
                self._replay(row)
        else:  # a killed driver left these running: they never told, and never will
            for trial in self.study.get_trials(deepcopy=False, states=(states.RUNNING,)):
                self.study.tell(trial.number, state=states.FAIL)

    def numbers(self, done: set[int], trials: int) -> Iterator[int]:
        start = max(done, default=-1) + 1
        return iter(range(start, start + max(trials - len(done), 0)))

    def ask(self, number: int) -> dict[str, Any]:
        trial = self.study.ask()
        self.running[number] = trial
        return self.space.draw(lambda dimension: _suggest(trial, dimension))

    def tell(self, number: int, row: Mapping[str, Any]) -> None:
        trial = self.running.pop(number, None)
        if trial is None:
            return
        states = self.optuna.trial.TrialState
        for step, value in row.get("curve", ()):
            trial.report(value, step)
        if row["status"] == "ok":
            self.study.tell(trial, row["value"])
        elif row["status"] == "pruned":
            self.study.tell(trial, state=states.PRUNED)
        else:
            self.study.tell(trial, state=states.FAIL)

    def _replay(self, row: Mapping[str, Any]) -> None:
        optuna = self.optuna
        states = optuna.trial.TrialState
        try:
            picks = self.space.picks(row["overrides"])
        except KeyError:
            return  # not of this space: the driver refuses such files before this
        shapes = {d.name: _distribution(optuna, d) for d in self.space.dimensions}
        state = {"ok": states.COMPLETE, "pruned": states.PRUNED}.get(row["status"], states.FAIL)
        trial = optuna.trial.create_trial(
            params=picks,
            distributions={path: shapes[path] for path in picks},
            value=row["value"] if state == states.COMPLETE else None,
            intermediate_values=dict(row.get("curve", ())),
            state=state,
        )
        self.study.add_trial(trial)


def load_optuna() -> Any:
    """Import Optuna, or say which extra installs it."""
    try:
        return importlib.import_module("optuna")
    except ImportError:
        msg = 'sampler="optuna-tpe" needs Optuna; install it with: pip install "cinnamon[optuna]"'
        raise UsageError(msg) from None


def _top(distribution: IntRange) -> int:
    """The highest value on a step (Optuna wants ``high - low`` divisible by the step)."""
    return distribution.low + (distribution.high - distribution.low) // distribution.step * (
        distribution.step
    )


def _suggest(trial: Any, dimension: Dimension) -> Any:
    distribution, path = dimension.distribution, dimension.name
    if isinstance(distribution, Choice):  # the index: Optuna takes only plain choices
        return trial.suggest_categorical(path, list(range(len(distribution.choices))))
    if isinstance(distribution, IntRange):
        top = _top(distribution)
        if distribution.log:
            return trial.suggest_int(path, distribution.low, top, log=True)
        return trial.suggest_int(path, distribution.low, top, step=distribution.step)
    if isinstance(distribution, (Uniform, LogUniform)):
        log = isinstance(distribution, LogUniform)
        return trial.suggest_float(path, distribution.low, distribution.high, log=log)
    msg = f"{path}: Optuna cannot sample {distribution!r:.60}"  # pragma: no cover
    raise UsageError(msg)  # pragma: no cover


def _distribution(optuna: Any, dimension: Dimension) -> Any:
    distributions = optuna.distributions
    shape = dimension.distribution
    if isinstance(shape, Choice):
        return distributions.CategoricalDistribution(list(range(len(shape.choices))))
    if isinstance(shape, IntRange):
        if shape.log:
            return distributions.IntDistribution(shape.low, _top(shape), log=True)
        return distributions.IntDistribution(shape.low, _top(shape), step=shape.step)
    assert isinstance(shape, (Uniform, LogUniform))  # noqa: S101 - the four kinds
    return distributions.FloatDistribution(shape.low, shape.high, log=isinstance(shape, LogUniform))
