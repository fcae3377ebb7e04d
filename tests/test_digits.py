"""The digits job: a real network on real data, trained with the built-in callbacks."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cinnamon import Registry
from cinnamon._cli import main
from cinnamon._files.declarative import load
from cinnamon.callbacks import NpzSerializer
from cinnamon.digits import (
    MLP,
    DigitsData,
    DigitsDataConfig,
    DigitsTrainer,
    DigitsTrainerConfig,
    MomentumSGDConfig,
)
from cinnamon.errors import ConfigurationError, UsageError

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "digits.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The README's command, run once: its printed summary and its run folder."""
    folder = tmp_path_factory.mktemp("digits")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        patch.chdir(folder)
        assert main(["run", "digits:trainer", "--config", str(CONFIG)]) == 0
    summary = json.loads(out.getvalue())
    return summary, folder / summary["run_dir"]


def table(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_the_command_reads_digits_well_on_images_it_never_saw(
    run: tuple[dict[str, Any], Path],
) -> None:
    summary, _ = run
    # A broken network (a sign flipped in a gradient, labels shuffled) scores about 0.1.
    assert summary["test_accuracy"] >= 0.9
    assert summary["epochs"] < 60  # early stopping ended it


def test_the_run_folder_holds_the_log_and_the_three_best_checkpoints(
    run: tuple[dict[str, Any], Path],
) -> None:
    summary, folder = run
    rows = table(folder / "metrics.csv")
    assert len(rows) == summary["epochs"]
    assert list(rows[0]) == [
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
    ]
    # the schedule halves the rate every 10 epochs
    assert {row["learning_rate"] for row in rows[:10]} == {"0.1"}
    assert {row["learning_rate"] for row in rows[10:20]} == {"0.05"}
    checkpoints = sorted(folder.glob("checkpoint-epoch*.npz"))
    assert len(checkpoints) == 3
    best = sorted(float(row["val_accuracy"]) for row in rows)[-3:]
    saved = [NpzSerializer().loads(path.read_bytes()) for path in checkpoints]
    assert sorted(item["logs"]["val_accuracy"] for item in saved) == pytest.approx(best)
    assert (folder / "config.toml").is_file()


def test_early_stopping_restored_the_weights_of_the_best_epoch(
    run: tuple[dict[str, Any], Path],
) -> None:
    summary, folder = run
    val_losses = [float(row["val_loss"]) for row in table(folder / "metrics.csv")]
    assert min(val_losses) < val_losses[-1]  # the last epoch was not the best ...
    assert summary["val_loss"] == pytest.approx(min(val_losses))  # ... and the best is back


def test_a_checkpoint_resumes_into_a_trainer_built_from_the_same_file(
    run: tuple[dict[str, Any], Path],
) -> None:
    _, folder = run
    registry = Registry()
    load(registry, CONFIG)
    trainer = registry.build("digits:trainer", DigitsTrainer)
    path = min(folder.glob("checkpoint-epoch*.npz"))
    saved = NpzSerializer().loads(path.read_bytes())
    trainer.load_state_dict(saved["state"])
    assert trainer.epoch == saved["epoch"]
    _, accuracy = trainer.model.evaluate(*trainer.data.validation)
    assert accuracy == pytest.approx(saved["logs"]["val_accuracy"])


def test_an_untrained_network_misses_the_threshold(tmp_path: Path) -> None:
    config = DigitsTrainerConfig(
        epochs=1, optimizer=MomentumSGDConfig(learning_rate=1e-6), run_dir=str(tmp_path)
    )
    summary = Registry().build(config, DigitsTrainer).run()
    assert summary["test_accuracy"] < 0.5


def test_the_gradients_are_those_of_the_loss() -> None:
    data = DigitsData(batch_size=8)
    model = MLP(hidden=5, weight_decay=1e-3, seed=1)
    images, labels = next(data.batches(1))
    _, gradients = model.gradients(images, labels)
    rng = np.random.default_rng(0)
    for name, values in model.parameters.items():
        index = tuple(rng.integers(0, size) for size in values.shape)
        step = 1e-6
        values[index] += step
        up = model.gradients(images, labels)[0]
        values[index] -= 2 * step
        down = model.gradients(images, labels)[0]
        values[index] += step
        assert gradients[name][index] == pytest.approx((up - down) / (2 * step), rel=1e-4, abs=1e-8)


def test_the_split_is_seeded_disjoint_and_complete() -> None:
    data = DigitsData(validation_split=0.1, test_split=0.25, seed=3)
    sizes = [len(part[1]) for part in (data.train, data.validation, data.test)]
    assert sum(sizes) == 1797
    assert sizes[1:] == [180, 449]
    again = DigitsData(validation_split=0.1, test_split=0.25, seed=3)
    np.testing.assert_array_equal(data.test[0], again.test[0])
    first = [labels for _, labels in data.batches(1)]
    assert [len(b) for b in first][:-1] == [32] * (len(first) - 1)
    assert not all(np.array_equal(a, b) for a, b in zip(first, data.batches(2), strict=False))


def test_the_trainer_refuses_bad_callbacks_and_a_run_dir_that_climbs_out() -> None:
    registry = Registry()
    data, model = DigitsData(), MLP()
    from cinnamon.digits import MomentumSGD

    with pytest.raises(UsageError, match="callbacks must be a Callback or None"):
        DigitsTrainer(data, model, MomentumSGD(), callbacks="progress")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"run_dir.*climbs out"):
        DigitsTrainerConfig(run_dir="../elsewhere")
    with pytest.raises(ConfigurationError, match="test_split"):
        registry.build(DigitsDataConfig(test_split=0.9), DigitsData)


def test_without_scikit_learn_the_data_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(UsageError, match=r"needs scikit-learn.*'cinnamon\[digits\]'"):
        DigitsData()
