"""The worker's side of a sweep: rebuild one variant's tree, call the method, report."""

from __future__ import annotations

import contextlib
import io
import socket
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, final

from pydantic_core import to_jsonable_python

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.registry import BaseRegistry
from cinnamon._core.resolve import compile_plan
from cinnamon._files.declarative import loads
from cinnamon._runs.fingerprint import fingerprint
from cinnamon.errors import UsageError

__all__ = ["TAIL", "Job", "describe_error", "jsonable", "run_job", "run_jobs"]

TAIL = 4000  # characters of traceback and captured output kept with an error
_HOST = socket.gethostname()  # recorded with each outcome: its files are on that machine


@final
@dataclass(frozen=True)
class Job:
    """What a worker needs to rebuild one variant and run it."""

    method: str
    key: str
    fingerprint: str | None
    text: str | None = None  # the resolved tree as a declarative JSON file
    allow: tuple[str, ...] = ()
    tree: Configuration | None = None  # the tree itself, for workers in this process
    capture: bool = False


def run_jobs(jobs: tuple[Job, ...]) -> list[dict[str, Any]]:
    """Run a chunk of variants one after the other: one round trip for all of them."""
    return [run_job(job) for job in jobs]


def run_job(job: Job) -> dict[str, Any]:
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
        described = describe_error(error, output)
        return {"status": "error", "error": described, "seconds": seconds, "host": _HOST}
    seconds = time.perf_counter() - started
    return {"status": "ok", "result": jsonable(result), "seconds": seconds, "host": _HOST}


def _method(component: Any, name: str) -> Any:
    call = getattr(component, name, None)
    if not callable(call):
        msg = f"{type(component).__name__} has no method {name!r}"
        raise UsageError(msg)
    return call


def _rebuild(job: Job) -> Any:
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
    return compile_plan(tree, key.name).run()  # what registry.build(key) would resolve again


@contextlib.contextmanager
def _captured(output: io.StringIO | None) -> Iterator[None]:
    if output is None:
        yield
        return
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        yield


def describe_error(error: BaseException, output: io.StringIO | None) -> dict[str, Any]:
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
        described["traceback"] = "".join(traceback.format_exception(error))[-TAIL:]
    if output is not None and output.getvalue():
        described["output"] = output.getvalue()[-TAIL:]
    return described


def jsonable(value: Any) -> Any:
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
