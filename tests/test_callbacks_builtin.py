from __future__ import annotations

import io
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import cinnamon
import cinnamon.callbacks as builtin
from cinnamon import CallbackPipeline, Configuration, Registry
from cinnamon.callbacks import (
    Checkpoint,
    CheckpointConfig,
    EarlyStopping,
    EarlyStoppingConfig,
    MetricsLogger,
    MetricsLoggerConfig,
    ProgressBar,
    ProgressBarConfig,
    Timer,
    TimerConfig,
)
from cinnamon.errors import ConfigurationError, NotFoundError, UsageError


class Host:
    """A stand-in for a trainer: what the callbacks read from or set on their host."""

    def __init__(self, epochs: int | None = None, batches_per_epoch: int | None = None) -> None:
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.stop_training = False
        self.state: dict[str, Any] = {"weights": [0.0]}

    def state_dict(self) -> dict[str, Any]:
        return {"weights": list(self.state["weights"])}


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def fit(callback: cinnamon.Callback, epochs: Iterable[dict[str, Any]], result: Any = None) -> None:
    """Fire the hookpoints of a fit whose epochs end with ``epochs`` logs."""
    callback.run("on_fit_begin", None)
    for logs in epochs:
        callback.run("on_epoch_begin", None)
        callback.run("on_epoch_end", logs)
    callback.run("on_fit_end", result)


def epochs_of(monitor: str, values: Iterable[float]) -> Iterator[dict[str, Any]]:
    for epoch, value in enumerate(values, start=1):
        yield {"epoch": epoch, monitor: value}


def strict_json(line: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(token)

    return json.loads(line, parse_constant=refuse)


# -- the module -------------------------------------------------------------------------


def test_all_lists_the_callbacks_and_their_configurations() -> None:
    public = {
        name
        for name, value in vars(builtin).items()
        if not name.startswith("_")
        and str(getattr(value, "__module__", "")).startswith(f"{builtin.__name__}._")
    }
    assert set(builtin.__all__) == public
    assert builtin.__all__ == sorted(builtin.__all__)
    assert not set(builtin.__all__) & set(cinnamon.__all__)


@pytest.mark.parametrize(
    ("config", "component"),
    [
        (ProgressBarConfig(width=12), ProgressBar),
        (MetricsLoggerConfig(filename="m.jsonl"), MetricsLogger),
        (EarlyStoppingConfig(patience=7, mode="max"), EarlyStopping),
        (CheckpointConfig(every=2), Checkpoint),
        (TimerConfig(filename="t.json"), Timer),
    ],
)
def test_each_configuration_builds_its_callback(config: Configuration, component: type) -> None:
    registry = Registry()
    registry.register(config, name="callback")
    built = registry.build("callback", component)
    for name, value in config:
        if name == "serializer":  # None stands for the JSON serializer
            assert isinstance(built.serializer, builtin.JsonSerializer)
            continue
        assert getattr(built, name) == value
    assert all(info.description for info in type(config).params().values())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: EarlyStopping(patience=0), "patience"),
        (lambda: EarlyStopping(mode="lowest"), "mode"),  # type: ignore[arg-type]
        (lambda: EarlyStopping(min_delta=-1.0), "min_delta"),
        (lambda: Checkpoint(every=0), "every"),
        (lambda: Checkpoint(filename="../escape.json"), "filename"),
        (lambda: MetricsLogger(filename="a/b.jsonl"), "filename"),
        (lambda: Timer(filename=".."), "filename"),
        (lambda: ProgressBar(width=0), "width"),
    ],
)
def test_hand_made_callbacks_obey_the_configuration_constraints(make: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        make()


# -- ProgressBar --------------------------------------------------------------------------


def test_progress_bar_prints_a_line_per_epoch_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(width=10, stream=stream, eta=False)
    bar.setup(component=Host(epochs=4))
    fit(bar, [{"epoch": 1, "loss": 0.5, "val_loss": 0.25}, {"epoch": 2, "loss": 0.123456}])
    assert stream.getvalue() == (
        "epoch 1/4 [##........] loss=0.5 val_loss=0.25\nepoch 2/4 [#####.....] loss=0.1235\n"
    )


def test_progress_bar_redraws_one_line_in_place_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream = TTY()
    bar = ProgressBar(width=4, stream=stream, eta=False)
    bar.setup(component=Host(epochs=2))
    fit(bar, [{"epoch": 1, "loss": 0.5, "val_loss": 2.0}, {"epoch": 2, "loss": 0.25}])
    first = "epoch 1/2 [##..] loss=0.5 val_loss=2"
    second = "epoch 2/2 [####] loss=0.25"
    # The shorter second line is padded to blank out the rest of the first.
    padding = " " * (len(first) - len(second))
    assert stream.getvalue() == f"\r{first}\r{second}{padding}\n"


def test_progress_bar_advances_with_batches_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream = TTY()
    bar = ProgressBar(width=8, batches=True, stream=stream, eta=False)
    bar.setup(component=Host(epochs=2, batches_per_epoch=2))
    bar.run("on_fit_begin")
    bar.run("on_epoch_begin")
    bar.run("on_batch_end", {"batch": 1, "loss": 0.75})
    bar.run("on_batch_end", {"batch": 2, "loss": 0.5})
    bar.run("on_epoch_end", {"epoch": 1, "loss": 0.6})
    frames = stream.getvalue().split("\r")[1:]
    assert [frame.rstrip() for frame in frames] == [
        "epoch 1/2 [##......] batch 1/2 loss=0.75",
        "epoch 1/2 [####....] batch 2/2 loss=0.5",
        "epoch 1/2 [####....] loss=0.6",
    ]


def test_progress_bar_shows_no_batches_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(width=2, batches=True, stream=stream, eta=False)
    bar.setup(component=Host(epochs=1, batches_per_epoch=2))
    bar.run("on_fit_begin")
    bar.run("on_batch_end", {"batch": 1, "loss": 1.0})
    assert stream.getvalue() == ""
    bar.run("on_epoch_end", {"epoch": 1, "loss": 0.5})
    assert stream.getvalue() == "epoch 1/1 [##] loss=0.5\n"


def test_progress_bar_shows_the_chosen_metrics_with_the_chosen_precision() -> None:
    stream = io.StringIO()
    bar = ProgressBar(metrics=["val_loss", "missing"], precision=2, stream=stream, eta=False)
    fit(bar, [{"loss": 1.0, "val_loss": 0.123456, "note": "x"}])
    assert stream.getvalue() == "epoch 1 val_loss=0.12\n"


def test_progress_bar_without_totals_counts_epochs_and_shows_every_metric() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, eta=False)
    bar.setup(component=object())
    fit(bar, [{"loss": 2.0, "step": 10}, {"loss": 1.0, "step": 20}])
    assert stream.getvalue() == "epoch 1 loss=2 step=10\nepoch 2 loss=1 step=20\n"


