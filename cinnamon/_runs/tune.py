"""tune: search a tree's space for the configuration that does best on a metric.

The driver runs in the calling process: it asks the sampler for a trial's overrides,
resolves the trial's tree (conditions checked), sends it to the executor exactly as a
sweep sends a variant (:mod:`cinnamon._runs.sweep`), and when the outcome comes back
writes its row to the results file and tells the sampler. Only the driver talks to
the sampler and writes the file, so workers need no shared database.

The results file is the study: each row carries the study's identity (a hash of the
target, the method, the metric, the direction, the sampler, the seed and the space), and
a tuning started on a file that holds rows of its study runs only the trials it has no
row for. A trial that failed has its row, so it is never run again.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, final

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.registry import BaseRegistry
from cinnamon._files.dump import dump
from cinnamon._files.formats import FORMATS
from cinnamon._runs.chart import trials_svg
from cinnamon._runs.fingerprint import fingerprint
from cinnamon._runs.pool import Pool
from cinnamon._runs.pruning import (
    Board,
    HalvingPruner,
    MedianPruner,
    Pruner,
    TrialContext,
    leave_trial,
    trial_context,
)
from cinnamon._runs.samplers import OptunaSampler, RandomSampler, Sampler, load_optuna
from cinnamon._runs.search import SearchSpace, space_of
from cinnamon._runs.sweep import check_method, outcome_of, root_key
from cinnamon._runs.worker import Job, describe_error, jsonable, run_job
from cinnamon.errors import CinnamonError, NotFoundError, StateError, UsageError

__all__ = ["Best", "Tuning", "read_tuning", "run_trial", "tune"]

Status = Literal["ok", "pruned", "error", "skipped"]
_STATUSES = ("ok", "pruned", "error", "skipped")
_DIRECTIONS = {"minimize": True, "min": True, "maximize": False, "max": False}


# -- the report ---------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Best:
    """The best trial of a tuning, as a configuration.

    Attributes:
        trial: its number.
        value: its metric.
        overrides: its values, by dotted path below the root: ``PATH=VALUE`` overrides
            of the tuned tree, as ``cinnamon run`` and :func:`~cinnamon.apply_overrides`
            take them.
        tree: the resolved tree of the trial.
        key: the key the tree is tuned under.
    """

    trial: int
    value: float
    overrides: Mapping[str, Any]
    tree: Configuration
    key: RegistrationKey

    def dump(self, path: str | os.PathLike[str]) -> Path:
        """Write the tree as a declarative file (format by suffix) and return its path.

        ``cinnamon run KEY --config PATH`` runs it as the trial ran.
        """
        file = Path(path)
        chosen = FORMATS.get(file.suffix.lower())
        if chosen is None:
            msg = f"{file}: write the best tree to a .toml, .yaml or .json file"
            raise UsageError(msg)
        file.write_text(dump(self.tree, format=chosen, key=self.key), encoding="utf-8")
        return file


@final
class Tuning:
    """What a tuning did: every trial's row, and the best of them.

    Attributes:
        results: the results file.
        rows: one row per trial of the study, in trial order (those run now and those
            already in the file).
        recorded: how many of ``rows`` were already in the file.
        seconds: the wall time of the tuning.
        metric: the metric's name (``None``: the method's result itself).
        minimize: whether lower values are better.
        space: the search space.
    """

    __slots__ = ("_key", "metric", "minimize", "recorded", "results", "rows", "seconds", "space")

    def __init__(
        self,
        *,
        results: Path,
        rows: tuple[dict[str, Any], ...],
        recorded: int,
        seconds: float,
        metric: str | None,
        minimize: bool,
        space: SearchSpace,
        key: RegistrationKey,
    ) -> None:
        self.results = results
        self.rows = rows
        self.recorded = recorded
        self.seconds = seconds
        self.metric = metric
        self.minimize = minimize
        self.space = space
        self._key = key

    def count(self, status: str) -> int:
        """The number of trials with ``status`` (``ok``, ``pruned``, ``error``, ``skipped``)."""
        return sum(1 for row in self.rows if row["status"] == status)

    def best(self) -> Best:
        """Return the trial with the best metric among those that finished ``ok``.

        Raises:
            NotFoundError: no trial finished ``ok``.
        """
        finished = [row for row in self.rows if row["status"] == "ok"]
        if not finished:
            counts = ", ".join(f"{self.count(s)} {s}" for s in _STATUSES if self.count(s))
            msg = f"no trial of {self.results} finished ok ({counts or 'no trials'})"
            raise NotFoundError(msg)
        sign = 1 if self.minimize else -1
        row = min(finished, key=lambda row: (sign * row["value"], row["trial"]))
        overrides = self.space.decode(row["overrides"])
        tree = self.space.resolve(overrides)
        return Best(row["trial"], row["value"], overrides, tree, self._key)

    def svg(self, path: str | os.PathLike[str] | None = None) -> str:
        """Draw each trial's value against its number, with the best so far, as SVG.

        Finished trials are dots, pruned ones rings (at the value they stopped at).
        Written to ``path`` too when it is given. Needs no plotting library.
        """
        label = self.metric or "value"
        title = f"{label} of each trial of {str(self._key)!r}"
        text = trials_svg(self.rows, minimize=self.minimize, label=label, title=title)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __repr__(self) -> str:
        counts = " ".join(f"{s}={self.count(s)}" for s in _STATUSES)
        return f"<Tuning of {str(self._key)!r}: {len(self.rows)} trials, {counts}>"


# -- the driver ---------------------------------------------------------------------------


def tune(
    registry: BaseRegistry,
    target: RegistrationKey | str | Configuration,
    *,
    method: str = "run",
    metric: str | None = None,
    direction: str = "minimize",
    trials: int = 20,
    sampler: Any = "random",
    seed: int = 0,
    pruner: Pruner | str | None = None,
    executor: cf.Executor | Literal["local", "dask"] | Any = None,
    workers: int | None = None,
    address: str | None = None,
    results: str | os.PathLike[str] = "tune.jsonl",
    overrides: Mapping[str, Any] | Iterable[str] = (),
    storage: str | None = None,
    progress: bool = True,
) -> Tuning:
    """Search the space of ``target``'s tree for the values that do best on ``metric``.

    The space is every field of the resolved tree declared with ``Param(search=...)``
    (or ``@search`` in a file). Each trial draws values for it, is checked like any
    tree (an invalid trial is recorded as ``skipped`` with the reason), and runs like a
    sweep's variant: built in a worker, ``method`` called, its result recorded. Each
    trial's row goes to ``results`` (JSON Lines) as it finishes: the ``study``, the
    ``trial`` number, the ``fingerprint`` of its tree, its ``overrides`` (dotted paths),
    its ``value`` (the metric), ``status`` (``ok``, ``pruned``, ``error`` or
    ``skipped``), ``seconds``, the ``finished`` time (UTC), the ``result`` and, when it
    reported any, its ``curve``. Running the same tuning again on the same file runs
    only the trials that have no row: a killed tuning resumes, and a trial that failed
    is not run again.

    Args:
        registry: where ``target`` and its references are registered.
        target: the registration (or a configuration) to tune.
        method: the method of the built component to call.
        metric: the entry of the method's result (a dict) to optimise; ``None`` if the
            method returns the number itself.
        direction: ``"minimize"`` or ``"maximize"`` (``"min"``/``"max"`` too).
        trials: how many trials the study has in all, those already recorded included.
        sampler: ``"random"`` (seeded, reproducible: trial ``n`` depends only on the
            seed and ``n``), ``"optuna-tpe"`` or an Optuna sampler (those need
            ``cinnamon[optuna]``).
        seed: the seed of the random sampler and of ``"optuna-tpe"``.
        pruner: ``None``, ``"median"``, ``"halving"``, or a :class:`~cinnamon.MedianPruner`
            or :class:`~cinnamon.HalvingPruner`; trials report to it through the
            :class:`~cinnamon.callbacks.Pruning` callback.
        executor: where trials run, as for :func:`~cinnamon.sweep`: ``None`` or
            ``"local"`` (a process pool), ``"dask"`` (at ``address``), any
            :class:`concurrent.futures.Executor`, or a ``distributed.Client``.
        workers: the size of the local process pool (default: one per CPU).
        address: the Dask scheduler's address for ``executor="dask"``.
        results: the JSON Lines file of the study (made if needed, appended to).
        overrides: fixed overrides applied to the tree before the search; a field they
            set is not searched.
        storage: an Optuna storage URL for Optuna samplers (``"sqlite:///study.db"``);
            without one the study is rebuilt from ``results`` on resume.
        progress: show a progress line on stderr (only when it is a terminal).

    Returns:
        A :class:`~cinnamon.Tuning`; ``.best()`` gives the best trial as a configuration.

    Raises:
        UsageError: arguments that do not fit together, a tree with nothing to search,
            or a missing extra.
        ConfigurationError: an unsound distribution or one its field refuses, naming
            the dotted path.
        StateError: ``results`` holds rows of another study, or lines that are not rows.
    """
    started = time.perf_counter()
    minimize = _direction(direction)
    _check_arguments(
        method=method, metric=metric, trials=trials, seed=seed, storage=storage, sampler=sampler
    )
    chosen_pruner = _pruner(pruner)
    space = space_of(registry, target, overrides)
    root = root_key(target)
    if not space.dimensions:
        msg = (
            f"{str(root)!r} has nothing to tune: no field of its tree declares a search "
            '(Param(search=...) or { "@search" = {...} } in a file)'
        )
        raise UsageError(msg)
    name = sampler if isinstance(sampler, str) else type(sampler).__name__
    study = _study_id(
        root=root,
        method=method,
        metric=metric,
        minimize=minimize,
        sampler=name,
        seed=seed,
        space=space,
        overrides=overrides,
    )
    path = Path(results)
    store = _Store(path, study)
    chosen: Sampler
    if sampler == "random":
        chosen = RandomSampler(space, seed)
    else:
        chosen = OptunaSampler(
            space,
            sampler,
            seed=seed,
            minimize=minimize,
            storage=storage,
            study_name=f"cinnamon-{study}",
            rows=store.rows,
        )
    pool = Pool.make(executor, workers, address)
    driver = _Driver(
        space=space,
        sampler=chosen,
        pool=pool,
        store=store,
        root=root,
        method=method,
        metric=metric,
        minimize=minimize,
        pruner=chosen_pruner,
        progress=_Progress(trials, enabled=progress),
    )
    recorded = len(store.rows)
    try:
        with store:
            driver.run(chosen.numbers(set(store.rows), trials))
    except BaseException:
        pool.close(abandon=True)
        raise
    finally:
        driver.progress.close()
    pool.close()
    rows = tuple(row for _, row in sorted(store.rows.items()))
    return Tuning(
        results=path,
        rows=rows,
        recorded=recorded,
        seconds=time.perf_counter() - started,
        metric=metric,
        minimize=minimize,
        space=space,
        key=root,
    )


def _direction(direction: Any) -> bool:
    if direction not in _DIRECTIONS:
        msg = f"direction must be 'minimize' or 'maximize', not {direction!r}"
        raise UsageError(msg)
    return _DIRECTIONS[direction]


def _check_arguments(
    *, method: Any, metric: Any, trials: Any, seed: Any, storage: Any, sampler: Any
) -> None:
    if not isinstance(method, str) or not method.isidentifier():
        msg = f"method must be the name of a method, not {method!r}"
        raise UsageError(msg)
    if metric is not None and (not isinstance(metric, str) or not metric):
        msg = f"metric must be the name of an entry of the method's result, or None, not {metric!r}"
        raise UsageError(msg)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        msg = f"trials must be a whole number >= 1, not {trials!r}"
        raise UsageError(msg)
    if isinstance(seed, bool) or not isinstance(seed, int):
        msg = f"seed must be a whole number, not {seed!r}"
        raise UsageError(msg)
    if sampler == "random":
        if storage is not None:
            msg = "storage is Optuna's; the random sampler keeps its study in the results file"
            raise UsageError(msg)
        return
    if sampler == "optuna-tpe":
        return
    if isinstance(sampler, str):
        msg = f"sampler must be 'random', 'optuna-tpe' or an Optuna sampler, not {sampler!r}"
        raise UsageError(msg)
    optuna = load_optuna()
    if not isinstance(sampler, optuna.samplers.BaseSampler):
        msg = f"sampler must be 'random', 'optuna-tpe' or an Optuna sampler, not {sampler!r:.60}"
        raise UsageError(msg)


def _pruner(pruner: Any) -> Pruner | None:
    if pruner is None or isinstance(pruner, Pruner):
        return pruner
    if pruner == "median":
        return MedianPruner()
    if pruner == "halving":
        return HalvingPruner()
    msg = f"pruner must be None, 'median', 'halving' or a Pruner, not {pruner!r:.60}"
    raise UsageError(msg)


def _study_id(
    *,
    root: RegistrationKey,
    method: str,
    metric: str | None,
    minimize: bool,
    sampler: str,
    seed: int,
    space: SearchSpace,
    overrides: Mapping[str, Any] | Iterable[str],
) -> str:
    fixed = dict(overrides) if isinstance(overrides, Mapping) else list(overrides)
    identity = {
        "target": str(root),
        "method": method,
        "metric": metric,
        "minimize": minimize,
        "sampler": sampler,
        "seed": seed,
        "space": space.written(),
        "overrides": jsonable(fixed),
    }
    text = json.dumps(identity, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@final
class _Task:
    __slots__ = ("alone", "digest", "job", "number", "overrides", "started", "thresholds")

    def __init__(
        self,
        number: int,
        overrides: dict[str, Any],
        digest: str | None,
        job: Job,
        thresholds: dict[int, float],
    ) -> None:
        self.number = number
        self.overrides = overrides
        self.digest = digest
        self.job = job
        self.thresholds = thresholds
        self.alone = False
        self.started = 0.0


@final
class _Driver:
    """The loop: keep the pool busy, record what returns, tell the sampler."""

    def __init__(
        self,
        *,
        space: SearchSpace,
        sampler: Sampler,
        pool: Pool,
        store: _Store,
        root: RegistrationKey,
        method: str,
        metric: str | None,
        minimize: bool,
        pruner: Pruner | None,
        progress: _Progress,
    ) -> None:
        self.space = space
        self.sampler = sampler
        self.pool = pool
        self.store = store
        self.root = root
        self.method = method
        self.metric = metric
        self.minimize = minimize
        self.pruner = pruner
        self.progress = progress
        self.board = Board()
        self.checked = False
        self.flying: dict[cf.Future[dict[str, Any]], _Task] = {}
        self.suspects: deque[_Task] = deque()  # in flight when a worker died
        if pruner is not None:
            for row in store.rows.values():
                if row["status"] in ("ok", "pruned"):
                    self.board.add(row.get("curve", ()))
        self.progress.done = len(store.rows)

    def run(self, numbers: Iterator[int]) -> None:
        exhausted = False
        while True:
            if self.suspects:  # one at a time, so that the culprit dies alone
                if not self.flying:
                    self._submit(self.suspects.popleft())
            else:
                while not exhausted and len(self.flying) < self.pool.depth:
                    number = next(numbers, None)
                    if number is None:
                        exhausted = True
                    else:
                        self._take(number)
            if not self.flying:
                if exhausted and not self.suspects:
                    return
                continue
            self._collect(cf.FIRST_COMPLETED)

    def _collect(self, when: str) -> None:
        done, _ = cf.wait(self.flying, return_when=when)
        broken = []
        for future in done:
            task = self.flying.pop(future)
            outcome = outcome_of(future)
            if outcome is None:
                broken.append(task)
            else:
                self._record(task, outcome)
        if broken:
            self._recover(broken)

    def _take(self, number: int) -> None:
        overrides = self.sampler.ask(number)
        written = self.space.encode(overrides)
        try:
            tree = self.space.resolve(overrides)
        except CinnamonError as error:
            row = self._row(number, None, written, "skipped")
            row.update(reason=str(error), seconds=0.0)
            self._finish(row)
            return
        try:
            digest: str | None = fingerprint(tree)
        except UsageError:  # no stable form: known by its overrides
            digest = None
        if not self.checked:
            check_method(tree, self.method, self.root)
            self.checked = True
        try:
            job = self.pool.job(tree, self.root, self.method, digest)
        except CinnamonError as error:  # the tree cannot be sent to another process
            row = self._row(number, digest, written, "error")
            row.update(error=describe_error(error, None), seconds=0.0)
            self._finish(row)
            return
        thresholds = (
            {}
            if self.pruner is None
            else self.pruner.thresholds(self.board, minimize=self.minimize)
        )
        self._submit(_Task(number, written, digest, job, thresholds))

    def _submit(self, task: _Task) -> None:
        task.started = time.perf_counter()
        try:
            future = self.pool.submit_call(run_trial, task.job, task.thresholds, self.minimize)
        except cf.BrokenExecutor:  # a worker died since the last look: it never ran
            self._recover([task])
            return
        self.flying[future] = task

    def _recover(self, broken: list[_Task]) -> None:
        """A worker died: every trial in flight failed with it. Find which one did it."""
        if self.flying:  # the pool's other futures fail (or finish) too
            done, _ = cf.wait(self.flying)
            for future in done:
                task = self.flying.pop(future)
                outcome = outcome_of(future)
                if outcome is None:
                    broken.append(task)
                else:
                    self._record(task, outcome)
        if not self.pool.restart():
            for task in broken:
                self._died(task, alone=False)
            msg = (
                f"the executor passed to tune() broke and cannot be remade; the trials so "
                f"far are recorded in {self.store.path}: run the tuning again with a "
                "working executor to resume it"
            )
            raise cf.BrokenExecutor(msg)
        for task in broken:
            if task.alone or len(broken) == 1:
                self._died(task, alone=True)
            else:  # run each again alone: the one that dies again is the culprit
                task.alone = True
                self.suspects.append(task)

    def _died(self, task: _Task, *, alone: bool) -> None:
        if alone:
            message = "the worker process running this trial died (it ran alone, so this did it)"
        else:
            message = "a worker process died while this trial was in flight"
        row = self._row(task.number, task.digest, task.overrides, "error")
        error = {"type": "BrokenProcessPool", "message": message, "notes": []}
        row.update(error=error, seconds=time.perf_counter() - task.started)
        self._finish(row)

    def _record(self, task: _Task, outcome: Mapping[str, Any]) -> None:
        curve = outcome.get("curve") or []
        status: Status = "error"
        row = self._row(task.number, task.digest, task.overrides, status)
        if outcome["status"] == "ok":
            row["result"] = outcome["result"]
            if outcome.get("pruned_at") is not None:
                status = "pruned"
                row["value"] = curve[-1][1]
                row["pruned_at"] = outcome["pruned_at"]
            else:
                value, problem = _metric_of(outcome["result"], self.metric, self.method)
                if problem is None:
                    status, row["value"] = "ok", value
                else:
                    row["error"] = {"type": "cinnamon.errors.NotFoundError", "message": problem}
        else:
            row["error"] = outcome["error"]
        row["status"] = status
        if curve:
            row["curve"] = curve
        seconds = outcome.get("seconds")
        row["seconds"] = time.perf_counter() - task.started if seconds is None else seconds
        if self.pruner is not None and status in ("ok", "pruned"):
            self.board.add(curve)
        self._finish(row)

    def _row(
        self, number: int, digest: str | None, written: dict[str, Any], status: Status
    ) -> dict[str, Any]:
        return {
            "study": self.store.study,
            "trial": number,
            "fingerprint": digest,
            "overrides": written,
            "method": self.method,
            "metric": self.metric,
            "value": None,
            "status": status,
        }

    def _finish(self, row: dict[str, Any]) -> None:
        row["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.store.append(row)
        self.sampler.tell(row["trial"], row)
        self.progress.advance(row, minimize=self.minimize)


def _metric_of(result: Any, metric: str | None, method: str) -> tuple[float, str | None]:
    """The trial's value from the method's result, or why there is none."""
    value = result
    if metric is not None:
        if not isinstance(result, Mapping):
            return math.nan, f"{method}() returned {result!r:.60}, which has no metric {metric!r}"
        if metric not in result:
            shown = ", ".join(map(repr, result)) or "none"
            return math.nan, f"the result of {method}() has no metric {metric!r} (it has {shown})"
        value = result[metric]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        what = f"metric {metric!r}" if metric is not None else f"result of {method}()"
        return math.nan, f"the {what} is {value!r:.60}, not a finite number"
    return float(value), None


# -- the worker's side --------------------------------------------------------------------


def run_trial(job: Job, thresholds: dict[int, float], minimize: bool) -> dict[str, Any]:
    """Run one trial in the worker, with the pruner's thresholds as its context.

    Returns the outcome of :func:`~cinnamon._runs.worker.run_job`, plus the ``curve``
    the trial reported and the step it was pruned at, if it was.
    """
    context = TrialContext(thresholds, minimize)
    token = trial_context(context)
    try:
        outcome = run_job(job)
    finally:
        leave_trial(token)
    if context.curve:
        outcome["curve"] = [list(point) for point in context.curve]
    if context.pruned_at is not None:
        outcome["pruned_at"] = context.pruned_at
    return outcome


# -- the results file ---------------------------------------------------------------------


@final
class _Store:
    """The study's rows by trial number; appended to (and flushed) row by row."""

    def __init__(self, path: Path, study: str) -> None:
        self.path = path
        self.study = study
        self.rows: dict[int, dict[str, Any]] = {}
        for row in read_tuning(path, repair=True):
            if row["study"] != study:
                msg = (
                    f"it holds trials of another study ({row['study']}, not {study}: another "
                    "target, method, metric, direction, sampler, seed or space); give this "
                    "tuning a results file of its own"
                )
                raise StateError(msg, file=str(path))
            self.rows[row["trial"]] = row
        self._file: IO[str] | None = None

    def __enter__(self) -> _Store:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8", newline="\n")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append(self, row: dict[str, Any]) -> None:
        assert self._file is not None  # noqa: S101 - only used inside the with block
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()  # the operating system has it: a killed driver loses nothing
        self.rows[row["trial"]] = row


