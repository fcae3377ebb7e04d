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
import importlib
import io
import json
import math
import multiprocessing
import os
import shutil
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, TextIO, final

from pydantic_core import to_jsonable_python

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.plan import compile_plan
from cinnamon._core.registry import BaseRegistry
from cinnamon._core.resolve import registration_of
from cinnamon._files.declarative import loads
from cinnamon._files.dump import dump
from cinnamon._runs.fingerprint import fingerprint
from cinnamon._runs.variants import Variant, variants_of
from cinnamon.errors import CinnamonError, StateError, UsageError

__all__ = ["SweepReport", "sweep"]

Status = Literal["ok", "error", "skipped"]
_STATUSES = ("ok", "error", "skipped")
_TAIL = 4000  # characters of traceback and captured output kept with an error
#: How long a sweep on a Dask cluster waits for a first worker before it gives up.
WORKER_TIMEOUT = 30.0


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
    interrupted sweep again resumes it.

    Args:
        registry: where ``target`` and its references are registered.
        target: the registration (or a configuration) to sweep.
        method: the method of the built component to call; its result is recorded as
            JSON (anything JSON cannot hold as its ``repr``).
        executor: where variants run. ``None`` or ``"local"``: a process pool made for
            the sweep (remade if a worker dies). ``"dask"``: the Dask scheduler at
            ``address`` (needs ``cinnamon[dask]``; a cluster that has no worker after
            :data:`WORKER_TIMEOUT` seconds is an error). Or any
            :class:`concurrent.futures.Executor`, or a ``distributed.Client``; those
            are used as they are and not shut down.
        workers: the size of the local process pool (default: one per CPU).
        address: the scheduler's address for ``executor="dask"``.
        results: the JSON Lines file to append to (made if needed).
        overrides: applied to the tree before the variants, as for ``cinnamon run``.
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
    pool = _Pool.make(executor, workers, address)
    path = Path(results)
    try:
        variants = variants_of(registry, target, overrides)
        with _Results(path) as store, _Progress(variants.count(), enabled=progress) as bar:
            runner = _Runner(
                pool=pool,
                store=store,
                bar=bar,
                method=method,
                root=_root_key(target),
                retry_errors=retry_errors,
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

    def __init__(
        self, index: int, overrides: dict[str, Any], digest: str | None, job: _Job
    ) -> None:
        self.index = index
        self.overrides = overrides
        self.fingerprint = digest
        self.job = job
        self.alone = False  # run again alone, after a worker died
        self.started = 0.0


@final
class _Runner:
    """The sweep's loop: submit variants, keep a few in flight, record what returns."""

    def __init__(
        self,
        *,
        pool: _Pool,
        store: _Results,
        bar: _Progress,
        method: str,
        root: RegistrationKey,
        retry_errors: bool,
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
        self.flying: dict[cf.Future[dict[str, Any]], _Task] = {}
        self.suspects: deque[_Task] = deque()  # in flight when a worker died
        self.waiting: deque[_Task] = deque()  # refused by a pool that had just broken
        self.refused = False  # the pool refused a task: wait for what is in flight

    def run(self, variants: Iterator[Variant]) -> None:
        exhausted = False
        while True:
            if self.suspects:  # one at a time, so that the culprit dies alone
                if not self.flying:
                    self._submit(self.suspects.popleft())
            else:
                while not self.refused and len(self.flying) < self.pool.depth:
                    if self.waiting:
                        self._submit(self.waiting.popleft())
                        continue
                    variant = next(variants, None)
                    if variant is None:
                        exhausted = True
                        break
                    self._take(variant)
            self.refused = False
            if not self.flying:
                if exhausted and not self.suspects and not self.waiting:
                    return
                continue
            done, _ = cf.wait(self.flying, return_when=cf.FIRST_COMPLETED)
            self._collect(done)

    def _take(self, variant: Variant) -> None:
        overrides = _jsonable(dict(variant.overrides))
        tree: Configuration | None = None
        digest: str | None = None
        try:
            tree = variant.resolve()
        except CinnamonError as error:
            reason = str(error)
        else:
            with contextlib.suppress(UsageError):  # no stable form: known by its overrides
                digest = fingerprint(tree)
        identity = _identity(self.method, digest, overrides)
        known = self.store.rows.get(identity)
        if identity in self.claimed or (known is not None and not self._again(known)):
            self.recorded += 1
            if known is not None:  # as it was recorded (its index then may differ)
                self.rows[variant.index] = known
            self.bar.advance("recorded")
            return
        self.claimed.add(identity)
        if tree is None:
            row = _row(None, variant.index, overrides, self.method, "skipped")
            row["reason"] = reason
            self._finish(row)
            return
        if not self.checked:
            _check_method(tree, self.method, self.root)
            self.checked = True
        try:
            job = self.pool.job(tree, self.root, self.method, digest)
        except CinnamonError as error:  # the tree cannot be sent to another process
            row = _row(digest, variant.index, overrides, self.method, "error")
            row.update(error=_describe(error, None), seconds=0.0)
            self._finish(row)
            return
        self._submit(_Task(variant.index, overrides, digest, job))

    def _again(self, row: Mapping[str, Any]) -> bool:
        return self.retry_errors and row["status"] == "error"

    def _submit(self, task: _Task) -> None:
        task.started = time.perf_counter()
        try:
            future = self.pool.submit(task.job)
        except cf.BrokenExecutor:  # a worker died since the last look: the task never ran
            (self.suspects if task.alone else self.waiting).appendleft(task)
            self.refused = True
            if not self.flying:  # nothing in flight will report the break: recover now
                self._recover([])
            return
        self.flying[future] = task

    def _collect(self, done: Iterable[cf.Future[dict[str, Any]]]) -> None:
        broken: list[_Task] = []
        for future in done:
            task = self.flying.pop(future)
            outcome = _outcome(future)
            if outcome is None:
                broken.append(task)
            else:
                self._record(task, outcome)
        if broken:
            self._recover(broken)

    def _recover(self, broken: list[_Task]) -> None:
        """A worker died: every variant in flight failed with it. Find which one did it."""
        if self.flying:  # the rest of the pool's futures fail (or finish) too
            self._collect_all(broken)
        if not self.pool.restart():
            for task in broken:
                self._record(task, _died(task, alone=False))
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
            task = self.flying.pop(future)
            outcome = _outcome(future)
            if outcome is None:
                broken.append(task)
            else:
                self._record(task, outcome)

    def _record(self, task: _Task, outcome: Mapping[str, Any]) -> None:
        row = _row(task.fingerprint, task.index, task.overrides, self.method, outcome["status"])
        if outcome["status"] == "ok":
            row["result"] = outcome["result"]
        else:
            row["error"] = outcome["error"]
        seconds = outcome.get("seconds")
        row["seconds"] = time.perf_counter() - task.started if seconds is None else seconds
        if "host" in outcome:  # the machine it ran on: its files are there
            row["host"] = outcome["host"]
        self._finish(row)

    def _finish(self, row: dict[str, Any]) -> None:
        self.store.append(row)
        self.rows[row["index"]] = row
        self.bar.advance(row["status"])


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


def _outcome(future: cf.Future[dict[str, Any]]) -> dict[str, Any] | None:
    """What a finished future brought back; ``None`` if its executor broke."""
    try:
        return future.result()
    except cf.BrokenExecutor:
        return None
    except Exception as error:  # noqa: BLE001 - the executor failed to run it (dask, pickling)
        return {"status": "error", "error": _describe(error, None), "seconds": None}


def _died(task: _Task, *, alone: bool) -> dict[str, Any]:
    if alone:
        message = "the worker process running this variant died (it ran alone, so this did it)"
    else:
        message = "a worker process died while this variant was in flight"
    error = {"type": "BrokenProcessPool", "message": message, "notes": []}
    return {"status": "error", "error": error, "seconds": time.perf_counter() - task.started}


def _identity(method: str, digest: str | None, overrides: Any) -> tuple[str, str]:
    """What makes two rows the same experiment: the method and the configuration."""
    if digest is not None:
        return method, digest
    return method, "overrides:" + json.dumps(overrides, sort_keys=True)


def _root_key(target: RegistrationKey | str | Configuration) -> RegistrationKey:
    """The key the tree is sent under; its name is the root's path, as in the grid."""
    if isinstance(target, Configuration):
        return RegistrationKey(type(target).__name__)
    return RegistrationKey.coerce(target)


def _check_method(tree: Configuration, method: str, root: RegistrationKey) -> None:
    entry = registration_of(tree)
    component = entry.component if entry is not None else type(tree).__component__
    if isinstance(component, type) and not callable(getattr(component, method, None)):
        msg = f"{str(root)!r} builds {component.__name__}, which has no method {method!r}"
        raise UsageError(msg)


# -- executors --------------------------------------------------------------------------------


@final
class _Pool:
    """The executor that variants run on, and how to talk to it.

    Attributes:
        depth: how many variants to keep in flight (enough to keep every worker busy).
        inline: the executor runs in this process (threads), so jobs carry the tree.
        capture: each job runs alone in its process, so its output can be captured.
    """

    __slots__ = (
        "_adapter",
        "_client",
        "_executor",
        "_workers",
        "capture",
        "depth",
        "inline",
        "owned",
    )

    def __init__(
        self,
        executor: cf.Executor | None,
        *,
        workers: int,
        owned: bool,
        inline: bool = False,
        client: Any = None,
    ) -> None:
        self._executor = executor
        self._workers = workers
        self._client = client  # a Dask client the sweep made, closed at the end
        self._adapter = False  # the executor is an adapter the sweep made for a client
        self.owned = owned
        self.inline = inline
        self.capture = owned  # each worker process runs one job at a time
        self.depth = 2 * workers

    @classmethod
    def make(cls, executor: Any, workers: int | None, address: str | None) -> _Pool:
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            msg = f"workers must be a positive number, not {workers!r}"
            raise UsageError(msg)
        if address is not None and executor != "dask":
            msg = "address is the Dask scheduler's; it needs executor='dask'"
            raise UsageError(msg)
        if workers is not None and executor not in (None, "local"):
            msg = "workers sizes the local process pool; size other executors yourself"
            raise UsageError(msg)
        if executor is None or executor == "local":
            return cls(None, workers=workers or _cpus(), owned=True)
        if executor == "dask":
            return cls._dask(address)
        if isinstance(executor, cf.Executor):
            size = getattr(executor, "_max_workers", None)
            inline = isinstance(executor, cf.ThreadPoolExecutor)
            workers = size if isinstance(size, int) and size > 0 else _cpus()
            pool = cls(executor, workers=workers, owned=False, inline=inline)
            pool.capture = isinstance(executor, cf.ProcessPoolExecutor)
            return pool
        if callable(getattr(executor, "get_executor", None)):  # a distributed.Client
            return cls._from_client(executor, owned=False)
        msg = (
            "executor must be 'local', 'dask', a concurrent.futures.Executor or a "
            f"distributed.Client, not {executor!r:.80}"
        )
        raise UsageError(msg)

    @classmethod
    def _dask(cls, address: str | None) -> _Pool:
        if address is None:
            msg = (
                "executor='dask' needs the address of a running Dask scheduler "
                "(address='tcp://host:8786', or --address on the command line); or pass "
                "a distributed.Client as the executor"
            )
            raise UsageError(msg)
        try:
            distributed: Any = importlib.import_module("distributed")  # optional, slow
        except ImportError:
            msg = "executor='dask' needs Dask; install it with: pip install 'cinnamon[dask]'"
            raise UsageError(msg) from None
        client = distributed.Client(address, set_as_default=False)
        return cls._from_client(client, owned=True)

    @classmethod
    def _from_client(cls, client: Any, *, owned: bool) -> _Pool:
        try:  # tasks sent to a cluster without workers would wait for ever
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (TimeoutError, OSError):
            address = getattr(client.scheduler, "address", None) or "the scheduler"
            msg = (
                f"the Dask cluster at {address} has no workers (none joined within "
                f"{WORKER_TIMEOUT:g} s): start some with `dask worker {address}`"
            )
            if owned:
                client.close()
            raise UsageError(msg) from None
        threads = sum(client.nthreads().values()) or _cpus()
        executor = client.get_executor(pure=False)
        pool = cls(executor, workers=threads, owned=False, client=client if owned else None)
        pool.capture = False  # a Dask worker runs several tasks at once, in threads
        pool._adapter = True
        return pool

    def job(
        self, tree: Configuration, root: RegistrationKey, method: str, digest: str | None
    ) -> _Job:
        if self.inline:
            return _Job(method, str(root), digest, tree=tree)
        text = dump(tree, format="json", key=root)
        return _Job(method, str(root), digest, text=text, allow=_roots(tree), capture=self.capture)

    def submit(self, job: _Job) -> cf.Future[dict[str, Any]]:
        if self._executor is None:
            self._executor = cf.ProcessPoolExecutor(self._workers, mp_context=_context())
        return self._executor.submit(run_job, job)

    def restart(self) -> bool:
        """Replace a broken pool with a new one; ``False`` if the pool is not ours."""
        if not self.owned:
            return False
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        return True

    def close(self, *, abandon: bool = False) -> None:
        """Shut down what the sweep made, waiting for the workers unless ``abandon``.

        Of an executor passed in, only the adapter made for a Dask client is shut down.
        """
        executor, self._executor = self._executor, None
        if executor is not None and self.owned:
            executor.shutdown(wait=not abandon, cancel_futures=True)
        elif executor is not None and self._adapter:
            executor.shutdown(wait=not abandon)
        if self._client is not None:
            self._client.close()
            self._client = None


def _cpus() -> int:
    counted = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(int(counted or 1), 1)


def _context() -> Any:
    """The start method of the local pool's workers: forkserver where there is one.

    Never fork, which copies the locks of the parent's threads in whatever state they
    are. The fork server is told to import this module (after whatever it already
    preloads), so that each worker forked from it starts with cinnamon and pydantic
    imported: the first pool of a process pays for the imports once, and every later
    pool (and a pool remade after a worker died) starts in milliseconds.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # pragma: no cover - Windows
    forkserver = importlib.import_module("multiprocessing.forkserver")  # not on Windows
    context = multiprocessing.get_context("forkserver")
    server = getattr(forkserver, "_forkserver", None)
    preloaded = getattr(server, "_preload_modules", None)
    if not isinstance(preloaded, list):  # pragma: no cover - a future Python
        preloaded = ["__main__"]
    if __name__ not in preloaded:
        context.set_forkserver_preload([*preloaded, __name__])
    return context


def _roots(tree: Configuration) -> tuple[str, ...]:
    """The packages whose classes the tree names, which the worker may import."""
    roots: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [tree]
    while stack:
        value = stack.pop()
        if isinstance(value, Configuration):
            if id(value) in seen:
                continue
            seen.add(id(value))
            roots.add(type(value).__module__.partition(".")[0])
            entry = registration_of(value)
            if entry is not None and entry.component is not None:
                roots.add(str(getattr(entry.component, "__module__", "")).partition(".")[0])
            stack.extend(value.__dict__.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return tuple(sorted(roots - {"", "cinnamon"}))


# -- the worker's side ------------------------------------------------------------------------

_HOST = socket.gethostname()


@final
@dataclass(frozen=True)
class _Job:
    """What a worker needs to rebuild one variant and run it."""

    method: str
    key: str
    fingerprint: str | None
    text: str | None = None  # the resolved tree as a declarative JSON file
    allow: tuple[str, ...] = ()
    tree: Configuration | None = None  # the tree itself, for workers in this process
    capture: bool = False


def run_job(job: _Job) -> dict[str, Any]:
    """Rebuild a variant, call its method, and describe the outcome as plain data.

    Runs in the worker. Never raises for the variant's own failures: those come back
    as ``{"status": "error", "error": {...}}``, so the parent records them.
    """
    started = time.perf_counter()
    output = io.StringIO() if job.capture else None
    try:
        with _captured(output):
            result = _method(_rebuild(job), job.method)()
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the variant's failure is recorded
        seconds = time.perf_counter() - started
        described = _describe(error, output)
        return {"status": "error", "error": described, "seconds": seconds, "host": _HOST}
    seconds = time.perf_counter() - started
    return {"status": "ok", "result": _jsonable(result), "seconds": seconds, "host": _HOST}


def _method(component: Any, name: str) -> Any:
    call = getattr(component, name, None)
    if not callable(call):
        msg = f"{type(component).__name__} has no method {name!r}"
        raise UsageError(msg)
    return call


def _rebuild(job: _Job) -> Any:
    key = RegistrationKey.coerce(job.key)
    if job.tree is not None:
        return compile_plan(job.tree, key.name).run()
    registry = BaseRegistry()
    loads(registry, job.text or "", format="json", allow=job.allow)
    tree = registry.resolve(key)
    if job.fingerprint is not None and fingerprint(tree) != job.fingerprint:
        msg = (
            f"the configuration of {job.key!r} changed on its way to the worker "
            f"(fingerprint {fingerprint(tree)} instead of {job.fingerprint})"
        )
        raise UsageError(msg)
    return registry.build(key)


@contextlib.contextmanager
def _captured(output: io.StringIO | None) -> Iterator[None]:
    if output is None:
        yield
        return
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        yield


def _describe(error: BaseException, output: io.StringIO | None) -> dict[str, Any]:
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    described: dict[str, Any] = {
        "type": name,
        "message": str(error),
        "notes": [str(note) for note in getattr(error, "__notes__", ())],
    }
    if error.__traceback__ is not None:
        described["traceback"] = "".join(traceback.format_exception(error))[-_TAIL:]
    if output is not None and output.getvalue():
        described["output"] = output.getvalue()[-_TAIL:]
    return described


def _jsonable(value: Any) -> Any:
    """``value`` made of JSON types: tuples as lists, keys as strings, others by repr."""
    try:
        return to_jsonable_python(value, fallback=_fallback)
    except Exception:  # noqa: BLE001 - whatever fails to convert is recorded by repr
        return repr(value)


def _fallback(value: Any) -> Any:
    if isinstance(value, RegistrationKey):
        return f"@{value}"
    if callable(getattr(value, "tolist", None)):  # numpy arrays and scalars, duck-typed
        return value.tolist()
    if hasattr(value, "__index__"):
        return value.__index__()
    if hasattr(value, "__float__"):
        return float(value)
    return repr(value)


# -- the results file -------------------------------------------------------------------------


@final
class _Results:
    """The JSON Lines file of a sweep: read once, then appended to row by row.

    Rows are flushed to the disk one by one, so a crash loses at most the row being
    written; such a torn last line is cut off when the file is opened again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._file: IO[str] | None = None

    def __enter__(self) -> _Results:
        for row in read_results(self.path, repair=True):
            identity = _identity(row.get("method", "run"), row["fingerprint"], row["overrides"])
            self.rows[identity] = row  # a later row (a retry) wins
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8", newline="\n")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append(self, row: Mapping[str, Any]) -> None:
        assert self._file is not None  # noqa: S101 - only used inside the with block
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())


def read_results(path: str | os.PathLike[str], *, repair: bool = False) -> list[dict[str, Any]]:
    """Return the rows of a sweep's results file (none if there is no file).

    A last line that is not a whole row (a crash cut it short) is ignored, and with
    ``repair`` cut off the file, so that the next row starts on a line of its own.

    Raises:
        StateError: a line before the last is not a row of a sweep.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return []
    rows: list[dict[str, Any]] = []
    offset = 0
    bad: tuple[int, int, str] | None = None  # line number, offset and reason of a bad line
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        start, offset = offset, offset + len(line)
        if not line.strip(b" \t\r\n\x00"):
            continue
        reason = None
        try:
            row = json.loads(line)
        except ValueError as error:
            reason = f"not JSON ({error})"
        else:
            reason = _row_problem(row)
        if bad is not None:  # a bad line followed by more: not a torn last line
            msg = f"line {bad[0]} is not a row of a sweep: {bad[2]}"
            raise StateError(msg, file=str(file))
        if reason is not None:
            bad = (number, start, reason)
            continue
        rows.append(row)
    if bad is not None and repair:
        with file.open("r+b") as handle:
            handle.truncate(bad[1])
            handle.flush()
            os.fsync(handle.fileno())
    elif data and not data.endswith(b"\n") and repair:
        with file.open("ab") as handle:  # a whole row, cut before its newline
            handle.write(b"\n")
    return rows


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "not a JSON object"
    if row.get("status") not in _STATUSES:
        return f"its status is {row.get('status')!r}, not one of {', '.join(_STATUSES)}"
    if not isinstance(row.get("index"), int) or "overrides" not in row:
        return "it has no index or no overrides"
    if not (row.get("fingerprint") is None or isinstance(row.get("fingerprint"), str)):
        return "its fingerprint is not a string"
    return None


# -- progress ---------------------------------------------------------------------------------


@final
class _Progress:
    """A one-line progress bar on stderr, redrawn in place; silent when not a terminal."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.counts = dict.fromkeys((*_STATUSES, "recorded"), 0)
        self.done = 0
        self.started = time.perf_counter()
        self.width = 0

    def __enter__(self) -> _Progress:
        self._draw()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self.width:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        total = max(self.total, self.done)
        filled = round(20 * self.done / total) if total else 20
        parts = [f"sweep [{'#' * filled}{'.' * (20 - filled)}] {self.done}/{total}"]
        parts += [f"{name} {count}" for name, count in self.counts.items() if count]
        elapsed = time.perf_counter() - self.started
        parts.append(_duration(elapsed))
        ran = self.done - self.counts["recorded"]  # those found recorded took no time
        if ran and elapsed > 0:
            pace = elapsed / ran
            parts.append(f"{pace:.3g} s/variant" if pace >= 1 else f"{1 / pace:.3g} variants/s")
            if total > self.done:
                parts.append(f"eta {_duration(pace * (total - self.done))}")
        line = "  ".join(parts)
        line = line[: max(shutil.get_terminal_size().columns - 1, 1)]
        self.stream.write("\r" + line + " " * max(self.width - len(line), 0))
        self.stream.flush()
        self.width = len(line)


def _duration(seconds: float) -> str:
    if seconds < 60:  # noqa: PLR2004 - a minute
        return f"{seconds:.1f} s"
    minutes, rest = divmod(math.floor(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
