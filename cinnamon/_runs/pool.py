"""The executors that sweeps run on: threads, a local process pool, or a Dask cluster."""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, final

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.resolve import registration_of
from cinnamon._files.dump import dump
from cinnamon._runs.worker import Job, run_jobs
from cinnamon.errors import UsageError

__all__ = ["WORKER_TIMEOUT", "Pool", "mp_context"]

#: How long a sweep on a Dask cluster waits for a first worker before it gives up.
WORKER_TIMEOUT = 30.0


@final
class Pool:
    """The executor that variants run on, and how to talk to it.

    Attributes:
        depth: how many chunks of variants to keep in flight (enough to keep every
            worker busy).
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
    def make(cls, executor: Any, workers: int | None, address: str | None) -> Pool:
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
    def _dask(cls, address: str | None) -> Pool:
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
    def _from_client(cls, client: Any, *, owned: bool) -> Pool:
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
    ) -> Job:
        if self.inline:
            return Job(method, str(root), digest, tree=tree)
        text = dump(tree, format="json", key=root)
        allow = import_roots(tree)
        return Job(method, str(root), digest, text=text, allow=allow, capture=self.capture)

    def submit(self, jobs: tuple[Job, ...]) -> cf.Future[list[dict[str, Any]]]:
        """Run a chunk of jobs in one worker; the future holds one outcome per job."""
        if self._executor is None:
            self._executor = cf.ProcessPoolExecutor(self._workers, mp_context=mp_context())
        return self._executor.submit(run_jobs, jobs)

    def submit_call(self, call: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        """Run ``call(*args)`` on the executor (a tuning's trial, say)."""
        if self._executor is None:
            self._executor = cf.ProcessPoolExecutor(self._workers, mp_context=mp_context())
        return self._executor.submit(call, *args)

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


def mp_context() -> Any:
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


def import_roots(tree: Configuration) -> tuple[str, ...]:
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