def read_tuning(path: str | os.PathLike[str], *, repair: bool = False) -> list[dict[str, Any]]:
    """Return the rows of a tuning's results file (none if there is no file).

    A last line that is not a whole row (a kill cut it short) is ignored, and with
    ``repair`` cut off the file.

    Raises:
        StateError: a line before the last is not a row of a tuning.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return []
    rows: list[dict[str, Any]] = []
    offset = 0
    bad: tuple[int, int, str] | None = None
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        start, offset = offset, offset + len(line)
        if not line.strip(b" \t\r\n\x00"):
            continue
        if bad is not None:
            msg = f"line {bad[0]} is not a row of a tuning: {bad[2]}"
            raise StateError(msg, file=str(file))
        try:
            row = json.loads(line)
        except ValueError as error:
            bad = (number, start, f"not JSON ({error})")
            continue
        problem = _row_problem(row)
        if problem is not None:
            bad = (number, start, problem)
            continue
        rows.append(row)
    if bad is not None and repair:
        with file.open("r+b") as handle:
            handle.truncate(bad[1])
    elif data and not data.endswith(b"\n") and repair:
        with file.open("ab") as handle:
            handle.write(b"\n")
    return rows


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "not a JSON object"
    if row.get("status") not in _STATUSES:
        return f"its status is {row.get('status')!r}, not one of {', '.join(_STATUSES)}"
    trial = row.get("trial")
    if isinstance(trial, bool) or not isinstance(trial, int) or trial < 0:
        return "it has no trial number"
    if not isinstance(row.get("study"), str) or not isinstance(row.get("overrides"), dict):
        return "it has no study or no overrides"
    if row["status"] == "ok" and not isinstance(row.get("value"), (int, float)):
        return "a trial that finished ok has no value"
    return None


# -- progress -----------------------------------------------------------------------------


@final
class _Progress:
    """One line on stderr, redrawn in place: trials done, and the best value so far."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.best: float | None = None
        self.drawn = False
        try:
            self.enabled = enabled and sys.stderr.isatty()
        except (AttributeError, ValueError, OSError):
            self.enabled = False

    def advance(self, row: Mapping[str, Any], *, minimize: bool) -> None:
        self.done += 1
        value = row.get("value")
        if row["status"] == "ok" and isinstance(value, (int, float)):
            better = self.best is None or (value < self.best if minimize else value > self.best)
            self.best = value if better else self.best
        if self.enabled:
            best = "" if self.best is None else f"  best {self.best:.6g}"
            sys.stderr.write(f"\rtune {self.done}/{max(self.total, self.done)}{best}   ")
            sys.stderr.flush()
            self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
