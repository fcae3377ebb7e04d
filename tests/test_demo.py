from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from cinnamon import Callback, CallbackPipeline, PipelineConfig, RegistrationKey, Registry
from cinnamon._files.declarative import load, loads
from cinnamon.callbacks import (
    CheckpointConfig,
    EarlyStopping,
    EarlyStoppingConfig,
    MetricsLoggerConfig,
    ProgressBarConfig,
    TimerConfig,
)
from cinnamon.demo import (
    SGD,
    LinearModel,
    LinearModelConfig,
    SGDConfig,
    SyntheticData,
    SyntheticDataConfig,
    Trainer,
    TrainerConfig,
)
from cinnamon.errors import ConditionError, ConfigurationError, NotFoundError, UsageError

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "demo.toml"


def small(**fields: Any) -> TrainerConfig:
    """A quick job: fewer samples than the defaults."""
    fields.setdefault(
        "data", SyntheticDataConfig(n_samples=300, n_features=4, seed=fields.pop("seed", 1))
    )
    return TrainerConfig(model=LinearModelConfig(n_features=4), **fields)


def build(config: TrainerConfig) -> Trainer:
    return Registry().build(config, Trainer)


class Recorder(Callback):
    """Records every hookpoint it receives, with a copy of its logs."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.attached: list[tuple[Any, Any]] = []

    def run(self, hookpoint: str, logs: Any = None) -> None:
        copied = dict(logs) if isinstance(logs, dict) else logs
        self.seen.append((hookpoint, copied))
        if hookpoint == "on_fit_begin":
            self.attached.append((self.component, self.save_path))


# -- the components ------------------------------------------------------------------------


def test_the_data_is_split_and_batched_deterministically() -> None:
    data = SyntheticData(n_samples=103, n_features=3, batch_size=10, validation_split=0.2, seed=4)
    assert (len(data.train), len(data.validation)) == (82, 21)
    assert data.batches_per_epoch == 9
    batches = data.batches(1)
    assert [len(batch) for batch in batches] == [10] * 8 + [2]
    assert sorted(sample for batch in batches for sample in batch) == sorted(data.train)
    assert data.batches(1) == batches
    assert data.batches(2) != batches
    again = SyntheticData(n_samples=103, n_features=3, batch_size=10, validation_split=0.2, seed=4)
    assert again.train == data.train
    assert SyntheticData(n_samples=103, n_features=3, seed=5).train != data.train


def test_the_data_always_keeps_a_training_sample() -> None:
    data = SyntheticData(n_samples=2, validation_split=0.9)
    assert (len(data.train), len(data.validation)) == (1, 1)


def test_the_model_gradient_matches_finite_differences() -> None:
    data = SyntheticData(n_samples=20, n_features=3, seed=2)
    model = LinearModel(n_features=3, seed=3)
    loss, gradients = model.gradients(data.train)
    assert loss == pytest.approx(model.loss(data.train))
    base = model.parameters()
    for index in range(len(base)):
        shifted = list(base)
        shifted[index] += 1e-6
        model.set_parameters(shifted)
        numeric = (model.loss(data.train) - loss) / 1e-6
        assert gradients[index] == pytest.approx(numeric, rel=1e-3, abs=1e-4)
    model.set_parameters(base)
    assert math.isnan(model.loss([]))


def test_sgd_with_momentum_carries_the_previous_step() -> None:
    sgd = SGD(learning_rate=0.5, momentum=0.5)
    first = sgd.step([1.0, 1.0], [1.0, -2.0])
    assert first == [0.5, 2.0]
    assert sgd.step(first, [0.0, 0.0]) == [0.25, 2.5]
    assert sgd.state_dict() == {"velocity": [-0.25, 0.5]}


# -- fitting ------------------------------------------------------------------------------


def test_the_demo_learns() -> None:
    trainer = build(small(epochs=10))
    summary = trainer.fit()
    assert summary["epochs"] == 10
    assert summary["loss"] < summary["initial_loss"] / 20
    assert summary["val_loss"] < summary["initial_loss"] / 20
    # The noise (0.1) bounds what any model can reach: about 0.01.
    assert summary["val_loss"] < 0.05
    true = [*trainer.data.true_weights, trainer.data.true_bias]
    assert trainer.model.parameters() == pytest.approx(true, abs=0.05)


def test_the_demo_is_deterministic_for_a_seed() -> None:
    first, second = build(small(epochs=4)), build(small(epochs=4))
    assert first.fit() == second.fit()
    assert first.history == second.history
    assert first.model.parameters() == second.model.parameters()
    other = build(small(epochs=4, seed=2))
    assert other.fit()["loss"] != first.history[-1]["loss"]


def test_callbacks_see_the_fit_the_epochs_and_the_batches() -> None:
    recorder = Recorder()
    trainer = build(small(epochs=2))
    summary = trainer.fit(callbacks=recorder)
    names = [name for name, _ in recorder.seen]
    batches = trainer.batches_per_epoch
    epoch = ["on_epoch_begin", *["on_batch_begin", "on_batch_end"] * batches, "on_epoch_end"]
    assert names == ["on_fit_begin", *epoch, *epoch, "on_fit_end"]
    logs = dict(recorder.seen)
    assert set(logs["on_epoch_end"]) == {"epoch", "loss", "val_loss"}
    ends = [entry["epoch"] for name, entry in recorder.seen if name == "on_epoch_end"]
    assert ends == [1, 2]
    assert logs["on_batch_end"]["batch"] == batches
    assert logs["on_fit_end"] == summary


def test_a_callback_stops_the_fit_early() -> None:
    trainer = build(small(epochs=100))
    stopper = EarlyStopping(patience=2, min_delta=1e-3)
    stopper.setup(component=trainer)
    summary = trainer.fit(callbacks=stopper)
    assert summary["epochs"] == stopper.stopped_epoch == len(trainer.history) < 100
    assert stopper.best_epoch == stopper.stopped_epoch - 2
    assert trainer.stop_training is True
    # The next fit starts afresh.
    stopper.patience = 1000
    assert trainer.fit(callbacks=stopper)["epochs"] == 100


def test_early_stopping_configured_in_a_tree_stops_the_demo(tmp_path: Path) -> None:
    config = small(epochs=100, run_dir=str(tmp_path), callbacks=EarlyStoppingConfig(patience=2))
    trainer = build(config)
    summary = trainer.run()
    assert summary["epochs"] < 100
    assert isinstance(trainer.callbacks, EarlyStopping)
    assert trainer.callbacks.stopped_epoch == summary["epochs"]


def test_without_validation_there_is_no_val_loss_to_monitor(tmp_path: Path) -> None:
    data = SyntheticDataConfig(n_samples=50, n_features=4, validation_split=0.0)
    config = small(data=data, callbacks=EarlyStoppingConfig(), run_dir=str(tmp_path))
    trainer = build(config)
    assert "val_loss" not in trainer.train_epoch(1)
    with pytest.raises(NotFoundError, match=r"no metric 'val_loss' \(they have 'loss'\)"):
        trainer.run()
    assert trainer.callbacks is not None
    assert trainer.callbacks.component is None  # cleared even though the fit failed


def test_the_state_dict_restores_a_trainer(tmp_path: Path) -> None:
    trained = build(small(epochs=3))
    trained.fit()
    state = json.loads(json.dumps(trained.state_dict()))
    fresh = build(small(epochs=3))
    assert fresh.model.parameters() != trained.model.parameters()
    fresh.load_state_dict(state)
    assert fresh.epoch == 3
    assert fresh.model.parameters() == trained.model.parameters()
    assert fresh.optimizer.velocity == trained.optimizer.velocity


def test_the_trainer_refuses_a_model_that_does_not_fit_the_data() -> None:
    with pytest.raises(ConfigurationError, match="the model takes 8 features, the data has 4"):
        Trainer(SyntheticData(n_features=4), LinearModel(n_features=8), SGD())
    with pytest.raises(UsageError, match="callbacks must be a Callback or None"):
        Trainer(SyntheticData(), LinearModel(), SGD(), callbacks="progress")  # type: ignore[arg-type]


def test_a_configured_tree_whose_model_does_not_fit_the_data_fails_on_resolving() -> None:
    registry = Registry()
    data = SyntheticDataConfig(n_samples=300, n_features=4)
    config = TrainerConfig(data=data, model=LinearModelConfig(n_features=8))
    registry.register(config, name="trainer")
    message = (
        r"^trainer: condition 'features match' failed: the model takes 8 features, the data has 4$"
    )
    with pytest.raises(ConditionError, match=message) as caught:
        registry.resolve("trainer")
    assert (caught.value.path, caught.value.condition) == ("trainer", "features match")
    with pytest.raises(ConditionError, match=message):
        registry.build("trainer")
    assert registry.resolve(small()).model.n_features == 4  # a fitting tree passes


def test_configurations_describe_every_field() -> None:
    for config in (SyntheticDataConfig, LinearModelConfig, SGDConfig, TrainerConfig):
        assert all(info.description for info in config.params().values())
    with pytest.raises(ConfigurationError, match="validation_split"):
        SyntheticDataConfig(validation_split=1.0)
    with pytest.raises(ConfigurationError, match="momentum"):
        SGDConfig(momentum=1.0)


# -- running ---------------------------------------------------------------------------------


def test_run_sets_up_the_callbacks_for_the_fit_and_clears_them(tmp_path: Path) -> None:
    recorder = Recorder()
    trainer = Trainer(
        SyntheticData(n_samples=50, n_features=2),
        LinearModel(n_features=2),
        SGD(),
        epochs=1,
        callbacks=recorder,
        run_dir=str(tmp_path / "run"),
    )
    summary = trainer.run()
    assert recorder.attached == [(trainer, tmp_path / "run")]
    assert (recorder.component, recorder.save_path) == (None, None)
    assert summary["run_dir"] == str(tmp_path / "run")
    # Made by hand, the trainer has no configuration to save.
    assert list((tmp_path / "run").iterdir()) == []


def test_runs_get_fresh_folders_under_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    trainer = build(small(epochs=1))
    first, second = trainer.run()["run_dir"], trainer.run()["run_dir"]
    assert first != second
    for folder in (first, second):
        assert Path(folder).parent == tmp_path / "runs"  # recorded as an absolute path
        assert (tmp_path / folder / "config.toml").is_file()


def test_the_demo_file_declares_the_whole_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    registry = Registry()
    load(registry, CONFIG)
    assert all(key.namespace == "demo" for key in registry)
    trainer = registry.build("demo:trainer", Trainer)
    assert isinstance(trainer.callbacks, CallbackPipeline)
    summary = trainer.run()

    folder = Path(summary["run_dir"])
    assert folder.parent == tmp_path / "runs"
    assert sorted(path.name for path in folder.iterdir()) == [
        "checkpoint.json",
        "config.toml",
        "metrics.jsonl",
        "timings.json",
    ]
    assert summary["epochs"] < trainer.epochs  # early stopping
    assert summary["val_loss"] < summary["initial_loss"] / 20

    lines = (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [record["event"] for record in records] == ["epoch_end"] * summary["epochs"] + [
        "fit_end"
    ]
    assert records[-1]["loss"] == summary["loss"]
    assert all(record["epoch_seconds"] > 0 for record in records[:-1])  # the timer runs first

    checkpoint = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
    best = min(records[:-1], key=lambda record: record["val_loss"])
    assert checkpoint["epoch"] == best["epoch"]
    assert checkpoint["state"]["epoch"] == best["epoch"]

    timings = json.loads((folder / "timings.json").read_text(encoding="utf-8"))
    assert len(timings["epoch_seconds"]) == summary["epochs"]
    assert timings["fit_seconds"] == summary["fit_seconds"]

    err = capsys.readouterr().err
    assert err.count("\n") == summary["epochs"]  # stderr is no terminal here: a line per epoch
    assert f"epoch {summary['epochs']}/{trainer.epochs} [" in err

    # The saved configuration loads back into the same tree.
    again = Registry()
    load(again, folder / "config.toml")
    assert again.resolve("demo:trainer") == registry.resolve("demo:trainer")


def test_the_demo_file_matches_the_same_tree_registered_from_python() -> None:
    declared = Registry()
    load(declared, CONFIG)

    registry = Registry()
    ns = "demo"

    def ref(name: str) -> RegistrationKey:
        return RegistrationKey(name, namespace=ns)

    registry.register(SyntheticDataConfig(), name="data", namespace=ns)
    registry.register(LinearModelConfig(), name="model", namespace=ns)
    registry.register(SGDConfig(), name="optimizer", namespace=ns)
    registry.register(TimerConfig(), name="timer", namespace=ns)
    registry.register(
        ProgressBarConfig(batches=True, metrics=["loss", "val_loss"]), name="progress", namespace=ns
    )
    registry.register(MetricsLoggerConfig(), name="metrics", namespace=ns)
    registry.register(
        EarlyStoppingConfig(patience=3, min_delta=1e-4), name="early-stopping", namespace=ns
    )
    registry.register(
        CheckpointConfig(filename="checkpoint.json", monitor="val_loss"),
        name="checkpoint",
        namespace=ns,
    )
    names = ["timer", "progress", "metrics", "early-stopping", "checkpoint"]
    registry.register(
        PipelineConfig(components=[ref(name) for name in names]),
        name="callbacks",
        namespace=ns,
        component=CallbackPipeline,
    )
    registry.register(
        TrainerConfig(
            epochs=50,
            data=ref("data"),
            model=ref("model"),
            optimizer=ref("optimizer"),
            callbacks=ref("callbacks"),
        ),
        name="trainer",
        namespace=ns,
    )
    assert list(declared) == list(registry)
    assert declared.resolve("demo:trainer") == registry.resolve("demo:trainer")
    for key in registry:
        assert declared.get(key).component is registry.get(key).component


def test_a_configuration_that_cannot_be_saved_warns_and_the_run_goes_on(tmp_path: Path) -> None:
    class LocalCallback(Callback):
        pass

    from cinnamon import Configuration

    class LocalConfig(Configuration, component=LocalCallback):
        pass

    trainer = build(small(epochs=1, callbacks=LocalConfig(), run_dir=str(tmp_path)))
    with pytest.warns(RuntimeWarning, match=r"config.toml not written to .*no import path"):
        summary = trainer.run()
    assert summary["epochs"] == 1
    assert not (tmp_path / "config.toml").exists()


def test_the_command_line_runs_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cinnamon._cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["run", "demo:trainer", "--config", str(CONFIG)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (tmp_path / summary["run_dir"] / "metrics.jsonl").is_file()


def test_loads_accepts_the_callbacks_inline() -> None:
    registry = Registry()
    loads(
        registry,
        """
        [registrations.job]
        config = "cinnamon.demo:TrainerConfig"
        [registrations.job.fields]
        epochs = 2
        callbacks = { "@config" = "cinnamon.callbacks:EarlyStoppingConfig", patience = 4 }
        """,
    )
    trainer = registry.build("job", Trainer)
    assert isinstance(trainer.callbacks, EarlyStopping)
    assert trainer.callbacks.patience == 4
