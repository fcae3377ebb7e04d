"""sweep: run a method on every valid variant of a registration, in parallel and resumably.

The parent process walks the variants, resolves each one and sends the worker what it
needs to rebuild the tree there, never a built component (those need not pickle):
threads get the resolved configuration itself, processes and clusters get it written
as a declarative file. The worker builds the tree, calls the method and sends back a
JSON form of the result or a description of the error. Each outcome is appended to a
JSON Lines results file as it arrives, which is what makes an interrupted sweep resume.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, final

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.registry import BaseRegistry
from cinnamon._core.resolve import registration_of
from cinnamon._runs.fingerprint import fingerprint
from cinnamon._runs.journal import Journal, Status, row_identity
from cinnamon._runs.pool import Pool
from cinnamon._runs.progress import Progress
from cinnamon._runs.variants import Variant, variants_of
from cinnamon._runs.worker import Job, describe_error, jsonable
from cinnamon.errors import CinnamonError, UsageError

__all__ = ["SweepReport", "check_method", "outcome_of", "root_key", "sweep"]


@final
@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep did.

    Attributes:
        results: the results file.
        rows: one row per variant of the sweep, in variant order: those run now and
            those found already recorded in the results file. Variants whose
            configuration equals another's (the same fingerprint) share its row.
        recorded: how many of ``rows`` were already in the results file (or repeat
            another variant's configuration) and were not run again.
        seconds: the wall time of the sweep.
    """

    results: Path
    rows: tuple[dict[str, Any], ...]
    recorded: int
    seconds: float

    @property
    def ok(self) -> int:
        """The number of variants whose method returned."""
        return self._count("ok")

    @property
    def error(self) -> int:
        """The number of variants that raised (or whose worker died)."""
        return self._count("error")

    @property
    def skipped(self) -> int:
        """The number of invalid variants, recorded with the reason and never run."""
        return self._count("skipped")

    def _count(self, status: Status) -> int:
        return sum(1 for row in self.rows if row["status"] == status)


def sweep(
    registry: BaseRegistry,
    target: RegistrationKey | str | Configuration,
    *,
    method: str = "run",
    executor: cf.Executor | Literal["local", "dask"] | Any = None,
    workers: int | None = None,
    address: str | None = None,
    results: str | os.PathLike[str] = "sweep.jsonl",
    overrides: Mapping[str, Any] | Iterable[str] = (),
    axes: Mapping[str, Iterable[Any]] | None = None,
    retry_errors: bool = False,
    progress: bool = True,
) -> SweepReport:
    """Build every valid variant of ``target`` and call ``method`` on each, in parallel.

    The variants are those of ``registry.variants(target, overrides=overrides)``.
    Invalid ones are recorded as ``skipped`` with the reason and never run. Each
    variant's outcome is appended to ``results`` (JSON Lines) as soon as it arrives:
    its ``fingerprint``, ``index``, ``overrides``, ``method``, ``status`` (``ok``,
    ``error`` or ``skipped``), ``result``, ``error`` or ``reason``, ``seconds``, and the
    ``host`` (the name of the machine it ran on) of each variant that ran.
    A variant that raises is recorded and the sweep goes on. Variants already in the
    file (the same fingerprint and method) are not run again, so running an
    interrupted sweep again resumes it. Rows are forced onto the disk in groups, at
    most 0.1 s after they are written, and shown as done only once they are there.

    Args:
        registry: where ``target`` and its references are registered.
        target: the registration (or a configuration) to sweep.
        method: the method of the built component to call; its result is recorded as
            JSON (anything JSON cannot hold as its ``repr``).
        executor: where variants run. ``None`` or ``"local"``: a process pool made for
            the sweep (remade if a worker dies). ``"dask"``: the Dask scheduler at
            ``address`` (needs ``cinnamon[dask]``; a cluster that has no worker after
            :data:`~cinnamon._runs.pool.WORKER_TIMEOUT` seconds is an error). Or any
            :class:`concurrent.futures.Executor`, or a ``distributed.Client``; those
            are used as they are and not shut down.
        workers: the size of the local process pool (default: one per CPU).
        address: the scheduler's address for ``executor="dask"``.
        results: the JSON Lines file to append to (made if needed).
        overrides: applied to the tree before the variants, as for ``cinnamon run``.
        axes: more fields to vary, by dotted path (see :func:`Registry.variants
            <cinnamon.Registry.variants>`); the command line's ``PATH=a,b,c``.
        retry_errors: also run again the variants recorded with an error.
        progress: show a progress bar on stderr (only when it is a terminal).

    Returns:
        A :class:`SweepReport` of every variant.

    Raises:
        UsageError: the arguments do not fit together, ``method`` is not a method of
            the component, or Dask is needed and not installed.
        StateError: ``results`` holds lines that are not rows of a sweep.
    """
    started = time.perf_counter()
    if not isinstance(method, str) or not method.isidentifier():
        msg = f"method must be the name of a method, not {method!r}"
        raise UsageError(msg)
    pool = Pool.make(executor, workers, address)
    path = Path(results)
    try:
        variants = variants_of(registry, target, overrides, axes)
        with Journal(path) as store, Progress(variants.count(), enabled=progress) as bar:
            runner = _Runner(
                pool=pool,
                store=store,
                bar=bar,
                method=method,
                root=root_key(target),
                retry_errors=retry_errors,
                total=variants.count(),
            )
            runner.run(iter(variants))
    except BaseException:
        pool.close(abandon=True)  # cancel what has not started; do not wait for the rest
        raise
    pool.close()
    rows = tuple(row for _, row in sorted(runner.rows.items()))
    return SweepReport(path, rows, runner.recorded, time.perf_counter() - started)


