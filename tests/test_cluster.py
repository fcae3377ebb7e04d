"""Sweeps on a real two-worker Dask cluster on this machine: run root, hosts, no workers."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from test_cli import cinnamon as run_cli

import cinnamon._runs.pool as pool_module
from cinnamon import Registry, results, sweep
from cinnamon._files.declarative import load
from cinnamon.demo import TrainerConfig
from cinnamon.errors import ConfigurationError, UsageError

distributed = pytest.importorskip("distributed", reason="Dask is the optional cinnamon[dask] extra")

ROOT = Path(__file__).resolve().parent.parent


def cluster(workers: int) -> object:
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
    )


def test_run_folders_go_under_an_absolute_run_root_and_rows_name_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the workers' folder is not where the runs belong
    shared = tmp_path / "shared" / "runs"
    registry = Registry()
    load(registry, tmp_path / "configs" / "sweep.toml")
    with cluster(2) as dask:
        report = sweep(
            registry,
            "demo:trainer",
            executor="dask",
            address=dask.scheduler_address,
            overrides=["epochs=2", f'run_root="{shared}"'],
            results=tmp_path / "sweep.jsonl",
            progress=False,
        )
        command = run_cli(
            "sweep", "demo:trainer", "--config", "configs/sweep.toml", "epochs=2",
            "--executor", "dask", "--address", dask.scheduler_address,
            "--run-root", "cli-runs", "--results", "cli.jsonl", "--no-progress",
            cwd=tmp_path,
        )  # fmt: skip
    assert report.ok == 6, report.rows
    host = socket.gethostname()
    for row in report.rows:
        assert row["host"] == host
        folder = Path(row["result"]["run_dir"])
        assert folder.is_absolute()
        assert folder.parent == shared
        assert (folder / "metrics.jsonl").is_file()
    assert not (elsewhere / "runs").exists()
    table = results(tmp_path / "sweep.jsonl")
    assert set(table.column("host")) == {host}
    assert command.returncode == 0, command.stderr
    by_cli = results(tmp_path / "cli.jsonl")
    assert {Path(folder).parent for folder in by_cli.column("run_dir")} == {tmp_path / "cli-runs"}


def test_a_cluster_without_workers_is_a_clear_error_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pool_module, "WORKER_TIMEOUT", 2.0)
    registry = Registry()
    registry.register(TrainerConfig(epochs=1), name="trainer")
    with cluster(0) as empty:
        with pytest.raises(UsageError, match=r"has no workers \(none joined within 2 s\)"):
            sweep(
                registry,
                "trainer",
                executor="dask",
                address=empty.scheduler_address,
                results=tmp_path / "never.jsonl",
                progress=False,
            )
        with distributed.Client(empty, set_as_default=False) as client:
            with pytest.raises(UsageError, match=r"start some with `dask worker tcp://127.0.0.1:"):
                sweep(registry, "trainer", executor=client, results=tmp_path / "never.jsonl")
            assert client.status == "running"  # a client passed in is left open
    assert not (tmp_path / "never.jsonl").exists()


def test_the_run_root_of_a_configuration_cannot_climb_out() -> None:
    with pytest.raises(ConfigurationError, match=r"run_root.*climbs out"):
        TrainerConfig(run_root="../elsewhere")
    assert TrainerConfig(run_root="/shared/runs").run_root == "/shared/runs"
