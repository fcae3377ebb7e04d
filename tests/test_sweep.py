"""sweep(): every valid variant run on an executor, recorded row by row, resumable."""

from __future__ import annotations

import concurrent.futures as cf
import io
import json
import multiprocessing
import os
import pickle
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sweep_fixtures as fx

import cinnamon._runs.journal as journal_module
import cinnamon._runs.pool as pool_module
from cinnamon import Registry, fingerprint
from cinnamon._runs.journal import read_results
from cinnamon._runs.progress import Progress
from cinnamon._runs.sweep import SweepReport, sweep
from cinnamon.errors import StateError, UsageError

FIXTURES = Path(__file__).resolve().parent
SUMS = {(1, 10): 11, (1, 20): 21, (2, 10): 12, (2, 20): 22, (3, 10): 13, (3, 20): 23}


@pytest.fixture
def registry() -> Registry:
    return fx.registry()


@pytest.fixture
def threads() -> Iterator[cf.ThreadPoolExecutor]:
    with cf.ThreadPoolExecutor(2) as pool:
        yield pool


def sums(report: SweepReport) -> dict[tuple[int, int], Any]:
    return {
        (row["overrides"]["a"], row["overrides"]["b"]): row["result"]["sum"]
        for row in report.rows
        if row["status"] == "ok"
    }


def comparable(report: SweepReport) -> list[tuple[Any, ...]]:
    """What must not depend on the executor: everything but the timings."""
    return [
        (row["index"], row["fingerprint"], row["overrides"], row["status"], row.get("result"))
        for row in report.rows
    ]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- running --------------------------------------------------------------------------------


def test_the_local_process_pool_runs_every_variant(registry: Registry, tmp_path: Path) -> None:
    results = tmp_path / "sweep.jsonl"
    report = sweep(registry, "adder", workers=2, results=results, progress=False)
    assert (report.ok, report.error, report.skipped, report.recorded) == (6, 0, 0, 0)
    assert sums(report) == SUMS
    assert report.results == results
    written = lines(results)
    assert sorted(row["index"] for row in written) == list(range(6))
    grid = registry.variants("adder")
    for row in written:
        assert list(row) == [
            "fingerprint",
            "index",
            "overrides",
            "method",
            "status",
            "result",
            "seconds",
            "host",
        ]
        assert row["host"] == socket.gethostname()
        variant = grid.variant(row["index"])
        assert row["overrides"] == dict(variant.overrides)
        assert row["fingerprint"] == fingerprint(variant.resolve())
        assert row["result"]["pair"] == [row["overrides"]["a"], row["overrides"]["b"]]
        assert row["seconds"] >= 0
    assert [row["index"] for row in report.rows] == list(range(6))


