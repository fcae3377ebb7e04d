"""The tracker callbacks against the real libraries: TensorBoard's own reader, a real MLflow store."""

from __future__ import annotations

import concurrent.futures as cf
import sys
from pathlib import Path

import pytest

from cinnamon import Registry, apply_overrides, fingerprint, sweep
from cinnamon._core.resolve import compile_plan
from cinnamon._files.declarative import load
from cinnamon.demo import SGD, LinearModel, SyntheticData, Trainer
from cinnamon.errors import ConfigurationError, UsageError
from cinnamon.integrations.mlflow import MLflowLogger, MLflowLoggerConfig, flat_params
from cinnamon.integrations.tensorboard import (
    EventFileWriter,
    TensorBoardLogger,
    TensorBoardLoggerConfig,
    crc32c,
)

ROOT = Path(__file__).resolve().parent.parent

# A sweep of the demo (two learning rates) whose every variant logs to both trackers.
SWEEP = """
extends = "{demo}"

[registrations."demo:trainer".fields]
epochs = 3

[registrations."demo:optimizer".fields]
learning_rate = {{ "@variants" = [0.01, 0.03] }}

[registrations."demo:callbacks".fields]
components = [
    {{ "@ref" = "demo:metrics" }},
    {{ "@ref" = "demo:tensorboard" }},
    {{ "@ref" = "demo:mlflow" }},
]

[registrations."demo:tensorboard"]
config = "cinnamon.integrations.tensorboard:TensorBoardLoggerConfig"

[registrations."demo:mlflow"]
config = "cinnamon.integrations.mlflow:MLflowLoggerConfig"

[registrations."demo:mlflow".fields]
tracking_uri = "{uri}"
experiment = "demo sweep"
"""


def trainer(folder: Path, callbacks: object, epochs: int = 4) -> Trainer:
    data = SyntheticData(n_samples=200, n_features=3)
    model = LinearModel(n_features=3)
    return Trainer(
        data,
        model,
        SGD(learning_rate=0.05),
        epochs=epochs,
        callbacks=callbacks,
        run_dir=str(folder),
    )  # type: ignore[arg-type]


