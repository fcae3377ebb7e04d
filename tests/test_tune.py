"""tune(): trials drawn from a tree's space, run on an executor, recorded, resumable."""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import tune_fixtures as fx

from cinnamon import (
    Configuration,
    HalvingPruner,
    MedianPruner,
    Registry,
    apply_overrides,
    fingerprint,
    tune,
)
from cinnamon._runs.pruning import Board, TrialContext, leave_trial, trial_context
from cinnamon._runs.tune import read_tuning
from cinnamon.callbacks import Pruning
from cinnamon.errors import NotFoundError, StateError, UsageError

FIXTURES = Path(__file__).resolve().parent
ROW_KEYS = {
    "study", "trial", "fingerprint", "overrides", "method", "metric", "value", "status",
    "seconds", "finished",
}  # fmt: skip


@pytest.fixture
def registry() -> Registry:
    return fx.registry()


@pytest.fixture
def threads() -> Iterator[cf.ThreadPoolExecutor]:
    with cf.ThreadPoolExecutor(2) as pool:
        yield pool


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def trials_of(rows: Any) -> list[tuple[int, Any]]:
    return [(row["trial"], row["overrides"]) for row in rows]


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


# -- running ------------------------------------------------------------------------------


def test_every_trial_row_carries_its_tree_values_metric_status_and_time(
    registry: Registry, tmp_path: Path
) -> None:
    results = tmp_path / "r.jsonl"
    report = tune(
        registry, "bowl", metric="loss", trials=12, workers=2, results=results, progress=False
    )
    assert (report.count("ok"), len(report.rows), report.recorded) == (12, 12, 0)
    assert sorted(trials_of(lines(results))) == trials_of(report.rows)
    for row in report.rows:
        assert set(row) >= ROW_KEYS
        assert set(row["overrides"]) == {"x", "y"}
        x, y = row["overrides"]["x"], row["overrides"]["y"]
        assert 0.0 <= x <= 1.0 and y in {1, 3, 5, 7, 9}  # noqa: PT018
        assert row["value"] == pytest.approx((x - 0.3) ** 2 + (y - 4) ** 2 / 10)
        tree = apply_overrides(registry.resolve("bowl"), row["overrides"])
        assert row["fingerprint"] == fingerprint(tree)
        assert row["seconds"] >= 0.0
        assert time.strptime(row["finished"], "%Y-%m-%dT%H:%M:%SZ")
    assert len({row["study"] for row in report.rows}) == 1


def test_the_best_trial_is_a_configuration_that_cinnamon_run_accepts(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    report = tune(
        registry, "bowl", metric="loss", trials=20, executor=threads, results=tmp_path / "r.jsonl"
    )
    best = report.best()
    assert best.value == min(row["value"] for row in report.rows)
    assert best.overrides == next(r["overrides"] for r in report.rows if r["trial"] == best.trial)
    assert isinstance(best.tree, fx.BowlConfig)
    assert (best.tree.x, best.tree.y) == (best.overrides["x"], best.overrides["y"])
    written = best.dump(tmp_path / "best.toml")
    command = cinnamon(
        "run", "bowl", "--config", "best.toml", "--allow", "tune_fixtures", cwd=tmp_path
    )
    assert command.returncode == 0, command.stderr
    assert json.loads(command.stdout)["loss"] == pytest.approx(best.value)
    assert written.read_text().count("x = ") == 1
    with pytest.raises(
        UsageError, match=r"best\.txt: write the best tree to a \.toml, \.yaml or \.json file"
    ):
        best.dump(tmp_path / "best.txt")
    maximised = tune(
        registry, "bowl", method="score", direction="maximize", trials=10, executor=threads,
        results=tmp_path / "score.jsonl",
    )  # fmt: skip
    assert maximised.best().value == max(row["value"] for row in maximised.rows)


def test_the_same_seed_gives_the_same_trials_in_another_process(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    here = tune(
        registry,
        "net",
        metric="loss",
        trials=15,
        seed=7,
        executor=threads,
        results=tmp_path / "here.jsonl",
    )
    code = (
        "import json, sys, tune_fixtures\n"
        "if __name__ == '__main__':\n"
        "    print(json.dumps(tune_fixtures.tune_in_this_process(sys.argv[1], 15, 7)))\n"
    )
    script = tmp_path / "other.py"
    script.write_text(code)
    other = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "there.jsonl")],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(FIXTURES), "PYTHONHASHSEED": "12345"},
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    there = json.loads(other.stdout)
    assert [[r["trial"], r["overrides"], r["status"]] for r in here.rows] == there
    # Both kinds of body were drawn, and some trials broke the condition.
    assert {row["overrides"]["body"] for row in here.rows} == {"@shallow", "@deep"}
    assert here.count("skipped") >= 1
    reseeded = tune(
        registry,
        "net",
        metric="loss",
        trials=15,
        seed=8,
        executor=threads,
        results=tmp_path / "8.jsonl",
    )
    assert trials_of(reseeded.rows) != trials_of(here.rows)