def test_progress_bar_writes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    fit(ProgressBar(eta=False), [{"epoch": 1, "loss": 0.5}])
    captured = capsys.readouterr()
    assert captured.err == "epoch 1 loss=0.5\n"
    assert captured.out == ""


def test_progress_bar_ends_its_line_when_the_fit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream = TTY()
    bar = ProgressBar(stream=stream, eta=False)
    bar.run("on_fit_begin")
    bar.run("on_epoch_end", {"loss": 1.0})
    bar.run("on_fit_exception", RuntimeError("boom"))
    assert stream.getvalue() == "\repoch 1 loss=1\n"


def test_progress_bar_keeps_a_redrawn_line_within_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    stream = TTY()
    bar = ProgressBar(stream=stream)
    bar.run("on_fit_begin")
    bar.run("on_epoch_end", {"a_long_metric_name": 1.0, "another_one": 2.0})
    assert stream.getvalue() == "\r" + "epoch 1 a_long_metric_name=1"[:19]


# -- MetricsLogger --------------------------------------------------------------------------


def test_metrics_logger_appends_a_json_line_per_epoch_and_at_the_fit_end(tmp_path: Path) -> None:
    logger = MetricsLogger()
    logger.setup(component=Host(), save_path=tmp_path)
    epochs = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25, "val_loss": 0.3}]
    fit(logger, epochs, result={"loss": 0.25, "epochs": 2})
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    assert [strict_json(line) for line in lines] == [
        {"event": "epoch_end", "epoch": 1, "loss": 0.5},
        {"event": "epoch_end", "epoch": 2, "loss": 0.25, "val_loss": 0.3},
        {"event": "fit_end", "loss": 0.25, "epochs": 2},
    ]
    assert logger.path == tmp_path / "metrics.jsonl"


def test_metrics_logger_writes_each_line_as_soon_as_the_epoch_ends(tmp_path: Path) -> None:
    logger = MetricsLogger(filename="live.jsonl")
    logger.setup(save_path=tmp_path)
    logger.run("on_fit_begin")
    logger.run("on_epoch_end", {"epoch": 1, "loss": 1.5})
    # Read while the fit is still going: the line is already on disk.
    assert strict_json((tmp_path / "live.jsonl").read_text(encoding="utf-8")) == {
        "event": "epoch_end",
        "epoch": 1,
        "loss": 1.5,
    }