def no_module(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``import name`` (and its submodules) fail as if it were not installed."""
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, loaded)
    for module in (name, f"{name}.tracking", f"{name}.entities"):
        monkeypatch.setitem(sys.modules, module, None)  # None in sys.modules: ImportError


# -- TensorBoard --------------------------------------------------------------------------


def test_crc32c_is_the_castagnoli_checksum() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the check value of CRC-32C
    assert crc32c(b"") == 0


def test_tensorboard_reads_back_every_epoch(tmp_path: Path) -> None:
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="TensorBoard (cinnamon[tensorboard]) reads the files back",
    )
    job = trainer(tmp_path / "run", TensorBoardLogger(batches=True))
    job.run()
    reader = accumulator.EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    reader.Reload()
    assert set(reader.Tags()["scalars"]) == {"loss", "val_loss", "batch/loss"}
    losses = reader.Scalars("val_loss")
    assert [event.step for event in losses] == [1, 2, 3, 4]
    expected = [epoch["val_loss"] for epoch in job.history]
    assert [event.value for event in losses] == pytest.approx(expected, rel=1e-6)
    assert len(reader.Scalars("batch/loss")) == 4 * job.batches_per_epoch


def test_tensorboard_checks_the_checksums_written(tmp_path: Path) -> None:
    loader = pytest.importorskip(
        "tensorboard.backend.event_processing.event_file_loader",
        reason="TensorBoard (cinnamon[tensorboard]) reads the files back",
    )
    writer = EventFileWriter(tmp_path)
    writer.scalars(1, {"loss": 0.5})
    writer.scalars(2, {"loss": 0.25})
    writer.close()
    steps = [event.step for event in loader.LegacyEventFileLoader(str(writer.path)).Load()]
    assert steps == [0, 1, 2]  # the file-version event, then the two steps
    data = bytearray(writer.path.read_bytes())
    data[-1] ^= 0xFF  # spoil the last record's checksum: TensorBoard drops the record
    writer.path.write_bytes(bytes(data))
    steps = [event.step for event in loader.LegacyEventFileLoader(str(writer.path)).Load()]
    assert steps == [0, 1]
    with pytest.raises(UsageError, match=r"is closed"):
        writer.scalars(3, {"loss": 0.1})


def test_tensorboard_logger_needs_a_folder_and_a_plain_name() -> None:
    with pytest.raises(UsageError, match=r"TensorBoardLogger has no folder to write to"):
        TensorBoardLogger().on_fit_begin()
    with pytest.raises(ConfigurationError, match=r"folder"):
        TensorBoardLoggerConfig(folder="../up")


# -- MLflow ---------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pytest.importorskip("mlflow", reason="MLflow is the optional cinnamon[mlflow] extra")
    # MLflow 3 keeps its folder store for those who ask for it; it needs no database.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


def test_flat_params_names_each_leaf_by_its_dotted_path() -> None:
    registry = Registry()
    load(registry, ROOT / "configs" / "demo.toml")
    params = flat_params(registry.resolve("demo:trainer"))
    assert params["optimizer.learning_rate"] == 0.01
    assert params["data.n_samples"] == 1000
    assert params["callbacks.components.3.patience"] == 3
    assert params["epochs"] == 50
    assert all("[" not in key for key in params)


def test_mlflow_records_params_metrics_and_artifacts(store: str, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    registry = Registry()
    load(registry, ROOT / "configs" / "demo.toml")
    registry.register(MLflowLoggerConfig(tracking_uri=store, experiment="demo"), name="tracker")
    overrides = ["epochs=3", f"run_dir={tmp_path / 'run'}", "callbacks=@tracker"]
    tree = apply_overrides(registry.resolve("demo:trainer"), overrides, registry=registry)
    summary = compile_plan(tree, "trainer").run().run()
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("demo")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run"
    assert run.data.params["optimizer.learning_rate"] == "0.01"
    assert run.data.params["epochs"] == "3"
    assert run.data.tags["cinnamon.fingerprint"] == fingerprint(tree)
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [metric.step for metric in history] == [1, 2, 3]
    assert history[-1].value == pytest.approx(summary["val_loss"])
    names = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
    assert names == {"config.toml", "fingerprint.txt"}
    local = Path(client.download_artifacts(run.info.run_id, "fingerprint.txt", str(tmp_path)))
    assert local.read_text().strip() == fingerprint(tree)


def test_mlflow_marks_a_failed_fit(store: str, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    logger = MLflowLogger(tracking_uri=store, experiment="failing")
    job = trainer(tmp_path / "run", logger, epochs=2)
    job.data.train = ()  # an epoch over nothing divides by zero
    with pytest.raises(ZeroDivisionError):
        job.run()
    client = MlflowClient(tracking_uri=store)
    run = client.get_run(logger.run_id)
    assert run.info.status == "FAILED"
    assert run.data.params == {}  # built by hand: no configuration to log


def test_a_sweep_is_one_tracked_run_per_variant(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.chdir(tmp_path)
    file = tmp_path / "sweep.toml"
    file.write_text(SWEEP.format(demo=(ROOT / "configs" / "demo.toml").as_posix(), uri=store))
    registry = Registry()
    load(registry, file)
    with cf.ThreadPoolExecutor(2) as threads:
        report = sweep(registry, "demo:trainer", executor=threads, progress=False)
    assert report.ok == 2, report.rows
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("demo sweep")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == len(report.rows)  # one run per variant, all in one experiment
    by_print = {run.data.tags["cinnamon.fingerprint"]: run for run in runs}
    assert set(by_print) == {row["fingerprint"] for row in report.rows}
    rates = {run.data.params["optimizer.learning_rate"] for run in runs}
    assert rates == {"0.01", "0.03"}
    for row in report.rows:
        reader = EventAccumulator(str(Path(row["result"]["run_dir"]) / "tensorboard"))
        reader.Reload()
        assert [event.step for event in reader.Scalars("loss")] == [1, 2, 3]


def test_mlflow_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    logger = MLflowLogger()
    logger.setup(save_path=tmp_path)
    no_module(monkeypatch, "mlflow")
    with pytest.raises(UsageError, match=r'pip install "cinnamon\[mlflow\]"'):
        logger.on_fit_begin()


def test_importing_the_integrations_imports_no_tracker() -> None:
    import subprocess

    code = (
        "import sys, cinnamon.integrations.mlflow, cinnamon.integrations.tensorboard; "
        "print(sorted(m for m in ('mlflow', 'tensorboard') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