# -- the parent's side ----------------------------------------------------------------------


@final
class _Task:
    """A variant on its way: what to send, and what to write when it comes back."""

    __slots__ = ("alone", "fingerprint", "index", "job", "overrides", "started")

    def __init__(self, index: int, overrides: dict[str, Any], digest: str | None, job: Job) -> None:
        self.index = index
        self.overrides = overrides
        self.fingerprint = digest
        self.job = job
        self.alone = False  # run again alone, after a worker died
        self.started = 0.0


# Small variants travel in chunks, so that one round trip to a worker carries about this
# much work (as measured by the workers); larger ones travel alone.
CHUNK_SECONDS = 0.02
MAX_CHUNK = 64


@final
class _Runner:
    """The sweep's loop: submit chunks of variants, keep a few in flight, record results.

    Rows are appended to the journal as they arrive and reported (to the progress bar)
    only once the journal has synced them, so nothing shown as done can be lost.
    """

    def __init__(
        self,
        *,
        pool: Pool,
        store: Journal,
        bar: Progress,
        method: str,
        root: RegistrationKey,
        retry_errors: bool,
        total: int,
    ) -> None:
        self.pool = pool
        self.store = store
        self.bar = bar
        self.method = method
        self.root = root
        self.retry_errors = retry_errors
        self.rows: dict[int, dict[str, Any]] = {}  # index -> row, for the report
        self.recorded = 0
        self.claimed: set[tuple[str, str]] = set()  # identities seen in this sweep
        self.checked = False  # the method was looked up on the component's class
        self.flying: dict[cf.Future[list[dict[str, Any]]], list[_Task]] = {}
        self.suspects: deque[_Task] = deque()  # in flight when a worker died
        self.waiting: deque[list[_Task]] = deque()  # refused by a pool that had just broken
        self.refused = False  # the pool refused a chunk: wait for what is in flight
        self.unreported: list[str] = []  # statuses of rows appended, not yet synced
        self.left = total  # variants not taken from the grid yet
        self.timed = 0  # variants whose worker time is known, and that time in total
        self.busy = 0.0

    def run(self, variants: Iterator[Variant]) -> None:
        exhausted = False
        while True:
            if self.suspects:  # one at a time, so that the culprit dies alone
                if not self.flying:
                    self._submit([self.suspects.popleft()])
            else:
                while not self.refused and len(self.flying) < self.pool.depth:
                    if self.waiting:
                        self._submit(self.waiting.popleft())
                        continue
                    chunk = self._chunk(variants)
                    if not chunk:
                        exhausted = True
                        break
                    self._submit(chunk)
            self.refused = False
            if not self.flying:
                self._report()
                if exhausted and not self.suspects and not self.waiting:
                    return
                continue
            done, _ = cf.wait(self.flying, self.store.due(), cf.FIRST_COMPLETED)
            self._collect(done)
            if self.store.due() == 0.0:
                self._report()

    def _chunk(self, variants: Iterator[Variant]) -> list[_Task]:
        """The next variants to send together; empty when the grid is exhausted."""
        size = self._chunk_size()
        chunk: list[_Task] = []
        while len(chunk) < size:
            variant = next(variants, None)
            if variant is None:
                break
            self.left -= 1
            task = self._take(variant)
            if task is not None:
                chunk.append(task)
        return chunk

    def _chunk_size(self) -> int:
        if not self.timed:  # nothing measured yet: one at a time
            return 1
        fits = int(CHUNK_SECONDS * self.timed / max(self.busy, 1e-9))
        # Towards the end, smaller chunks keep every worker busy until the last one.
        fair = self.left // self.pool.depth
        return max(1, min(fits, fair, MAX_CHUNK))

    def _take(self, variant: Variant) -> _Task | None:
        """Resolve a variant: a task to run, or ``None`` if it needs no worker."""
        overrides = jsonable(dict(variant.overrides))
        tree: Configuration | None = None
        digest: str | None = None
        try:
            tree = variant.resolve()
        except CinnamonError as error:
            reason = str(error)
        else:
            with contextlib.suppress(UsageError):  # no stable form: known by its overrides
                digest = fingerprint(tree)
        identity = row_identity(self.method, digest, overrides)
        known = self.store.rows.get(identity)
        if identity in self.claimed or (known is not None and not self._again(known)):
            self.recorded += 1
            if known is not None:  # as it was recorded (its index then may differ)
                self.rows[variant.index] = known
            self.bar.advance("recorded")
            return None
        self.claimed.add(identity)
        if tree is None:
            row = _row(None, variant.index, overrides, self.method, "skipped")
            row["reason"] = reason
            self._finish(row)
            return None
        if not self.checked:
            check_method(tree, self.method, self.root)
            self.checked = True
        try:
            job = self.pool.job(tree, self.root, self.method, digest)
        except CinnamonError as error:  # the tree cannot be sent to another process
            row = _row(digest, variant.index, overrides, self.method, "error")
            row.update(error=describe_error(error, None), seconds=0.0)
            self._finish(row)
            return None
        return _Task(variant.index, overrides, digest, job)

    def _again(self, row: Mapping[str, Any]) -> bool:
        return self.retry_errors and row["status"] == "error"

    def _submit(self, chunk: list[_Task]) -> None:
        started = time.perf_counter()
        for task in chunk:
            task.started = started
        try:
            future = self.pool.submit(tuple(task.job for task in chunk))
        except cf.BrokenExecutor:  # a worker died since the last look: the chunk never ran
            if chunk[0].alone:
                self.suspects.appendleft(chunk[0])
            else:
                self.waiting.appendleft(chunk)
            self.refused = True
            if not self.flying:  # nothing in flight will report the break: recover now
                self._recover([])
            return
        self.flying[future] = chunk

    def _collect(self, done: Iterable[cf.Future[list[dict[str, Any]]]]) -> None:
        broken: list[_Task] = []
        for future in done:
            self._settle(future, broken)
        if broken:
            self._recover(broken)

    def _settle(self, future: cf.Future[list[dict[str, Any]]], broken: list[_Task]) -> None:
        """Record what a finished chunk brought back; gather its tasks if the pool broke."""
        chunk = self.flying.pop(future)
        outcomes = _outcomes(future, len(chunk))
        if outcomes is None:
            broken.extend(chunk)
        elif len(chunk) > 1 and future.exception() is not None:
            # The executor could not run the chunk (it failed to send it, say): send
            # each variant alone, so that what one of them did is not held against all.
            self.waiting.extend([task] for task in chunk)
        else:
            for task, outcome in zip(chunk, outcomes, strict=True):
                self._record(task, outcome)

    def _recover(self, broken: list[_Task]) -> None:
        """A worker died: every variant in flight failed with it. Find which one did it."""
        if self.flying:  # the rest of the pool's futures fail (or finish) too
            self._collect_all(broken)
        if not self.pool.restart():
            for task in broken:
                self._record(task, _died(task, alone=False))
            self._report()
            msg = (
                f"the executor passed to sweep() broke and cannot be remade; "
                f"{len(self.rows)} variants are recorded in {self.store.path}: run the "
                "sweep again with a working executor to resume it"
            )
            raise cf.BrokenExecutor(msg)
        for task in broken:
            if task.alone or len(broken) == 1:
                self._record(task, _died(task, alone=True))
            else:  # run each again alone: the one that dies again is the culprit
                task.alone = True
                self.suspects.append(task)

    def _collect_all(self, broken: list[_Task]) -> None:
        done, _ = cf.wait(self.flying)
        for future in done:
            self._settle(future, broken)

    def _record(self, task: _Task, outcome: Mapping[str, Any]) -> None:
        row = _row(task.fingerprint, task.index, task.overrides, self.method, outcome["status"])
        if outcome["status"] == "ok":
            row["result"] = outcome["result"]
        else:
            row["error"] = outcome["error"]
        seconds = outcome.get("seconds")
        if seconds is None:
            seconds = time.perf_counter() - task.started
        else:
            self.timed += 1
            self.busy += seconds
        row["seconds"] = seconds
        if "host" in outcome:  # the machine it ran on: its files are there
            row["host"] = outcome["host"]
        self._finish(row)

    def _finish(self, row: dict[str, Any]) -> None:
        self.store.append(row)
        self.rows[row["index"]] = row
        self.unreported.append(row["status"])

    def _report(self) -> None:
        """Sync the journal, then show the rows it synced as done."""
        self.store.sync()
        statuses, self.unreported = self.unreported, []
        for status in statuses:
            self.bar.advance(status)


