"""cinnamon callbacks inside a real Keras 3 fit, on the JAX backend, on the CPU."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is first imported

import keras
import numpy as np
import pytest

from cinnamon import Callback, CallbackPipeline, PipelineConfig, RegistrationKey, Registry
from cinnamon.callbacks import (
    CSVLoggerConfig,
    EarlyStopping,
    History,
    HistoryConfig,
    LambdaCallback,
    LearningRateScheduler,
    Timer,
)
from cinnamon.errors import UsageError
from cinnamon.integrations.keras import KerasCallback


def model(learning_rate: float = 0.05) -> Any:
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return net


def data() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


def test_the_hookpoints_fire_in_order_with_keras_logs_numbered_from_one() -> None:
    calls: list[tuple[str, Any]] = []

    def record(name: str) -> Any:
        return lambda logs: calls.append((name, dict(logs or {})))

    hooks = ("on_fit_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end")
    spy = LambdaCallback(**{name: record(name) for name in (*hooks, "on_fit_end")})
    x, y = data()
    model().fit(x, y, epochs=2, batch_size=32, validation_split=0.5, verbose=0,
                callbacks=[KerasCallback(spy)])  # fmt: skip
    names = [name for name, _ in calls]
    per_epoch = ["on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end"]
    assert names == ["on_fit_begin", *per_epoch, *per_epoch, "on_fit_end"]
    epoch_ends = [logs for name, logs in calls if name == "on_epoch_end"]
    assert [logs["epoch"] for logs in epoch_ends] == [1, 2]
    assert {"loss", "val_loss"} <= set(epoch_ends[0])
    assert all(isinstance(logs["loss"], float) for logs in epoch_ends)
    assert calls[2][1] == {"batch": 1}


def test_the_callbacks_get_the_keras_model_as_their_component_and_are_cleared() -> None:
    seen: list[Any] = []
    spy = LambdaCallback(on_fit_begin=lambda logs: seen.append(spy.component))
    net = model()
    x, y = data()
    net.fit(x, y, epochs=1, verbose=0, callbacks=[KerasCallback(spy, save_path="unused")])
    assert seen == [net]
    assert spy.component is None  # cleared when the fit ended


def test_cinnamon_early_stopping_stops_a_keras_fit_and_history_matches_keras() -> None:
    history = History()
    stopper = EarlyStopping(monitor="loss", patience=1, min_delta=10.0)  # nothing improves enough
    x, y = data()
    keras_history = model().fit(
        x, y, epochs=20, verbose=0, callbacks=[KerasCallback(CallbackPipeline([stopper, history]))]
    )
    assert keras_history.epoch == [0, 1]  # Keras saw the stop after the second epoch
    assert stopper.stopped_epoch == 2
    assert history.epochs == [1, 2]
    assert history.history["loss"] == pytest.approx(keras_history.history["loss"])


def test_a_schedule_sets_the_keras_optimizer_learning_rate() -> None:
    scheduler = LearningRateScheduler(lambda epoch, rate: 0.1 / epoch)
    net = model()
    x, y = data()
    keras_history = net.fit(x, y, epochs=3, verbose=0, callbacks=[KerasCallback(scheduler)])
    assert float(net.optimizer.learning_rate) == pytest.approx(0.1 / 3)
    assert scheduler.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3])
    # the rate the scheduler logs reaches Keras's own History
    assert keras_history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_a_pipeline_built_from_configurations_logs_a_keras_fit(tmp_path: Path) -> None:
    registry = Registry()
    registry.register(CSVLoggerConfig(), name="csv")
    registry.register(HistoryConfig(), name="history")
    registry.register(
        PipelineConfig(components=[RegistrationKey("history"), RegistrationKey("csv")]),
        name="callbacks",
        component=CallbackPipeline,
    )
    callbacks = registry.build("callbacks", CallbackPipeline)
    callbacks.insert(0, Timer())
    x, y = data()
    keras_history = model().fit(
        x, y, epochs=3, validation_split=0.25, verbose=0,
        callbacks=[KerasCallback(callbacks, save_path=tmp_path)],
    )  # fmt: skip
    with (tmp_path / "metrics.csv").open(newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["epoch"] for row in table] == ["1", "2", "3"]
    assert [float(row["val_loss"]) for row in table] == pytest.approx(
        keras_history.history["val_loss"]
    )
    assert all(float(row["epoch_seconds"]) > 0 for row in table)
    assert "epoch_seconds" in keras_history.history  # copied back into Keras's logs


def test_an_error_in_a_cinnamon_hook_escapes_the_keras_fit_with_its_note() -> None:
    def fail(logs: Any) -> None:
        msg = "bad epoch"
        raise ValueError(msg)

    x, y = data()
    with pytest.raises(ValueError, match="bad epoch") as caught:
        model().fit(x, y, epochs=2, verbose=0,
                    callbacks=[KerasCallback(LambdaCallback(on_epoch_end=fail))])  # fmt: skip
    assert any("of LambdaCallback" in note for note in caught.value.__notes__)


@pytest.mark.parametrize("wrong", [EarlyStopping, "callbacks", None, keras.callbacks.History()])
def test_the_adapter_refuses_what_is_not_a_cinnamon_callback(wrong: Any) -> None:
    with pytest.raises(UsageError, match="KerasCallback wraps a cinnamon Callback"):
        KerasCallback(wrong)


def test_cinnamon_alone_does_not_import_keras() -> None:
    code = (
        "import sys, cinnamon, cinnamon.callbacks, cinnamon.integrations;"
        "cinnamon.Registry; assert 'keras' not in sys.modules and 'jax' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_is_a_keras_callback() -> None:
    assert isinstance(KerasCallback(Callback()), keras.callbacks.Callback)