def test_a_trial_that_breaks_a_condition_is_skipped_with_the_reason(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    report = tune(
        registry, "net", metric="loss", trials=30, executor=threads, results=tmp_path / "r.jsonl"
    )
    skipped = [row for row in report.rows if row["status"] == "skipped"]
    assert skipped
    for row in skipped:
        assert (row["overrides"]["body"], row["overrides"]["width"]) == ("@deep", 16)
        assert (
            "condition 'deep nets are narrow' failed: a deep body takes a width of at most 8"
            in row["reason"]
        )
        assert row["fingerprint"] is None
    for row in report.rows:
        if row["status"] == "ok":
            kind = "Deep" if row["overrides"]["body"] == "@deep" else "Shallow"
            assert row["result"]["kind"] == kind
            assert row["value"] == row["overrides"]["body.depth"] + row["overrides"]["width"]


# -- failures and resuming ----------------------------------------------------------------


def test_a_crashing_trial_is_recorded_and_never_run_again(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    registry.register(fx.BowlConfig(fail_below=0.3, marks=str(marks)), name="fragile")
    results = tmp_path / "r.jsonl"
    report = tune(registry, "fragile", metric="loss", trials=10, executor=threads, results=results)
    failed = [row for row in report.rows if row["status"] == "error"]
    assert failed and report.count("ok") == 10 - len(failed)  # noqa: PT018
    for row in failed:
        assert row["overrides"]["x"] < 0.3
        assert row["error"]["type"] == "ValueError"
        assert "is too small" in row["error"]["message"]
        assert "Traceback" in row["error"]["traceback"]
        assert row["value"] is None
    ran = len(list(marks.iterdir()))
    again = tune(registry, "fragile", metric="loss", trials=10, executor=threads, results=results)
    assert len(list(marks.iterdir())) == ran  # nothing ran again, failures included
    assert (again.recorded, len(again.rows)) == (10, 10)
    more = tune(registry, "fragile", metric="loss", trials=13, executor=threads, results=results)
    assert (more.recorded, len(more.rows), len(lines(results))) == (10, 13, 13)
    assert len(list(marks.iterdir())) == ran + 3


def test_a_trial_that_kills_its_worker_is_recorded_and_the_pool_remade(
    registry: Registry, tmp_path: Path
) -> None:
    registry.register(fx.BowlConfig(die_below=0.3, sleep=0.1), name="deadly")
    report = tune(
        registry,
        "deadly",
        metric="loss",
        trials=12,
        workers=2,
        results=tmp_path / "r.jsonl",
        progress=False,
    )
    died = [row for row in report.rows if row["status"] == "error"]
    assert {row["trial"] for row in died} == {
        row["trial"] for row in report.rows if row["overrides"]["x"] < 0.3
    }
    assert died, "the seed draws no x below 0.3: pick another threshold"
    for row in died:
        assert row["error"]["type"] == "BrokenProcessPool"
        assert "ran alone, so this did it" in row["error"]["message"]
    assert report.count("ok") == 12 - len(died)


def test_an_executor_passed_in_that_breaks_stops_the_tuning(
    registry: Registry, tmp_path: Path
) -> None:
    import multiprocessing

    registry.register(fx.BowlConfig(die_below=2.0), name="deadly")
    results = tmp_path / "r.jsonl"
    context = multiprocessing.get_context("spawn")
    with (
        cf.ProcessPoolExecutor(1, mp_context=context) as pool,
        pytest.raises(cf.BrokenExecutor, match=r"cannot be remade.*run the tuning again"),
    ):
        tune(registry, "deadly", metric="loss", trials=4, executor=pool, results=results)
    assert {row["error"]["type"] for row in lines(results)} == {"BrokenProcessPool"}


KILLED_SCRIPT = """
import sys
import cinnamon, tune_fixtures

if __name__ == "__main__":
    registry = tune_fixtures.registry()
    registry.register(tune_fixtures.BowlConfig(sleep=0.25, marks=sys.argv[2]), name="slow")
    cinnamon.tune(registry, "slow", metric="loss", trials=12, workers=2, results=sys.argv[1])
"""


def test_a_killed_tuning_resumes_where_it_stopped(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results, marks = tmp_path / "killed.jsonl", tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "killed.py"
    script.write_text(KILLED_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), str(results), str(marks)],
        env={**os.environ, "PYTHONPATH": str(FIXTURES)},
        start_new_session=True,  # its own process group: the kill takes its workers too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while len(read_tuning(results)) < 3:
            if process.poll() is not None:
                pytest.fail(f"the tuning ended before it was killed: {process.stderr.read()!r}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("the tuning wrote fewer than 3 rows in 60 s")
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stderr.close()  # type: ignore[union-attr]
    before = read_tuning(results)
    assert 3 <= len(before) < 12, "the kill came too late to test a resume"
    ran_before = {path.name for path in marks.iterdir()}

    def key(row: dict[str, Any]) -> str:
        return f"{row['overrides']['x']!r}-{row['overrides']['y']}"

    registry.register(fx.BowlConfig(sleep=0.0, marks=str(marks)), name="slow")
    report = tune(registry, "slow", metric="loss", trials=12, executor=threads, results=results)
    assert report.recorded == len(before)
    assert report.count("ok") == 12
    assert len(read_tuning(results)) == 12  # one row per trial, none twice
    # The recorded trials did not run again; the rest ran once each.
    ran_now = sorted(
        name.rsplit("-", 1)[0] for name in {p.name for p in marks.iterdir()} - ran_before
    )
    assert ran_now == sorted({key(row) for row in report.rows} - {key(row) for row in before})
    # And the resumed study is the one an uninterrupted tuning makes.
    whole = tune(
        registry,
        "slow",
        metric="loss",
        trials=12,
        executor=threads,
        results=tmp_path / "whole.jsonl",
    )
    assert [(t, o) for t, o in trials_of(report.rows)] == trials_of(whole.rows)


def test_a_torn_last_line_is_cut_off_and_its_trial_run_again(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results = tmp_path / "r.jsonl"
    tune(registry, "bowl", metric="loss", trials=4, executor=threads, results=results)
    text = results.read_text()
    results.write_text(text + text.splitlines()[0][:30])
    report = tune(registry, "bowl", metric="loss", trials=5, executor=threads, results=results)
    assert (report.recorded, len(lines(results))) == (4, 5)


def test_a_results_file_of_another_study_or_of_something_else_is_refused(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    results = tmp_path / "r.jsonl"
    tune(registry, "bowl", metric="loss", trials=2, executor=threads, results=results)
    with pytest.raises(
        StateError,
        match=r"r\.jsonl: it holds trials of another study .*give this tuning a results file of its own",
    ):
        tune(registry, "bowl", metric="loss", trials=2, seed=1, executor=threads, results=results)
    with pytest.raises(StateError, match=r"another study"):
        tune(registry, "bowl", metric="x", trials=2, executor=threads, results=results)
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"status": "ok"}\n{"also": "not a row"}\n')
    with pytest.raises(
        StateError, match=r"junk\.jsonl: line 1 is not a row of a tuning: it has no trial number"
    ):
        tune(registry, "bowl", metric="loss", executor=threads, results=junk)
    sweep_rows = tmp_path / "sweep.jsonl"
    sweep_rows.write_text('{"status": "ok", "index": 0, "overrides": {}}\n{"status": "ok"}\n')
    with pytest.raises(StateError, match=r"line 1 is not a row of a tuning"):
        read_tuning(sweep_rows)


# -- metrics ------------------------------------------------------------------------------


def test_a_missing_or_unusable_metric_is_an_error_of_the_trial(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    missing = tune(
        registry, "bowl", metric="los", trials=2, executor=threads, results=tmp_path / "a.jsonl"
    )
    assert missing.count("error") == 2
    message = missing.rows[0]["error"]["message"]
    assert message == "the result of run() has no metric 'los' (it has 'loss', 'x')"
    scalar = tune(
        registry,
        "bowl",
        method="score",
        metric="loss",
        trials=1,
        executor=threads,
        results=tmp_path / "b.jsonl",
    )
    assert "score() returned" in scalar.rows[0]["error"]["message"]
    text = tune(
        registry, "bowl", method="text", trials=1, executor=threads, results=tmp_path / "c.jsonl"
    )
    assert (
        text.rows[0]["error"]["message"]
        == "the result of text() is 'not a number', not a finite number"
    )
    with pytest.raises(NotFoundError, match=r"no trial of .*c\.jsonl finished ok \(1 error\)"):
        text.best()


# -- pruning ------------------------------------------------------------------------------


def test_pruning_stops_hopeless_trials_early(registry: Registry, tmp_path: Path) -> None:
    with cf.ThreadPoolExecutor(1) as pool:
        report = tune(
            registry, "fitter", metric="val_loss", trials=12, executor=pool,
            pruner=MedianPruner(startup=1), results=tmp_path / "r.jsonl",
        )  # fmt: skip
    pruned = [row for row in report.rows if row["status"] == "pruned"]
    finished = [row for row in report.rows if row["status"] == "ok"]
    assert pruned and finished  # noqa: PT018
    for row in pruned:  # stopped at the epoch it was judged, well before the last
        assert row["result"]["epochs"] == row["pruned_at"] < 8
        assert len(row["curve"]) == row["pruned_at"]
        assert row["value"] == row["curve"][-1][1]
        assert row["overrides"]["rate"] != 10.0  # the fast learner is never pruned
    for row in finished:
        assert row["result"]["epochs"] == 8
        assert [step for step, _ in row["curve"]] == list(range(1, 9))
    assert report.best().overrides["rate"] == 10.0
    picture = report.svg(tmp_path / "trials.svg")
    assert (tmp_path / "trials.svg").read_text() == picture
    root = ET.fromstring(picture)  # noqa: S314 - our own output; parsing proves it well-formed
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    rings = [c for c in circles if c.get("fill") == "none"]
    assert len(circles) - len(rings) == len(finished) + 1  # and one in the legend
    assert len(rings) == len(pruned) + 1
    assert "val_loss of each trial of 'fitter'" in picture


def test_successive_halving_prunes_at_its_rungs_only(registry: Registry, tmp_path: Path) -> None:
    with cf.ThreadPoolExecutor(1) as pool:
        report = tune(
            registry, "fitter", metric="val_loss", trials=12, executor=pool,
            pruner=HalvingPruner(min_steps=2, reduction=2), results=tmp_path / "r.jsonl",
        )  # fmt: skip
    pruned = [row for row in report.rows if row["status"] == "pruned"]
    assert pruned
    assert {row["pruned_at"] for row in pruned} <= {2, 4, 8}


def test_the_pruners_thresholds() -> None:
    board = Board()
    for curve in ([(1, 1.0), (2, 0.5)], [(1, 3.0), (2, 0.7)], [(1, 2.0)]):
        board.add(curve)
    assert MedianPruner(startup=4).thresholds(board, minimize=True) == {}
    assert MedianPruner(startup=3).thresholds(board, minimize=True) == {1: 2.0, 2: 0.6}
    assert MedianPruner(startup=0, warmup=1).thresholds(board, minimize=True) == {2: 0.6}
    halving = HalvingPruner(min_steps=1, reduction=2)
    # Rungs 1, 2, 4...; at each, the trial must beat the kept fraction of n + 1 values.
    assert halving.thresholds(board, minimize=True) == {1: 2.0, 2: 0.5}
    assert halving.thresholds(board, minimize=False) == {1: 2.0, 2: 0.7}
    context = TrialContext({1: 2.0}, minimize=True)
    assert not context.report(1, 1.5)
    assert context.report(1, 2.5)
    assert not context.report(3, 100.0)  # no threshold at that step
    assert context.pruned_at == 1
    assert TrialContext({1: 2.0}, minimize=False).report(1, 1.5)
    assert TrialContext({1: 2.0}, minimize=True).report(1, float("nan"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MedianPruner(startup=-1), r"MedianPruner: startup must be a whole number >= 0"),
        (lambda: MedianPruner(warmup=1.5), r"warmup must be a whole number >= 0, not 1\.5"),
        (lambda: HalvingPruner(min_steps=0), r"min_steps must be a whole number >= 1"),
        (lambda: HalvingPruner(reduction=1), r"reduction must be a whole number >= 2"),
    ],
)
def test_pruners_refuse_bad_settings(make: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make()


class Loop:
    def __init__(self) -> None:
        self.stop_training = False


def test_the_pruning_callback_does_nothing_outside_a_trial() -> None:
    callback = Pruning("val_loss")
    callback.setup(component=Loop())
    callback.on_fit_begin()
    callback.on_epoch_end({"epoch": 1})  # no metric: outside a trial nobody asks
    assert callback.component.stop_training is False  # type: ignore[union-attr]


def test_the_pruning_callback_inside_a_trial() -> None:
    callback = Pruning("val_loss")
    loop = Loop()
    callback.setup(component=loop)
    token = trial_context(TrialContext({2: 0.5}, minimize=True))
    try:
        callback.on_fit_begin()
        callback.on_epoch_end({"epoch": 1, "val_loss": 0.9})
        assert not loop.stop_training
        callback.on_epoch_end({"val_loss": 0.8})  # counted: the second epoch
        assert loop.stop_training
        with pytest.raises(
            NotFoundError,
            match=r"Pruning\(monitor='val_loss'\): the logs of epoch 3 have no metric 'val_loss' \(they have 'loss'\)",
        ):
            callback.on_epoch_end({"epoch": 3, "loss": 1.0})
        with pytest.raises(UsageError, match=r"the metric of epoch 4 is 'high', not a number"):
            callback.on_epoch_end({"epoch": 4, "val_loss": "high"})
        hostless = Pruning()
        hostless.setup(component=object())
        with pytest.raises(
            UsageError, match=r"stops a trial through its component's stop_training"
        ):
            hostless.on_fit_begin()
    finally:
        leave_trial(token)
    with pytest.raises(Exception, match=r"monitor"):
        Pruning("")


# -- other executors and samplers ---------------------------------------------------------


def test_dask_runs_trials_and_prunes_them_too(registry: Registry, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with cf.ThreadPoolExecutor(1) as pool:
        local = tune(
            registry, "bowl", metric="loss", trials=8, executor=pool, results=tmp_path / "l.jsonl"
        )
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
            protocol="tcp", dashboard_address=":0",  # any free port: 8787 may be taken
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):  # fmt: skip
        remote = tune(
            registry, "bowl", metric="loss", trials=8, executor=client, results=tmp_path / "d.jsonl"
        )
        pruned = tune(
            registry, "fitter", metric="val_loss", trials=10, executor=client,
            pruner=MedianPruner(startup=1), results=tmp_path / "p.jsonl",
        )  # fmt: skip
    assert [(r["trial"], r["fingerprint"], r["value"]) for r in remote.rows] == [
        (r["trial"], r["fingerprint"], r["value"]) for r in local.rows
    ]
    assert pruned.count("pruned") >= 1
    assert all(row["result"]["epochs"] < 8 for row in pruned.rows if row["status"] == "pruned")


def test_optuna_tpe_asks_and_tells_and_resumes_from_the_results_file(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    optuna = pytest.importorskip("optuna")
    results = tmp_path / "r.jsonl"
    first = tune(
        registry,
        "net",
        metric="loss",
        trials=12,
        sampler="optuna-tpe",
        executor=threads,
        results=results,
    )
    assert len(first.rows) == 12
    assert {row["overrides"]["body"] for row in first.rows} <= {"@shallow", "@deep"}
    for row in first.rows:  # the body's own dimensions only, as for random search
        expected = {"body", "body.depth", "width"} | (
            {"body.rate"} if row["overrides"]["body"] == "@deep" else set()
        )
        assert set(row["overrides"]) == expected
    resumed = tune(
        registry,
        "net",
        metric="loss",
        trials=16,
        sampler="optuna-tpe",
        executor=threads,
        results=results,
    )
    assert (resumed.recorded, len(resumed.rows)) == (12, 16)
    assert [row["trial"] for row in resumed.rows] == list(range(16))
    sampler = optuna.samplers.RandomSampler(seed=3)
    other = tune(
        registry,
        "bowl",
        metric="loss",
        trials=6,
        sampler=sampler,
        executor=threads,
        results=tmp_path / "o.jsonl",
    )
    assert other.count("ok") == 6


def test_optuna_storage_keeps_the_study(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    results = tmp_path / "r.jsonl"
    tune(
        registry,
        "bowl",
        metric="loss",
        trials=5,
        sampler="optuna-tpe",
        storage=storage,
        executor=threads,
        results=results,
    )
    again = tune(
        registry,
        "bowl",
        metric="loss",
        trials=8,
        sampler="optuna-tpe",
        storage=storage,
        executor=threads,
        results=results,
    )
    assert (again.recorded, len(again.rows)) == (5, 8)
    (name,) = optuna.get_all_study_names(storage)
    study = optuna.load_study(study_name=name, storage=storage)
    values = sorted(t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    assert values == sorted(row["value"] for row in again.rows)


def test_optuna_missing_says_which_extra_to_install(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    with pytest.raises(
        UsageError, match=r'needs Optuna; install it with: pip install "cinnamon\[optuna\]"'
    ):
        tune(registry, "bowl", metric="loss", sampler="optuna-tpe", results=tmp_path / "r.jsonl")


# -- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"direction": "down"}, r"direction must be 'minimize' or 'maximize', not 'down'"),
        ({"trials": 0}, r"trials must be a whole number >= 1, not 0"),
        ({"trials": True}, r"trials must be a whole number >= 1, not True"),
        ({"seed": "s"}, r"seed must be a whole number, not 's'"),
        ({"method": "no such"}, r"method must be the name of a method, not 'no such'"),
        ({"method": "missing"}, r"'bowl' builds Bowl, which has no method 'missing'"),
        ({"metric": ""}, r"metric must be the name of an entry"),
        (
            {"sampler": "grid"},
            r"sampler must be 'random', 'optuna-tpe' or an Optuna sampler, not 'grid'",
        ),
        ({"sampler": 3}, r"sampler must be 'random', 'optuna-tpe' or an Optuna sampler, not 3"),
        (
            {"storage": "sqlite:///x.db"},
            r"storage is Optuna's; the random sampler keeps its study in the results file",
        ),
        ({"pruner": "mean"}, r"pruner must be None, 'median', 'halving' or a Pruner, not 'mean'"),
        ({"workers": 0}, r"workers must be a positive number"),
        ({"executor": "cloud"}, r"executor must be 'local', 'dask'"),
    ],
)
def test_arguments_that_do_not_fit_are_refused(
    registry: Registry, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    pytest.importorskip("optuna") if arguments.get("sampler") == 3 else None
    with pytest.raises(UsageError, match=message):
        tune(
            registry,
            "bowl",
            **{"metric": "loss", "trials": 2, **arguments},
            results=tmp_path / "r.jsonl",
        )


def test_a_tree_with_nothing_to_search_is_refused(registry: Registry, tmp_path: Path) -> None:
    class Plain(Configuration):
        x: int = 1

    registry.register(Plain(), name="plain")
    with pytest.raises(
        UsageError, match=r"'plain' has nothing to tune: no field of its tree declares a search"
    ):
        tune(registry, "plain", results=tmp_path / "r.jsonl")
    with pytest.raises(UsageError, match=r"'bowl' has nothing to tune"):
        tune(registry, "bowl", overrides={"x": 0.5, "y": 3}, results=tmp_path / "r.jsonl")


# -- the command line ---------------------------------------------------------------------


TUNE_FILE = """
[registrations.bowl]
config = "tune_fixtures:BowlConfig"
[registrations.bowl.fields]
x = { "@search" = { "uniform" = [0.2, 0.4] } }
"""


def test_the_tune_command(tmp_path: Path) -> None:
    (tmp_path / "tune.toml").write_text(TUNE_FILE)
    arguments = (
        "tune",
        "bowl",
        "--config",
        "tune.toml",
        "--allow",
        "tune_fixtures",
        "--metric",
        "loss",
    )
    command = cinnamon(
        *arguments, "--trials", "6", "--workers", "2", "--best", "best.toml", "y=5", cwd=tmp_path
    )
    assert command.returncode == 0, command.stderr
    assert "ok\t6\n" in command.stdout
    assert "results: tune.jsonl (6 trials, 0 recorded before)" in command.stdout
    rows = read_tuning(tmp_path / "tune.jsonl")
    assert all(
        set(row["overrides"]) == {"x"} and 0.2 <= row["overrides"]["x"] <= 0.4 for row in rows
    )
    best = min(rows, key=lambda row: row["value"])
    assert (
        f"best: trial {best['trial']}, loss {best['value']:.6g}\n  x={best['overrides']['x']!r}\n"
        in command.stdout
    )
    ran = cinnamon("run", "bowl", "--config", "best.toml", "--allow", "tune_fixtures", cwd=tmp_path)
    assert json.loads(ran.stdout)["loss"] == pytest.approx(best["value"])
    resumed = cinnamon(*arguments, "--trials", "8", "--workers", "1", "y=5", cwd=tmp_path)
    assert "results: tune.jsonl (8 trials, 6 recorded before)" in resumed.stdout
    failing = cinnamon(
        *arguments, "--method", "text", "--results", "t.jsonl", "--trials", "2", cwd=tmp_path
    )
    assert failing.returncode == 1
    assert (
        "error trial 0: cinnamon.errors.NotFoundError: text() returned 'not a number', which has no metric 'loss'"
        in failing.stderr
    )
    assert "no trial finished ok" in failing.stderr
    wrong = cinnamon(*arguments, "--direction", "sideways", cwd=tmp_path)
    assert wrong.returncode == 2
    assert "invalid choice: 'sideways'" in wrong.stderr


def test_the_demo_tuning_runs_from_its_file(tmp_path: Path) -> None:
    configs = FIXTURES.parent / "configs"
    for name in ("demo.toml", "tune.toml"):
        shutil.copy(configs / name, tmp_path / name)
    command = cinnamon(
        "tune", "demo:trainer", "--config", "tune.toml", "--metric", "val_loss", "--trials", "8",
        "--pruner", "median", "--best", "best.toml", cwd=tmp_path,
    )  # fmt: skip
    assert command.returncode == 0, command.stderr
    rows = read_tuning(tmp_path / "tune.jsonl")
    assert len(rows) == 8
    assert {path for row in rows for path in row["overrides"]} == {
        "data.batch_size", "optimizer.learning_rate", "optimizer.momentum"
    }  # fmt: skip
    assert (tmp_path / "best.toml").exists()


def test_the_picture_on_the_tuning_page_is_drawn_by_tune() -> None:
    script = FIXTURES.parent / "docs" / "images" / "tuning_chart.py"
    spec = importlib.util.spec_from_file_location("tuning_chart", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.draw()
    assert drawn == module.PICTURE.read_text(encoding="utf-8"), "run docs/images/tuning_chart.py"
    assert drawn.count('fill="none" stroke="#d62"') > 10  # the pruned trials are there


def test_a_resumed_tuning_prunes_against_the_recorded_curves(
    registry: Registry, tmp_path: Path
) -> None:
    results = tmp_path / "r.jsonl"
    with cf.ThreadPoolExecutor(1) as pool:
        first = tune(
            registry,
            "fitter",
            metric="val_loss",
            trials=5,
            executor=pool,
            pruner="median",
            results=results,
        )
        assert first.count("pruned") == 0  # the default pruner waits for 5 finished trials
        resumed = tune(
            registry,
            "fitter",
            metric="val_loss",
            trials=7,
            executor=pool,
            pruner="median",
            results=results,
        )
    # Trials 5 and 6 go out together, before either finishes: only the 5 recorded curves
    # can judge them. Trial 6 (rate 0.03) lags their median from the first epoch.
    sixth = resumed.rows[6]
    assert (sixth["overrides"]["rate"], sixth["status"], sixth["pruned_at"]) == (0.03, "pruned", 1)
    assert repr(resumed) == "<Tuning of 'fitter': 7 trials, ok=6 pruned=1 error=0 skipped=0>"


def test_optuna_learns_of_pruned_trials_and_fails_those_a_killed_driver_left(
    registry: Registry, tmp_path: Path
) -> None:
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    results = tmp_path / "r.jsonl"
    with cf.ThreadPoolExecutor(1) as pool:
        first = tune(
            registry, "fitter", metric="val_loss", trials=10, sampler="optuna-tpe", storage=storage,
            pruner=MedianPruner(startup=1), executor=pool, results=results,
        )  # fmt: skip
        study = optuna.load_study(study_name=f"cinnamon-{first.rows[0]['study']}", storage=storage)
        states = optuna.trial.TrialState
        assert sum(t.state == states.PRUNED for t in study.trials) == first.count("pruned") >= 1
        pruned = next(t for t in study.trials if t.state == states.PRUNED)
        assert pruned.intermediate_values  # the curve was reported before it was told
        left = study.ask()  # as a driver killed mid-trial leaves it: running, never told
        tune(
            registry, "fitter", metric="val_loss", trials=11, sampler="optuna-tpe", storage=storage,
            pruner=MedianPruner(startup=1), executor=pool, results=results,
        )  # fmt: skip
    study = optuna.load_study(study_name=f"cinnamon-{first.rows[0]['study']}", storage=storage)
    assert study.trials[left.number].state == states.FAIL
    assert not [t for t in study.trials if t.state == states.RUNNING]


def test_the_progress_line_on_a_terminal(
    registry: Registry,
    tmp_path: Path,
    threads: cf.ThreadPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    report = tune(
        registry, "bowl", metric="loss", trials=3, executor=threads, results=tmp_path / "r.jsonl"
    )
    drawn = screen.getvalue()
    assert drawn.count("\rtune ") == 3
    assert f"\rtune 3/3  best {report.best().value:.6g}" in drawn
    assert drawn.endswith("\n")
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    tune(
        registry,
        "bowl",
        metric="loss",
        trials=3,
        executor=threads,
        results=tmp_path / "q.jsonl",
        progress=False,
    )
    assert quiet.getvalue() == ""


def test_a_configuration_can_be_tuned_without_registering_it(
    registry: Registry, tmp_path: Path, threads: cf.ThreadPoolExecutor
) -> None:
    report = tune(
        registry,
        fx.BowlConfig(y=4),
        metric="loss",
        trials=5,
        executor=threads,
        results=tmp_path / "r.jsonl",
        overrides={"y": 4},
    )
    assert all(set(row["overrides"]) == {"x"} for row in report.rows)
    assert report.best().key.name == "BowlConfig"
    assert report.best().tree.y == 4