def test_components_that_do_not_pickle_are_rebuilt_in_the_workers(
    registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(TypeError, match="lock"):
        pickle.dumps(registry.build("adder"))
    report = sweep(registry, "holder", workers=2, results=tmp_path / "r.jsonl", progress=False)
    assert report.ok == 12
    assert {row["result"] for row in report.rows} == {s * k for s in SUMS.values() for k in (1, 2)}


def test_a_thread_pool_gives_the_same_rows_as_processes(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    local = sweep(registry, "holder", workers=2, results=tmp_path / "a.jsonl", progress=False)
    threaded = sweep(
        registry, "holder", executor=threads, results=tmp_path / "b.jsonl", progress=False
    )
    assert comparable(threaded) == comparable(local)
    assert not threads._shutdown  # an executor passed in is left running


def test_any_executor_can_be_passed(registry: Registry, tmp_path: Path) -> None:
    class Inline(cf.Executor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
            future: cf.Future[Any] = cf.Future()
            future.set_result(fn(*args, **kwargs))
            return future

    report = sweep(registry, "adder", executor=Inline(), results=tmp_path / "r.jsonl")
    assert sums(report) == SUMS


def test_dask_gives_the_same_rows_as_the_local_pool(registry: Registry, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    local = sweep(registry, "adder", workers=2, results=tmp_path / "local.jsonl", progress=False)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
    ) as cluster:
        by_address = sweep(
            registry,
            "adder",
            executor="dask",
            address=cluster.scheduler_address,
            results=tmp_path / "dask.jsonl",
            progress=False,
        )
        with distributed.Client(cluster, set_as_default=False) as client:
            by_client = sweep(registry, "adder", executor=client, results=tmp_path / "client.jsonl")
            assert client.status == "running"  # a client passed in is left open
            failing = fx.AdderConfig(fail_on=2)
            registry.register(failing, name="failing")
            errors = sweep(registry, "failing", executor=client, results=tmp_path / "f.jsonl")
        (tmp_path / "sweep.toml").write_text(SWEEP_FILE)
        command = cinnamon(
            "sweep", "adder", "--config", "sweep.toml", "--allow", "sweep_fixtures",
            "--executor", "dask", "--address", cluster.scheduler_address, "--results", "cli.jsonl",
            cwd=tmp_path,
        )  # fmt: skip
    assert command.returncode == 0, command.stderr
    assert "ok\t6\n" in command.stdout
    by_command = sorted(lines(tmp_path / "cli.jsonl"), key=lambda row: row["index"])
    assert [row["fingerprint"] for row in by_command] == [row["fingerprint"] for row in local.rows]
    assert [row["result"] for row in by_command] == [row["result"] for row in local.rows]
    assert comparable(by_address) == comparable(local)
    assert comparable(by_client) == comparable(local)
    assert (errors.ok, errors.error) == (4, 2)
    assert {row["error"]["message"] for row in errors.rows if row["status"] == "error"} == {
        "a=2 is unlucky"
    }


# -- failures ---------------------------------------------------------------------------------


def test_a_failing_variant_is_recorded_and_the_sweep_goes_on(
    registry: Registry, tmp_path: Path
) -> None:
    registry.register(fx.AdderConfig(fail_on=2, chatty=True), name="failing")
    report = sweep(registry, "failing", workers=2, results=tmp_path / "r.jsonl", progress=False)
    assert (report.ok, report.error) == (4, 2)
    failed = [row for row in report.rows if row["status"] == "error"]
    assert [row["overrides"]["a"] for row in failed] == [2, 2]
    error = failed[0]["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "a=2 is unlucky"
    assert error["notes"] == []
    assert "in run\n    raise ValueError(msg)\nValueError: a=2 is unlucky" in error["traceback"]
    # What the variant printed is kept with its error (and not mixed into the terminal).
    assert error["output"] == "adding 2 and 10\n"
    assert "result" not in failed[0]


def test_a_worker_that_dies_is_recorded_and_the_pool_remade(
    registry: Registry, tmp_path: Path
) -> None:
    # Variant 2 (a=2, b=10) kills its worker while others are running beside it; those
    # fail with the pool, are run again one at a time, and get their results.
    registry.register(fx.AdderConfig(die_on=12, sleep=0.2), name="dying")
    report = sweep(registry, "dying", workers=2, results=tmp_path / "r.jsonl", progress=False)
    assert (report.ok, report.error) == (5, 1)
    assert sums(report) == {pair: total for pair, total in SUMS.items() if pair != (2, 10)}
    (died,) = [row for row in report.rows if row["status"] == "error"]
    assert died["overrides"] == {"a": 2, "b": 10}
    assert died["error"]["type"] == "BrokenProcessPool"
    assert "ran alone, so this did it" in died["error"]["message"]
    assert len(lines(tmp_path / "r.jsonl")) == 6


def test_a_chunk_the_executor_cannot_run_is_sent_again_variant_by_variant(
    registry: Registry, tmp_path: Path
) -> None:
    # An executor that fails to send any chunk holding the variant a=25 (as one that
    # cannot serialise it would): that variant's row says so, and no other's does.
    refused: list[int] = []  # the size of each chunk refused

    class Picky(cf.Executor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
            future: cf.Future[Any] = cf.Future()
            if any('"a": 25,' in (job.text or "") for job in args[0]):
                refused.append(len(args[0]))
                future.set_exception(TypeError("cannot send a=25"))
            else:
                future.set_result(fn(*args, **kwargs))
            return future

    registry.register(fx.ManyConfig(), name="many")
    report = sweep(registry, "many", executor=Picky(), results=tmp_path / "r.jsonl")
    assert (report.ok, report.error) == (39, 1)
    (failed,) = [row for row in report.rows if row["status"] == "error"]
    assert failed["overrides"] == {"a": 25}
    assert failed["error"]["type"] == "TypeError"
    assert failed["error"]["message"] == "cannot send a=25"
    assert len(lines(tmp_path / "r.jsonl")) == 40
    assert refused[0] > 1  # refused in a chunk first,
    assert refused[-1] == 1  # then alone


def test_an_executor_passed_in_that_breaks_stops_the_sweep(
    registry: Registry, tmp_path: Path
) -> None:
    registry.register(fx.AdderConfig(die_on=11), name="dying")
    results = tmp_path / "r.jsonl"
    context = multiprocessing.get_context("spawn")
    with (
        cf.ProcessPoolExecutor(1, mp_context=context) as pool,
        pytest.raises(cf.BrokenExecutor, match=r"cannot be remade.*run the sweep again"),
    ):
        sweep(registry, "dying", executor=pool, results=results)
    written = lines(results)
    assert written
    assert {row["error"]["type"] for row in written} == {"BrokenProcessPool"}


def test_a_condition_that_rejects_everything_skips_every_variant(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(*_: Any, **__: Any) -> None:
        msg = "a pool was started with nothing to run"
        raise AssertionError(msg)

    monkeypatch.setattr(pool_module.cf, "ProcessPoolExecutor", no_pool)
    report = sweep(registry, "picky", results=tmp_path / "r.jsonl")
    assert (report.ok, report.error, report.skipped) == (0, 0, 6)
    for row in report.rows:
        assert row["fingerprint"] is None
        assert "result" not in row
        assert "error" not in row
        assert row["reason"] == (
            f"picky: condition 'never' failed: a={row['overrides']['a']} and "
            f"b={row['overrides']['b']} are never good enough"
        )
    # Skipped variants are recorded too, so a second run writes nothing new.
    again = sweep(registry, "picky", results=tmp_path / "r.jsonl")
    assert (again.skipped, again.recorded) == (6, 6)
    assert len(lines(tmp_path / "r.jsonl")) == 6


def test_conditions_skip_only_the_variants_they_reject(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    report = sweep(registry, "half", executor=threads, results=tmp_path / "r.jsonl")
    assert (report.ok, report.skipped) == (3, 3)
    assert {row["overrides"]["b"] for row in report.rows if row["status"] == "ok"} == {10}


def test_an_empty_grid_runs_nothing(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module.cf, "ProcessPoolExecutor", None)  # never called
    registry.register(fx.EmptyGridConfig(), name="empty")
    report = sweep(registry, "empty", results=tmp_path / "r.jsonl")
    assert report.rows == ()
    assert (report.ok, report.error, report.skipped, report.recorded) == (0, 0, 0, 0)
    assert (tmp_path / "r.jsonl").read_text() == ""


# -- resuming ---------------------------------------------------------------------------------


def test_an_interrupted_sweep_resumes_where_it_stopped(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "r.jsonl"
    ran: list[int] = []
    original = fx.Adder.run

    def counted(self: fx.Adder) -> Any:
        ran.append(self.a * 100 + self.b)
        return original(self)

    monkeypatch.setattr(fx.Adder, "run", counted)
    advance = Progress.advance
    reported = 0

    def interrupt_after_two(self: Progress, status: str) -> None:
        nonlocal reported
        advance(self, status)
        reported += 1
        if reported == 2:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(journal_module, "SYNC_SECONDS", 0.0)  # report rows as they come
        patch.setattr(Progress, "advance", interrupt_after_two)
        with (
            cf.ThreadPoolExecutor(1) as pool,
            pytest.raises(KeyboardInterrupt),
        ):
            sweep(registry, "adder", executor=pool, results=results)
    recorded = {row["overrides"]["a"] * 100 + row["overrides"]["b"] for row in lines(results)}
    # Both rows reported done are in the file; rows that came with them may be too.
    assert 2 <= len(recorded) < 6

    ran.clear()
    with cf.ThreadPoolExecutor(2) as pool:
        report = sweep(registry, "adder", executor=pool, results=results)
    assert (report.ok, report.recorded) == (6, len(recorded))
    assert not recorded & set(ran)  # nothing recorded ran again
    assert len(ran) == 6 - len(recorded)
    assert len(lines(results)) == 6
    assert sums(report) == SUMS


def test_a_torn_last_line_is_cut_off_and_its_variant_run_again(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results = tmp_path / "r.jsonl"
    sweep(registry, "adder", executor=threads, results=results)
    text = results.read_text().splitlines(keepends=True)
    torn = text[3][: len(text[3]) // 2]  # a crash in the middle of the fourth row
    results.write_text("".join(text[:3]) + torn)

    report = sweep(registry, "adder", executor=threads, results=results)
    assert (report.ok, report.recorded) == (6, 3)
    assert len(lines(results)) == 6  # every line is a whole row again
    assert sums(report) == SUMS


def test_a_row_is_reported_done_only_once_it_is_on_the_disk(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk holds what the last fsync of the results file saw; a machine that goes
    # down at any moment keeps that and nothing after it. Every row the progress bar
    # has counted as done by that moment must be in it.
    results = tmp_path / "r.jsonl"
    disk: list[bytes] = []
    real_fsync = os.fsync

    def syncing(fd: int) -> None:
        real_fsync(fd)
        disk.append(results.read_bytes())

    cuts: list[tuple[int, bytes]] = []  # rows reported done, and the disk at that moment
    advance = Progress.advance

    def reported(self: Progress, status: str) -> None:
        advance(self, status)
        cuts.append((self.done, disk[-1] if disk else b""))

    monkeypatch.setattr(os, "fsync", syncing)
    monkeypatch.setattr(Progress, "advance", reported)
    registry.register(fx.ManyConfig(), name="many")
    report = sweep(registry, "many", workers=2, results=results, progress=False)
    assert report.ok == 40
    assert len(cuts) == 40
    for done, on_disk in cuts:
        assert len(on_disk.splitlines()) >= done, "a row was reported done before its fsync"
    assert 1 <= len(disk) < 40  # synced in groups, not row by row
    assert disk[-1] == results.read_bytes()  # and all of it by the time sweep returns

    # A power cut after the tenth row was reported: the next run finds at least those.
    done, on_disk = cuts[9]
    results.write_bytes(on_disk)
    monkeypatch.setattr(Progress, "advance", advance)
    again = sweep(registry, "many", workers=2, results=results, progress=False)
    assert again.recorded >= done == 10
    assert again.ok == 40
    assert len(lines(results)) == 40


def test_a_worker_that_dies_in_a_chunk_is_found_among_the_others(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Quick variants travel several to a round trip; when one kills its worker, every
    # variant of the chunks in flight is run again alone, and only the culprit fails.
    registry.register(fx.ManyConfig(die_on=25 + 10), name="many")
    sizes: list[int] = []
    submit = pool_module.Pool.submit

    def counted(self: pool_module.Pool, jobs: tuple[Any, ...]) -> Any:
        sizes.append(len(jobs))
        return submit(self, jobs)

    monkeypatch.setattr(pool_module.Pool, "submit", counted)
    report = sweep(registry, "many", workers=2, results=tmp_path / "r.jsonl", progress=False)
    assert max(sizes) > 1  # the variants did travel in chunks
    assert (report.ok, report.error) == (39, 1)
    (died,) = [row for row in report.rows if row["status"] == "error"]
    assert died["overrides"] == {"a": 25}
    assert "ran alone, so this did it" in died["error"]["message"]
    assert sorted(row["index"] for row in lines(tmp_path / "r.jsonl")) == list(range(40))


def test_a_whole_last_row_without_its_newline_is_kept(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results = tmp_path / "r.jsonl"
    sweep(registry, "adder", executor=threads, results=results)
    text = results.read_text().splitlines()
    results.write_text("\n".join(text[:3]) + "\n\x00\x00\n" + text[3])  # and a NUL line
    report = sweep(registry, "adder", executor=threads, results=results)
    assert (report.ok, report.recorded) == (6, 4)
    assert len([line for line in results.read_text().splitlines() if line.strip("\x00")]) == 6


def test_a_file_that_is_not_a_results_file_is_refused(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text('{"epoch": 1, "loss": 0.5}\n{"epoch": 2, "loss": 0.4}\n')
    with pytest.raises(StateError, match=r"r\.jsonl: line 1 is not a row of a sweep: its status"):
        sweep(registry, "adder", executor=threads, results=results)
    results.write_text("not json\n{}\n")
    with pytest.raises(StateError, match="line 1 is not a row of a sweep: not JSON"):
        read_results(results)
    assert results.read_text() == "not json\n{}\n"  # left as it was


def test_errors_are_run_again_only_when_asked(
    registry: Registry,
    tmp_path: Path,
    threads: cf.ThreadPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = tmp_path / "r.jsonl"
    original = fx.Adder.run

    def flaky(self: fx.Adder) -> Any:
        if self.a == 3:
            msg = "flaky"
            raise RuntimeError(msg)
        return original(self)

    with monkeypatch.context() as patch:
        patch.setattr(fx.Adder, "run", flaky)
        assert sweep(registry, "adder", executor=threads, results=results).error == 2
    kept = sweep(registry, "adder", executor=threads, results=results)
    assert (kept.error, kept.recorded) == (2, 6)
    retried = sweep(registry, "adder", executor=threads, results=results, retry_errors=True)
    assert (retried.ok, retried.error, retried.recorded) == (6, 0, 4)
    assert len(lines(results)) == 8  # the retries are appended; the later row counts
    assert sweep(registry, "adder", executor=threads, results=results).ok == 6


def test_another_method_is_another_experiment(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results = tmp_path / "r.jsonl"
    sweep(registry, "adder", executor=threads, results=results)
    report = sweep(registry, "adder", method="product", executor=threads, results=results)
    assert report.recorded == 0
    assert sorted(row["result"] for row in report.rows) == sorted(a * b for a, b in SUMS)
    assert {row["method"] for row in lines(results)} == {"run", "product"}


def test_variants_with_the_same_configuration_run_once(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    registry.register(fx.TwiceConfig(), name="twice")
    report = sweep(registry, "twice", executor=threads, results=tmp_path / "r.jsonl")
    assert [(row["index"], row["result"]["sum"]) for row in report.rows] == [(0, 11), (2, 12)]
    assert report.recorded == 1
    assert len(lines(tmp_path / "r.jsonl")) == 2


# -- results and arguments --------------------------------------------------------------------


def test_results_become_json(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    report = sweep(registry, "adder", method="odd", executor=threads, results=tmp_path / "a")
    odd = {row["overrides"]["a"]: row["result"] for row in report.rows}
    assert odd[1] == [1, 2, 3]
    assert odd[2].startswith("<object object at")
    nothing = sweep(registry, "adder", method="nothing", executor=threads, results=tmp_path / "b")
    assert {row["result"] for row in nothing.rows} == {None}


def test_fixed_overrides_pin_their_fields(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    report = sweep(
        registry, "adder", overrides=["b=5"], executor=threads, results=tmp_path / "r.jsonl"
    )
    assert [row["result"]["sum"] for row in report.rows] == [6, 7, 8]
    assert [row["overrides"] for row in report.rows] == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_a_missing_method_is_refused_before_anything_runs(
    registry: Registry, tmp_path: Path
) -> None:
    results = tmp_path / "r.jsonl"
    with pytest.raises(UsageError, match="'adder' builds Adder, which has no method 'fit'"):
        sweep(registry, "adder", method="fit", results=results)
    assert results.read_text() == ""
    with pytest.raises(UsageError, match="the name of a method, not 'a b'"):
        sweep(registry, "adder", method="a b", results=results)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"executor": "dask"}, "needs the address of a running Dask scheduler"),
        ({"address": "tcp://127.0.0.1:1"}, "needs executor='dask'"),
        ({"workers": 0}, "workers must be a positive number, not 0"),
        (
            {"workers": 2, "executor": cf.ThreadPoolExecutor(1)},
            "workers sizes the local process pool",
        ),
        ({"executor": 42}, "executor must be 'local', 'dask'.*not 42"),
    ],
)
def test_arguments_that_do_not_fit_are_refused(
    registry: Registry, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        sweep(registry, "adder", results=tmp_path / "r.jsonl", **arguments)
    assert not (tmp_path / "r.jsonl").exists()


def test_dask_without_dask_says_what_to_install(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(UsageError, match=r"pip install 'cinnamon\[dask\]'"):
        sweep(registry, "adder", executor="dask", address="tcp://127.0.0.1:1")


def test_importing_cinnamon_does_not_import_dask() -> None:
    code = "import cinnamon._runs.sweep, sys; print('distributed' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# -- progress ---------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    stream = Terminal()
    with Progress(4, enabled=True, stream=stream) as bar:
        bar.advance("ok")
        bar.advance("error")
        bar.advance("recorded")
    drawn = stream.getvalue()
    assert drawn.endswith("\n")
    assert drawn.count("\n") == 1
    last = drawn.rstrip("\n").split("\r")[-1]
    assert last.startswith("sweep [###############.....] 3/4  ok 1  error 1  recorded 1  ")


def test_the_progress_bar_is_silent_when_not_a_terminal_or_turned_off() -> None:
    plain = io.StringIO()
    with Progress(2, enabled=True, stream=plain) as bar:
        bar.advance("ok")
    off = Terminal()
    with Progress(2, enabled=False, stream=off) as bar:
        bar.advance("ok")
    assert plain.getvalue() == off.getvalue() == ""


# -- the command line -------------------------------------------------------------------------

SWEEP_FILE = """\
[registrations.adder]
config = "sweep_fixtures:AdderConfig"

[registrations.failing]
config = "sweep_fixtures:AdderConfig"
[registrations.failing.fields]
fail_on = 3
"""


def cinnamon(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = shutil.which("cinnamon")
    prefix = [command] if command else [sys.executable, "-m", "cinnamon"]
    return subprocess.run(
        [*prefix, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(FIXTURES)},
        timeout=120,
        check=False,
    )


def test_the_sweep_command(tmp_path: Path) -> None:
    (tmp_path / "sweep.toml").write_text(SWEEP_FILE)
    common = ["--config", "sweep.toml", "--allow", "sweep_fixtures", "--workers", "2"]
    result = cinnamon("sweep", "adder", *common, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "status\tvariants\nok\t6\nerror\t0\nskipped\t0\n"
        "results: sweep.jsonl (6 variants, 0 recorded before)\n"
    )
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert len(lines(tmp_path / "sweep.jsonl")) == 6

    again = cinnamon("sweep", "adder", "b=7", *common, "--results", "b7.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert {row["result"]["sum"] for row in lines(tmp_path / "b7.jsonl")} == {8, 9, 10}

    failing = cinnamon("sweep", "failing", *common, "--results", "f.jsonl", cwd=tmp_path)
    assert failing.returncode == 1
    assert "ok\t4\nerror\t2\n" in failing.stdout
    assert failing.stderr.splitlines() == [
        "error variant 4 (a=3 b=10): ValueError: a=3 is unlucky",
        "error variant 5 (a=3 b=20): ValueError: a=3 is unlucky",
    ]


def test_the_sweep_command_reports_mistakes_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "sweep.toml").write_text(SWEEP_FILE)
    common = ["--config", "sweep.toml", "--allow", "sweep_fixtures"]
    result = cinnamon("sweep", "adder", *common, "--executor", "dask", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: executor='dask' needs the address")
    assert len(result.stderr.splitlines()) == 1
    typo = cinnamon("sweep", "adder", *common, "--method", "rum", cwd=tmp_path)
    assert typo.returncode == 1
    assert typo.stderr == "error: 'adder' builds Adder, which has no method 'rum'\n"