def test_metrics_logger_appends_to_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"event": "earlier"}\n', encoding="utf-8")
    logger = MetricsLogger()
    logger.setup(save_path=tmp_path)
    fit(logger, [{"epoch": 1}])
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    assert [strict_json(line)["event"] for line in lines] == ["earlier", "epoch_end", "fit_end"]


class FakeArray:
    """Duck-types a numpy array or scalar."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def tolist(self) -> Any:
        return self.values


class Count:
    def __index__(self) -> int:
        return 7


def test_metrics_logger_writes_values_json_cannot_hold_as_strict_json(tmp_path: Path) -> None:
    logger = MetricsLogger()
    logger.setup(save_path=tmp_path)
    logs = {
        "nan": math.nan,
        "inf": math.inf,
        "array": FakeArray([1.0, math.nan]),
        "count": Count(),
        "decimal": Decimal("0.5"),
        "nested": {1: (1, 2), "set": {3}},
        "path": Path("a") / "b",
        "flag": True,
        "none": None,
        "event": "ignored: the event entry is the logger's",
    }
    logger.run("on_epoch_end", logs)
    record = strict_json((tmp_path / "metrics.jsonl").read_text(encoding="utf-8"))
    assert record == {
        "event": "epoch_end",
        "nan": None,
        "inf": None,
        "array": [1.0, None],
        "count": 7,
        "decimal": 0.5,
        "nested": {"1": [1, 2], "set": [3]},
        "path": str(Path("a") / "b"),
        "flag": True,
        "none": None,
    }


def test_metrics_logger_can_keep_nan_for_python_readers(tmp_path: Path) -> None:
    logger = MetricsLogger(allow_nan=True)
    logger.setup(save_path=tmp_path)
    logger.run("on_epoch_end", {"loss": math.nan, "gain": -math.inf})
    text = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8")
    assert text == '{"event": "epoch_end", "loss": NaN, "gain": -Infinity}\n'


def test_metrics_logger_records_a_result_that_is_not_a_dict_and_a_failure(tmp_path: Path) -> None:
    logger = MetricsLogger()
    logger.setup(save_path=tmp_path)
    logger.run("on_fit_end", 0.5)
    logger.run("on_fit_exception", ValueError("diverged"))
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    assert [strict_json(line) for line in lines] == [
        {"event": "fit_end", "result": 0.5},
        {"event": "fit_exception", "error": "ValueError: diverged"},
    ]


def test_metrics_logger_needs_a_folder_before_the_fit_starts() -> None:
    logger = MetricsLogger()
    assert logger.path is None
    with pytest.raises(UsageError, match=r"MetricsLogger has no folder to write to: call setup"):
        logger.run("on_fit_begin")


# -- EarlyStopping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "values"),
    [
        ("min", [1.0, 0.5, 0.6, 0.5, 0.7, 0.1]),
        ("max", [1.0, 2.0, 1.5, 2.0, 0.0, 9.0]),
    ],
)
def test_early_stopping_stops_after_exactly_patience_epochs_without_improvement(
    mode: Any, values: list[float]
) -> None:
    host = Host()
    stopper = EarlyStopping(monitor="score", mode=mode, patience=3)
    stopper.setup(component=host)
    stopper.run("on_fit_begin")
    flags = []
    for logs in epochs_of("score", values[:5]):
        stopper.run("on_epoch_end", logs)
        flags.append(host.stop_training)
    # Epoch 2 is the best; 3, 4 (equal is no improvement) and 5 are not better.
    assert flags == [False, False, False, False, True]
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (values[1], 2, 5)
    assert stopper.wait == 3


def test_early_stopping_counts_an_improvement_only_beyond_min_delta() -> None:
    host = Host()
    stopper = EarlyStopping(monitor="loss", patience=2, min_delta=0.1)
    stopper.setup(component=host)
    stopper.run("on_fit_begin")
    for logs in epochs_of("loss", [1.0, 0.95, 0.75, 0.7, 0.66]):
        stopper.run("on_epoch_end", logs)
    # 0.95 is within 0.1 of 1.0; 0.75 improves on it; 0.7 and 0.66 are within 0.1 of 0.75.
    assert host.stop_training is True
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (0.75, 3, 5)


def test_early_stopping_waits_again_after_an_improvement_and_ignores_nan() -> None:
    host = Host()
    stopper = EarlyStopping(monitor="loss", patience=2)
    stopper.setup(component=host)
    stopper.run("on_fit_begin")
    for logs in epochs_of("loss", [math.nan, 1.0, 2.0, 0.5, math.nan]):
        stopper.run("on_epoch_end", logs)
    assert host.stop_training is False
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (0.5, 4, 1)


def test_early_stopping_counts_epochs_when_the_logs_do_not_number_them() -> None:
    host = Host()
    stopper = EarlyStopping(monitor="loss", patience=1)
    stopper.setup(component=host)
    fit(stopper, [{"loss": 1.0}, {"loss": 2.0}])
    assert (stopper.best_epoch, stopper.stopped_epoch) == (1, 2)


def test_early_stopping_starts_afresh_with_each_fit() -> None:
    host = Host()
    stopper = EarlyStopping(monitor="loss", patience=1)
    stopper.setup(component=host)
    fit(stopper, epochs_of("loss", [0.1, 0.2]))
    assert stopper.stopped_epoch == 2
    host.stop_training = False
    fit(stopper, epochs_of("loss", [5.0]))
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch) == (5.0, 1, None)
    assert host.stop_training is False


def test_early_stopping_names_a_missing_metric_and_the_close_one() -> None:
    stopper = EarlyStopping(monitor="val_los")
    stopper.setup(component=Host())
    stopper.run("on_fit_begin")
    with pytest.raises(
        NotFoundError,
        match=r"EarlyStopping\(monitor='val_los'\): the logs of epoch 1 have no metric "
        r"'val_los' \(they have 'loss', 'val_loss'\); did you mean 'val_loss'\?",
    ):
        stopper.run("on_epoch_end", {"epoch": 1, "loss": 1.0, "val_loss": 2.0})


def test_early_stopping_lists_the_metrics_there_are() -> None:
    stopper = EarlyStopping()
    stopper.setup(component=Host())
    stopper.run("on_fit_begin")
    with pytest.raises(
        NotFoundError, match=r"epoch 3 have no metric 'val_loss' \(they have 'accuracy'\)"
    ) as caught:
        stopper.run("on_epoch_end", {"epoch": 3, "accuracy": 0.5})
    assert "did you mean" not in str(caught.value)
    assert caught.value.__notes__ == [
        "cinnamon: raised in hookpoint 'on_epoch_end' of EarlyStopping"
    ]


def test_early_stopping_refuses_a_metric_that_is_not_a_number() -> None:
    stopper = EarlyStopping(monitor="loss")
    stopper.setup(component=Host())
    stopper.run("on_fit_begin")
    with pytest.raises(UsageError, match=r"the metric 'loss' of epoch 1 is 'low', not a number"):
        stopper.run("on_epoch_end", {"loss": "low"})


def test_early_stopping_needs_a_host_it_can_stop() -> None:
    stopper = EarlyStopping()
    with pytest.raises(UsageError, match=r"EarlyStopping is attached to no component"):
        stopper.run("on_fit_begin")
    stopper.setup(component=object())
    with pytest.raises(UsageError, match=r"needs a component with 'stop_training'"):
        stopper.run("on_fit_begin")


# -- Checkpoint -----------------------------------------------------------------------------


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name != "checkpoint.json")


def test_checkpoint_saves_the_host_state_every_few_epochs(tmp_path: Path) -> None:
    host = Host()
    checkpoint = Checkpoint(every=2)
    checkpoint.setup(component=host, save_path=tmp_path / "run")
    checkpoint.run("on_fit_begin")
    saved = []
    for epoch in range(1, 6):
        host.state["weights"] = [float(epoch)]
        checkpoint.run("on_epoch_end", {"epoch": epoch, "loss": 1.0 / epoch})
        saved.append(checkpoint.saved_epoch)
    assert saved == [None, 2, 2, 4, 4]
    assert read(tmp_path / "run" / "checkpoint.json") == {
        "epoch": 4,
        "logs": {"epoch": 4, "loss": 0.25},
        "state": {"weights": [4.0]},
    }
    assert checkpoint.path == tmp_path / "run" / "checkpoint.json"
    assert leftovers(tmp_path / "run") == []


@pytest.mark.parametrize(
    ("mode", "values", "saved"),
    [
        ("min", [3.0, 2.0, 2.5, 1.0, 1.0], [1, 2, 2, 4, 4]),
        ("max", [3.0, 2.0, 2.5, 4.0, 4.0], [1, 1, 1, 4, 4]),
    ],
)
def test_checkpoint_with_a_monitor_saves_only_improvements(
    tmp_path: Path, mode: Any, values: list[float], saved: list[int]
) -> None:
    host = Host()
    checkpoint = Checkpoint(monitor="score", mode=mode, filename="best.json")
    checkpoint.setup(component=host, save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    seen = []
    for logs in epochs_of("score", values):
        host.state["weights"] = [logs["score"]]
        checkpoint.run("on_epoch_end", logs)
        seen.append(checkpoint.saved_epoch)
    assert seen == saved
    written = read(tmp_path / "best.json")
    assert written["epoch"] == saved[-1]
    assert written["state"] == {"weights": [values[saved[-1] - 1]]}
    assert checkpoint.best == values[saved[-1] - 1]


class FailingHost(Host):
    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    def state_dict(self) -> dict[str, Any]:
        if self.fail:
            msg = "out of memory while gathering the state"
            raise MemoryError(msg)
        return super().state_dict()


def test_a_failure_while_gathering_the_state_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    host = FailingHost()
    checkpoint = Checkpoint()
    checkpoint.setup(component=host, save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    host.state["weights"] = [1.0]
    checkpoint.run("on_epoch_end", {"epoch": 1})
    before = (tmp_path / "checkpoint.json").read_bytes()
    host.fail = True
    with pytest.raises(MemoryError, match="out of memory"):
        checkpoint.run("on_epoch_end", {"epoch": 2})
    assert (tmp_path / "checkpoint.json").read_bytes() == before
    assert read(tmp_path / "checkpoint.json")["epoch"] == 1
    assert checkpoint.saved_epoch == 1
    assert leftovers(tmp_path) == []


def test_a_crash_in_the_middle_of_writing_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = Host()
    checkpoint = Checkpoint()
    checkpoint.setup(component=host, save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    checkpoint.run("on_epoch_end", {"epoch": 1})
    before = (tmp_path / "checkpoint.json").read_bytes()
    written: list[Path] = []

    def crash(fd: int) -> None:
        # By now the new state is (partly) in a temporary file next to the checkpoint.
        written.extend(path for path in tmp_path.iterdir() if path.name.endswith(".tmp"))
        msg = "disk unplugged"
        raise OSError(msg)

    monkeypatch.setattr(os, "fsync", crash)
    host.state["weights"] = [2.0] * 1000
    with pytest.raises(OSError, match="disk unplugged"):
        checkpoint.run("on_epoch_end", {"epoch": 2})
    assert len(written) == 1
    assert written[0].parent == tmp_path
    assert (tmp_path / "checkpoint.json").read_bytes() == before
    assert leftovers(tmp_path) == []


def test_state_that_json_cannot_hold_fails_before_any_file_is_touched(tmp_path: Path) -> None:
    host = Host()
    checkpoint = Checkpoint()
    checkpoint.setup(component=host, save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    host.state["weights"] = [object()]
    with pytest.raises(
        UsageError, match=r"cannot encode state\.weights\[0\] as JSON: it is <object"
    ):
        checkpoint.run("on_epoch_end", {"epoch": 1})
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_keeps_nan_in_the_state_readable_by_python(tmp_path: Path) -> None:
    host = Host()
    host.state["weights"] = [math.nan]
    checkpoint = Checkpoint()
    checkpoint.setup(component=host, save_path=tmp_path)
    fit(checkpoint, [{"epoch": 1, "loss": math.inf}])
    written = read(tmp_path / "checkpoint.json")
    assert math.isnan(written["state"]["weights"][0])
    assert written["logs"]["loss"] == math.inf


def test_checkpoint_needs_a_state_dict_and_a_folder(tmp_path: Path) -> None:
    checkpoint = Checkpoint()
    checkpoint.setup(component=object(), save_path=tmp_path)
    with pytest.raises(UsageError, match=r"Checkpoint needs a component with 'state_dict'"):
        checkpoint.run("on_fit_begin")
    checkpoint.setup(component=Host())
    with pytest.raises(UsageError, match=r"Checkpoint has no folder to write to"):
        checkpoint.run("on_fit_begin")


def test_checkpoint_names_a_missing_monitored_metric(tmp_path: Path) -> None:
    checkpoint = Checkpoint(monitor="val_acc", mode="max")
    checkpoint.setup(component=Host(), save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    with pytest.raises(NotFoundError, match=r"Checkpoint\(monitor='val_acc'\).*did you mean 'acc'"):
        checkpoint.run("on_epoch_end", {"epoch": 1, "acc": 0.5})


# -- Timer ------------------------------------------------------------------------------------


class Clock:
    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_timer_adds_the_times_to_the_logs_and_writes_them(tmp_path: Path) -> None:
    timer = Timer(clock=Clock(10.0, 11.0, 13.0, 13.5, 17.0, 20.0))
    timer.setup(save_path=tmp_path)
    epochs: list[dict[str, Any]] = [{"epoch": 1}, {"epoch": 2}]
    result: dict[str, Any] = {"loss": 0.1}
    fit(timer, epochs, result)
    assert epochs == [{"epoch": 1, "epoch_seconds": 2.0}, {"epoch": 2, "epoch_seconds": 3.5}]
    assert result == {"loss": 0.1, "fit_seconds": 10.0}
    assert (timer.epoch_seconds, timer.fit_seconds) == ([2.0, 3.5], 10.0)
    assert read(tmp_path / "timings.json") == {"fit_seconds": 10.0, "epoch_seconds": [2.0, 3.5]}


def test_timer_times_epochs_from_end_to_end_without_epoch_begin() -> None:
    timer = Timer(clock=Clock(0.0, 2.0, 5.0, 6.0))
    timer.run("on_fit_begin")
    first: dict[str, Any] = {}
    timer.run("on_epoch_end", first)
    timer.run("on_epoch_end", None)  # logs that are not a dict are left alone
    timer.run("on_fit_end", "done")
    assert first == {"epoch_seconds": 2.0}
    assert (timer.epoch_seconds, timer.fit_seconds) == ([2.0, 3.0], 6.0)


def test_timer_writes_no_file_without_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    timer = Timer()
    assert timer.clock is time.perf_counter
    fit(timer, [{"epoch": 1}])
    assert timer.fit_seconds is not None
    assert timer.fit_seconds >= timer.epoch_seconds[0] >= 0.0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("timer_first", [True, False])
def test_only_callbacks_after_the_timer_see_its_entries(tmp_path: Path, timer_first: bool) -> None:
    timer, logger = Timer(), MetricsLogger()
    pipeline = CallbackPipeline([timer, logger] if timer_first else [logger, timer])
    pipeline.setup(component=Host(), save_path=tmp_path)
    fit(pipeline, [{"epoch": 1}], {"loss": 0.5})
    lines = (tmp_path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    records = [strict_json(line) for line in lines]
    assert ("epoch_seconds" in records[0]) is timer_first
    assert ("fit_seconds" in records[1]) is timer_first


# -- together ---------------------------------------------------------------------------------


def test_the_callbacks_work_together_in_a_pipeline(tmp_path: Path) -> None:
    host = Host(epochs=10)
    stream = io.StringIO()
    pipeline = CallbackPipeline(
        [
            Timer(),
            ProgressBar(stream=stream, metrics=["loss"]),
            MetricsLogger(),
            EarlyStopping(monitor="loss", patience=2),
            Checkpoint(monitor="loss"),
        ]
    )
    pipeline.setup(component=host, save_path=tmp_path)
    pipeline.run("on_fit_begin")
    for logs in epochs_of("loss", [1.0, 0.5, 0.6, 0.7, 0.1]):
        pipeline.run("on_epoch_begin")
        pipeline.run("on_epoch_end", logs)
        if host.stop_training:
            break
    pipeline.run("on_fit_end", {"epochs": logs["epoch"]})
    pipeline.clear()
    assert logs["epoch"] == 4
    assert stream.getvalue().count("\n") == 4
    assert read(tmp_path / "checkpoint.json")["epoch"] == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint.json",
        "metrics.jsonl",
        "timings.json",
    ]
    assert all(child.component is None for child in pipeline.components)


def test_callbacks_pickle_without_their_host(tmp_path: Path) -> None:
    import pickle

    stopper = EarlyStopping(patience=2)
    stopper.setup(component=Host(), save_path=tmp_path)
    stopper.clear()
    copy = pickle.loads(pickle.dumps(stopper))
    assert (copy.monitor, copy.patience, copy.component) == ("val_loss", 2, None)


def test_progress_bar_stream_is_not_a_configuration_field() -> None:
    # The stream is for tests and embedding; files cannot (and need not) name one.
    assert "stream" not in ProgressBarConfig.model_fields
    with pytest.raises(ConfigurationError, match="stream"):
        ProgressBarConfig(stream=sys.stdout)  # type: ignore[call-arg]