def _row(
    digest: str | None, index: int, overrides: Any, method: str, status: Status
) -> dict[str, Any]:
    return {
        "fingerprint": digest,
        "index": index,
        "overrides": overrides,
        "method": method,
        "status": status,
    }


def outcome_of(future: cf.Future[Any]) -> Any:
    """What a finished future brought back; ``None`` if its executor broke.

    A future that the executor failed to run (Dask, pickling) brings back the error's
    description as an outcome.
    """
    try:
        return future.result()
    except cf.BrokenExecutor:
        return None
    except Exception as error:  # noqa: BLE001 - the executor failed to run it (dask, pickling)
        return {"status": "error", "error": describe_error(error, None), "seconds": None}


def _outcomes(future: cf.Future[list[dict[str, Any]]], size: int) -> list[dict[str, Any]] | None:
    """What a finished chunk brought back, one per variant; ``None`` if its executor broke."""
    outcome = outcome_of(future)
    if outcome is None or isinstance(outcome, list):
        return outcome
    return [outcome] * size  # the chunk failed as a whole


def _died(task: _Task, *, alone: bool) -> dict[str, Any]:
    if alone:
        message = "the worker process running this variant died (it ran alone, so this did it)"
    else:
        message = "a worker process died while this variant was in flight"
    error = {"type": "BrokenProcessPool", "message": message, "notes": []}
    return {"status": "error", "error": error, "seconds": time.perf_counter() - task.started}


def root_key(target: RegistrationKey | str | Configuration) -> RegistrationKey:
    """The key the tree is sent under; its name is the root's path, as in the grid."""
    if isinstance(target, Configuration):
        return RegistrationKey(type(target).__name__)
    return RegistrationKey.coerce(target)


def check_method(tree: Configuration, method: str, root: RegistrationKey) -> None:
    entry = registration_of(tree)
    component = entry.component if entry is not None else type(tree).__component__
    if isinstance(component, type) and not callable(getattr(component, method, None)):
        msg = f"{str(root)!r} builds {component.__name__}, which has no method {method!r}"
        raise UsageError(msg)
