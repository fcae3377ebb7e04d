"""The Keras-grade built-ins: History, LambdaCallback, CSVLogger, TerminateOnNaN, the
learning-rate callbacks, and EarlyStopping's and Checkpoint's newer options."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cinnamon import Callback, CallbackPipeline, Configuration, Registry, guard
from cinnamon.callbacks import (
    Checkpoint,
    CheckpointConfig,
    CSVLogger,
    CSVLoggerConfig,
    EarlyStopping,
    EarlyStoppingConfig,
    HasLearningRate,
    History,
    HistoryConfig,
    JsonSerializer,
    JsonSerializerConfig,
    LambdaCallback,
    LearningRateScheduler,
    LearningRateSchedulerConfig,
    NpzSerializer,
    NpzSerializerConfig,
    ReduceLROnPlateau,
    ReduceLROnPlateauConfig,
    StepDecay,
    StepDecayConfig,
    TerminateOnNaN,
    TerminateOnNaNConfig,
    Timer,
)
from cinnamon.errors import ConfigurationError, HookpointError, NotFoundError, UsageError


class Optimizer:
    def __init__(self, learning_rate: float = 1.0) -> None:
        self.learning_rate = learning_rate


class Host:
    """A trainer stand-in whose state is one number and whose optimizer has a rate."""

    def __init__(self) -> None:
        self.stop_training = False
        self.value = 0.0
        self.optimizer = Optimizer()
        self.loaded: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loaded.append(state)
        self.value = state["value"]


def fit(
    callback: Callback, host: Host, epochs: Iterable[dict[str, Any]], result: Any = None
) -> list[dict[str, Any]]:
    """Fire a fit's hookpoints; each epoch sets the host's value to its ``value`` entry."""
    seen = []
    callback.run("on_fit_begin", None)
    for logs in epochs:
        callback.run("on_epoch_begin", None)
        host.value = logs.get("value", host.value)
        callback.run("on_epoch_end", logs)
        seen.append(logs)
        if host.stop_training:
            break
    callback.run("on_fit_end", result)
    return seen


def epochs_of(monitor: str, values: Iterable[float]) -> Iterator[dict[str, Any]]:
    for epoch, value in enumerate(values, start=1):
        yield {"epoch": epoch, monitor: value, "value": float(epoch)}


def attached(callback: Callback, host: Host | None = None, save_path: Path | None = None) -> Host:
    host = host or Host()
    callback.setup(component=host, save_path=save_path)
    return host


# -- the configurations ------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        HistoryConfig(),
        CSVLoggerConfig(filename="t.csv", separator=";", append=False),
        TerminateOnNaNConfig(monitor="train_loss"),
        ReduceLROnPlateauConfig(factor=0.5, patience=2, cooldown=1, target="model.optimizer"),
        LearningRateSchedulerConfig(schedule=StepDecayConfig(every=3), target=""),
        StepDecayConfig(every=3, factor=0.9, min_lr=0.01),
        CheckpointConfig(save_top_k=None, save_last=True, serializer=NpzSerializerConfig()),
        EarlyStoppingConfig(baseline=0.5, start_from_epoch=2, restore_best=True),
        JsonSerializerConfig(),
        NpzSerializerConfig(),
    ],
    ids=lambda config: type(config).__name__,
)
def test_each_new_configuration_builds_its_component_with_its_values(
    config: Configuration,
) -> None:
    component = type(config).__component__
    assert component is not None
    built = Registry().build(config, component)
    for name, value in config:
        if isinstance(value, Configuration):  # a nested configuration: built too
            assert type(getattr(built, name)) is type(value).__component__
        else:
            assert getattr(built, name) == value
    assert all(info.description for info in type(config).params().values())


# -- History ---------------------------------------------------------------------------


def test_history_keeps_every_epoch_and_the_result_for_after_the_fit() -> None:
    history = History()
    host = attached(history)
    fit(history, host, [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25, "lr": 0.1}], "done")
    assert history.epochs == [1, 2]
    assert history.logs == [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25, "lr": 0.1}]
    assert history.history == {"epoch": [1, 2], "loss": [0.5, 0.25], "lr": [None, 0.1]}
    assert history.result == "done"


def test_history_copies_the_logs_and_starts_afresh_with_each_fit() -> None:
    history = History()
    host = attached(history)
    logs = {"loss": 1.0}
    fit(history, host, [logs])
    logs["loss"] = 99.0  # the loop reusing its dict must not rewrite history
    assert history.history == {"loss": [1.0]}
    assert history.epochs == [1]
    fit(history, host, [{"loss": 2.0}, {"loss": 3.0}])
    assert history.history == {"loss": [2.0, 3.0]}
    assert history.epochs == [1, 2]


def test_history_sees_what_a_timer_before_it_adds() -> None:
    history = History()
    pipeline = CallbackPipeline([Timer(), history])
    attached(pipeline)
    fit(pipeline, Host(), [{"epoch": 1}])
    assert set(history.logs[0]) == {"epoch", "epoch_seconds"}


def test_history_builds_from_its_configuration() -> None:
    registry = Registry()
    registry.register(HistoryConfig(), name="history")
    assert isinstance(registry.build("history", History), History)


# -- LambdaCallback ----------------------------------------------------------------------------


class Loop:
    def __init__(self) -> None:
        self.stop_training = False

    @guard("fit")
    def fit(self, epochs: int, callbacks: Callback | None = None) -> dict[str, Any]:
        for epoch in range(1, epochs + 1):
            self.epoch(epoch, callbacks=callbacks)
        return {"epochs": epochs}

    @guard("epoch")
    def epoch(self, epoch: int, callbacks: Callback | None = None) -> dict[str, Any]:
        return {"epoch": epoch, "loss": 1.0 / epoch}


def test_lambda_callback_calls_the_functions_at_their_hookpoints() -> None:
    calls: list[tuple[str, Any]] = []
    callback = LambdaCallback(
        on_fit_begin=lambda logs: calls.append(("begin", logs)),
        on_epoch_end=lambda l: calls.append(("epoch", l["epoch"])),  # noqa: E741 - any name
        on_fit_end=lambda logs: calls.append(("end", logs)),
    )
    Loop().fit(2, callbacks=CallbackPipeline([callback]))
    assert calls == [("begin", None), ("epoch", 1), ("epoch", 2), ("end", {"epochs": 2})]
    assert set(callback.hooks) == {"on_fit_begin", "on_epoch_end", "on_fit_end"}


def test_lambda_callback_errors_name_the_callback_and_the_hookpoint() -> None:
    def fail(logs: Any) -> None:
        msg = "boom"
        raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="boom") as caught:
        Loop().fit(1, callbacks=LambdaCallback(on_epoch_end=fail))
    assert "raised in hookpoint 'on_epoch_end' of LambdaCallback" in "".join(caught.value.__notes__)


def test_lambda_callback_refuses_what_is_not_a_hookpoint_or_a_function() -> None:
    with pytest.raises(HookpointError, match=r"'epoch_end'.*starts with 'on_'"):
        LambdaCallback(epoch_end=print)
    with pytest.raises(UsageError, match=r"LambdaCallback\(on_epoch_end=...\) needs a function"):
        LambdaCallback(on_epoch_end=3)  # type: ignore[arg-type]


# -- CSVLogger ------------------------------------------------------------------------------


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_csv_logger_writes_a_header_once_and_a_row_per_epoch(tmp_path: Path) -> None:
    logger = CSVLogger()
    host = attached(logger, save_path=tmp_path)
    fit(logger, host, [{"loss": 0.5, "epoch": 1}, {"epoch": 2, "loss": 0.25}])
    assert rows(tmp_path / "metrics.csv") == [["epoch", "loss"], ["1", "0.5"], ["2", "0.25"]]
    assert logger.path == tmp_path / "metrics.csv"


def test_csv_logger_appends_to_an_existing_file_under_its_header(tmp_path: Path) -> None:
    logger = CSVLogger(filename="log.csv")
    host = attached(logger, save_path=tmp_path)
    fit(logger, host, [{"epoch": 1, "loss": 0.5, "acc": 0.1}])
    again = CSVLogger(filename="log.csv")  # a second run into the same folder
    attached(again, host, tmp_path)
    fit(again, host, [{"epoch": 1, "acc": 0.2, "loss": 0.4}])
    assert rows(tmp_path / "log.csv") == [
        ["epoch", "loss", "acc"],
        ["1", "0.5", "0.1"],
        ["1", "0.4", "0.2"],
    ]


def test_csv_logger_widens_the_header_for_a_new_metric_and_leaves_gaps_empty(
    tmp_path: Path,
) -> None:
    logger = CSVLogger(separator=";")
    host = attached(logger, save_path=tmp_path)
    fit(
        logger,
        host,
        [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.4, "lr": 0.1}, {"epoch": 3, "lr": 0.05}],
    )
    text = (tmp_path / "metrics.csv").read_text(encoding="utf-8")
    assert text.splitlines() == ["epoch;loss;lr", "1;0.5;", "2;0.4;0.1", "3;;0.05"]
    assert list(tmp_path.iterdir()) == [tmp_path / "metrics.csv"]  # no temp left


def test_csv_logger_without_append_starts_the_file_again(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("old,header\n1,2\n", encoding="utf-8")
    logger = CSVLogger(append=False)
    host = attached(logger, save_path=tmp_path)
    fit(logger, host, [{"epoch": 1, "loss": math.nan, "tags": ["a", "b"], "note": None}])
    assert rows(tmp_path / "metrics.csv") == [
        ["epoch", "loss", "tags", "note"],
        ["1", "nan", '["a", "b"]', ""],
    ]


def test_csv_logger_needs_a_folder_and_checks_its_fields() -> None:
    logger = CSVLogger()
    logger.setup(component=Host())
    with pytest.raises(UsageError, match="CSVLogger has no folder to write to"):
        logger.run("on_fit_begin")
    with pytest.raises(ConfigurationError, match="separator"):
        CSVLogger(separator=", ")
    with pytest.raises(ConfigurationError, match="filename"):
        CSVLoggerConfig(filename="../up.csv")


# -- TerminateOnNaN -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan_stops_at_a_bad_batch_loss(bad: float) -> None:
    stopper = TerminateOnNaN()
    host = attached(stopper)
    stopper.run("on_fit_begin")
    stopper.run("on_batch_end", {"batch": 1, "loss": 0.3})
    assert not host.stop_training
    stopper.run("on_batch_end", {"batch": 2, "loss": bad})
    assert host.stop_training
    assert stopper.terminated == "batch"
    assert stopper.value is not None
    assert not math.isfinite(stopper.value)


def test_terminate_on_nan_watches_epochs_and_ignores_logs_without_the_loss() -> None:
    stopper = TerminateOnNaN(monitor="val_loss")
    host = attached(stopper)
    seen = fit(
        stopper,
        host,
        [{"loss": math.nan}, {"val_loss": "n/a"}, {"val_loss": math.nan}, {"val_loss": 1.0}],
    )
    assert len(seen) == 3
    assert stopper.terminated == "epoch"


def test_terminate_on_nan_needs_a_host_it_can_stop() -> None:
    stopper = TerminateOnNaN()
    stopper.setup(component=object())
    with pytest.raises(UsageError, match="TerminateOnNaN needs a component with 'stop_training'"):
        stopper.run("on_fit_begin")


# -- ReduceLROnPlateau ---------------------------------------------------------------------


def test_reduce_lr_on_plateau_reduces_after_patience_and_logs_the_rate() -> None:
    reducer = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=0.0)
    host = attached(reducer)
    seen = fit(reducer, host, epochs_of("loss", [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8]))
    assert reducer.reductions == [(4, 0.5), (6, 0.25)]
    assert host.optimizer.learning_rate == 0.25
    assert [logs["learning_rate"] for logs in seen] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_reduce_lr_on_plateau_cools_down_and_respects_the_floor() -> None:
    reducer = ReduceLROnPlateau(
        monitor="acc", mode="max", factor=0.1, patience=1, cooldown=2, min_lr=0.05, min_delta=0.0
    )
    host = attached(reducer)
    fit(reducer, host, epochs_of("acc", [0.5] * 8))
    # epoch 2 reduces; 3 and 4 cool down; 5 reduces to the floor; at the floor it stays
    assert reducer.reductions == [(2, 0.1), (5, 0.05)]
    assert host.optimizer.learning_rate == 0.05


def test_reduce_lr_on_plateau_names_a_missing_metric_and_a_missing_rate() -> None:
    reducer = ReduceLROnPlateau(monitor="val_loss")
    host = attached(reducer)
    reducer.run("on_fit_begin")
    with pytest.raises(NotFoundError, match=r"ReduceLROnPlateau\(monitor='val_loss'\).*'loss'"):
        reducer.run("on_epoch_end", {"epoch": 1, "loss": 1.0})
    host.optimizer = object()  # type: ignore[assignment]
    with pytest.raises(UsageError, match=r"target='optimizer'\): <object.*no 'learning_rate'"):
        reducer.run("on_fit_begin")
    elsewhere = ReduceLROnPlateau(target="trainer.optimizer")
    attached(elsewhere)
    with pytest.raises(UsageError, match=r"has no attribute 'trainer'"):
        elsewhere.run("on_fit_begin")


def test_reduce_lr_on_plateau_checks_its_fields() -> None:
    with pytest.raises(ConfigurationError, match="factor"):
        ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ConfigurationError, match="mode"):
        ReduceLROnPlateauConfig(mode="lowest")  # type: ignore[arg-type]


def test_the_rate_holder_may_be_the_host_itself() -> None:
    reducer = ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, target="")
    optimizer = Optimizer(0.8)
    assert isinstance(optimizer, HasLearningRate)
    reducer.setup(component=optimizer)
    reducer.run("on_fit_begin")
    for epoch in (1, 2):
        reducer.run("on_epoch_end", {"epoch": epoch, "loss": 1.0})
    assert optimizer.learning_rate == 0.4


# -- LearningRateScheduler --------------------------------------------------------------------


def test_scheduler_sets_the_rate_of_each_epoch_before_it_starts() -> None:
    seen_rates: list[float] = []
    host = Host()

    class Record(Callback):
        def on_epoch_begin(self, logs: Any) -> None:
            seen_rates.append(host.optimizer.learning_rate)

    scheduler = LearningRateScheduler(lambda epoch, rate: rate / epoch)
    pipeline = CallbackPipeline([scheduler, Record()])
    pipeline.setup(component=host)
    seen = fit(pipeline, host, [{"epoch": n} for n in (1, 2, 3)])
    assert seen_rates == [1.0, 0.5, pytest.approx(1 / 6)]
    assert scheduler.learning_rates == seen_rates
    assert [logs["learning_rate"] for logs in seen] == seen_rates


def test_step_decay_from_a_configuration() -> None:
    registry = Registry()
    registry.register(
        LearningRateSchedulerConfig(schedule=StepDecayConfig(every=2, factor=0.5, min_lr=0.2)),
        name="schedule",
    )
    scheduler = registry.build("schedule", LearningRateScheduler)
    assert isinstance(scheduler.schedule, StepDecay)
    host = attached(scheduler)
    fit(scheduler, host, [{} for _ in range(7)])
    assert scheduler.learning_rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2]


def test_scheduler_refuses_a_schedule_that_is_not_a_function_or_returns_no_rate() -> None:
    with pytest.raises(UsageError, match="needs a function"):
        LearningRateScheduler(0.1)  # type: ignore[arg-type]
    scheduler = LearningRateScheduler(lambda epoch, rate: -1.0 if epoch == 2 else rate)
    host = attached(scheduler)
    with pytest.raises(UsageError, match=r"returned -1.0 for epoch 2, not a rate"):
        fit(scheduler, host, [{}, {}])
    with pytest.raises(ConfigurationError, match="every"):
        StepDecay(every=0)


# -- EarlyStopping: baseline, start_from_epoch, restore_best ---------------------------------


def test_early_stopping_with_a_baseline_stops_a_fit_that_never_reaches_it() -> None:
    stopper = EarlyStopping(monitor="loss", patience=3, baseline=0.5)
    host = attached(stopper)
    seen = fit(stopper, host, epochs_of("loss", [0.9, 0.8, 0.7, 0.6, 0.55]))
    # each epoch improves, but none beats 0.5: the wait is never reset
    assert len(seen) == 3
    assert stopper.stopped_epoch == 3
    assert (stopper.best, stopper.best_epoch) == (0.7, 3)


def test_early_stopping_with_a_baseline_that_is_beaten_waits_as_usual() -> None:
    stopper = EarlyStopping(monitor="acc", mode="max", patience=2, baseline=0.5)
    host = attached(stopper)
    seen = fit(stopper, host, epochs_of("acc", [0.4, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7]))
    assert len(seen) == 6
    assert stopper.best_epoch == 4


def test_early_stopping_leaves_the_first_epochs_unwatched() -> None:
    stopper = EarlyStopping(monitor="loss", patience=1, start_from_epoch=2)
    host = attached(stopper)
    # epoch 1 has no loss yet and epoch 2's is not counted: neither is watched
    epochs = [{"epoch": 1}, {"epoch": 2, "loss": 0.1}, *epochs_of("loss", [9, 9, 5, 6, 6])][:2]
    epochs += [{"epoch": n, "loss": loss} for n, loss in [(3, 5.0), (4, 6.0), (5, 6.0)]]
    seen = fit(stopper, host, epochs)
    assert [logs["epoch"] for logs in seen] == [1, 2, 3, 4]
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (5, 3, 4)


def test_early_stopping_restores_the_best_state_at_the_end() -> None:
    stopper = EarlyStopping(monitor="loss", patience=2, restore_best=True)
    host = attached(stopper)
    fit(stopper, host, epochs_of("loss", [3.0, 1.0, 2.0, 2.5]))
    assert host.loaded == [{"value": 2.0}]  # the state of epoch 2, not the last (4)
    assert host.value == 2.0
    assert stopper.restored_epoch == 2


def test_early_stopping_restores_a_copy_taken_when_the_metric_improved() -> None:
    class Live(Host):
        def __init__(self) -> None:
            super().__init__()
            self.weights = [0.0]

        def state_dict(self) -> dict[str, Any]:
            return {"weights": self.weights}  # the live list, which training changes

        def load_state_dict(self, state: dict[str, Any]) -> None:
            self.weights = list(state["weights"])

    host = Live()
    stopper = EarlyStopping(monitor="loss", patience=5, restore_best=True)
    stopper.setup(component=host)
    stopper.run("on_fit_begin")
    for epoch, loss in enumerate([1.0, 2.0, 3.0], start=1):
        host.weights[0] = float(epoch)
        stopper.run("on_epoch_end", {"epoch": epoch, "loss": loss})
    stopper.run("on_fit_end")
    assert host.weights == [1.0]


def test_early_stopping_restores_nothing_when_the_last_epoch_was_best() -> None:
    stopper = EarlyStopping(monitor="loss", restore_best=True)
    host = attached(stopper)
    fit(stopper, host, epochs_of("loss", [3.0, 2.0, 1.0]))
    assert host.loaded == []
    assert stopper.restored_epoch is None


def test_early_stopping_with_restore_needs_the_state_protocol() -> None:
    class NoLoad:
        stop_training = False

        def state_dict(self) -> dict[str, Any]:
            return {}

    stopper = EarlyStopping(restore_best=True)
    stopper.setup(component=NoLoad())
    with pytest.raises(UsageError, match="EarlyStopping needs a component with 'load_state_dict'"):
        stopper.run("on_fit_begin")
    with pytest.raises(ConfigurationError, match="start_from_epoch"):
        EarlyStopping(start_from_epoch=-1)


# -- Checkpoint: top-k, save_last, serializers -------------------------------------------------


def test_checkpoint_keeps_the_top_k_best_files(tmp_path: Path) -> None:
    checkpoint = Checkpoint(monitor="loss", save_top_k=2)
    host = attached(checkpoint, save_path=tmp_path)
    fit(checkpoint, host, epochs_of("loss", [5.0, 3.0, 4.0, 1.0, 2.0, 6.0]))
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint-epoch0004.json",
        "checkpoint-epoch0005.json",
    ]
    assert [(saved.epoch, saved.value) for saved in checkpoint.kept] == [(4, 1.0), (5, 2.0)]
    assert checkpoint.best == 1.0
    assert checkpoint.best_path == tmp_path / "checkpoint-epoch0004.json"
    assert checkpoint.read() == {
        "epoch": 4,
        "logs": {"epoch": 4, "loss": 1.0, "value": 4.0},
        "state": {"value": 4.0},
    }


def test_checkpoint_without_a_monitor_keeps_the_latest_k_and_a_last_file(tmp_path: Path) -> None:
    checkpoint = Checkpoint(filename="state.json", save_top_k=2, every=2, save_last=True)
    host = attached(checkpoint, save_path=tmp_path)
    fit(checkpoint, host, [{"epoch": n, "value": float(n)} for n in range(1, 8)])
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "state-epoch0004.json",
        "state-epoch0006.json",
        "state-last.json",
    ]
    assert [saved.epoch for saved in checkpoint.kept] == [6, 4]
    assert checkpoint.read(tmp_path / "state-last.json")["state"] == {"value": 6.0}


def test_checkpoint_best_only_with_save_last_writes_the_latest_too(tmp_path: Path) -> None:
    checkpoint = Checkpoint(monitor="acc", mode="max", save_last=True)
    host = attached(checkpoint, save_path=tmp_path)
    fit(checkpoint, host, epochs_of("acc", [0.5, 0.9, 0.7]))
    assert checkpoint.read(tmp_path / "checkpoint.json")["epoch"] == 2
    assert checkpoint.read(tmp_path / "checkpoint-last.json")["epoch"] == 3


def test_checkpoint_keeping_every_epoch_and_skipping_nan(tmp_path: Path) -> None:
    checkpoint = Checkpoint(monitor="loss", save_top_k=None)
    host = attached(checkpoint, save_path=tmp_path)
    fit(checkpoint, host, epochs_of("loss", [2.0, math.nan, 1.0]))
    assert [saved.epoch for saved in checkpoint.kept] == [3, 1]
    assert len(list(tmp_path.iterdir())) == 2


def test_checkpoint_refuses_a_wrong_mode_top_k_or_serializer() -> None:
    with pytest.raises(ConfigurationError, match="mode"):
        Checkpoint(mode="best")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="save_top_k"):
        Checkpoint(save_top_k=0)
    with pytest.raises(UsageError, match=r"serializer=...\) needs an object with a 'suffix'"):
        Checkpoint(serializer=json)  # type: ignore[arg-type]


def test_the_json_serializer_names_the_path_of_a_value_it_cannot_encode(tmp_path: Path) -> None:
    serializer = JsonSerializer()
    with pytest.raises(UsageError, match=r"cannot encode state\.layers\[1\]\.bias as JSON.*set"):
        serializer.dumps({"state": {"layers": [{}, {"bias": {1, 2}}]}})
    with pytest.raises(UsageError, match=r"cannot encode state: its key \(1, 2\)"):
        serializer.dumps({"state": {(1, 2): 0}})


def test_the_json_serializer_suggests_npz_for_arrays() -> None:
    with pytest.raises(
        UsageError, match=r"state\.w as JSON: it is array.*NpzSerializer stores arrays"
    ):
        JsonSerializer().dumps({"state": {"w": np.zeros(2)}})


def test_npz_checkpoints_hold_arrays_exactly_and_load_without_pickle(tmp_path: Path) -> None:
    class ArrayHost(Host):
        def state_dict(self) -> dict[str, Any]:
            return {
                "weights": np.arange(6, dtype=np.float32).reshape(2, 3) * self.value,
                "layers": [{"bias": np.ones(2, dtype=np.int64)}],
                "step": np.int64(7),
                "name": "mlp",
            }

    checkpoint = Checkpoint(monitor="loss", serializer=NpzSerializer())
    host = attached(checkpoint, ArrayHost(), tmp_path)
    fit(checkpoint, host, epochs_of("loss", [2.0, 1.0]))
    path = tmp_path / "checkpoint.npz"
    assert checkpoint.best_path == path
    loaded = checkpoint.read()
    assert loaded["epoch"] == 2
    assert loaded["state"]["weights"].dtype == np.float32
    np.testing.assert_array_equal(loaded["state"]["weights"], np.arange(6).reshape(2, 3) * 2.0)
    np.testing.assert_array_equal(loaded["state"]["layers"][0]["bias"], [1, 1])
    assert (loaded["state"]["step"], loaded["state"]["name"]) == (7, "mlp")
    with np.load(path, allow_pickle=False) as archive:  # readable by numpy alone
        assert archive["state.weights"].shape == (2, 3)


def test_the_npz_serializer_refuses_object_arrays_and_other_objects_by_path() -> None:
    serializer = NpzSerializer()
    with pytest.raises(UsageError, match=r"cannot encode state\.w as npz: .*dtype=object"):
        serializer.dumps({"state": {"w": np.array([object()], dtype=object)}})
    with pytest.raises(
        UsageError, match=r"cannot encode state\.f\[0\] as npz: it is <built-in function print>"
    ):
        serializer.dumps({"state": {"f": [print]}})
    with pytest.raises(UsageError, match="'@array' is reserved"):
        serializer.dumps({"state": {"@array": 1}})


def test_a_checkpoint_with_the_npz_serializer_from_a_configuration(tmp_path: Path) -> None:
    registry = Registry()
    registry.register(
        CheckpointConfig(save_top_k=3, serializer=NpzSerializerConfig()), name="checkpoint"
    )
    checkpoint = registry.build("checkpoint", Checkpoint)
    assert isinstance(checkpoint.serializer, NpzSerializer)
    host = attached(checkpoint, save_path=tmp_path)
    fit(checkpoint, host, [{"epoch": 1, "value": 1.5}])
    assert checkpoint.read(tmp_path / "checkpoint-epoch0001.npz")["state"] == {"value": 1.5}
