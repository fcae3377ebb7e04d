"""cinnamon callbacks inside a real Hugging Face Trainer fit, on the CPU.

The Trainer needs PyTorch, a large install, so these tests run in `nox -s integrations`
and are skipped (with the reason) where Transformers is not installed. The model is a
plain torch module made here: nothing is downloaded.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="needs torch: run `nox -s integrations`")
transformers = pytest.importorskip(
    "transformers", reason="needs transformers: run `nox -s integrations`"
)
pytest.importorskip("accelerate", reason="needs accelerate: run `nox -s integrations`")

from cinnamon import Callback, CallbackPipeline  # noqa: E402 - after the skips
from cinnamon.callbacks import CSVLogger, EarlyStopping, History, LambdaCallback  # noqa: E402
from cinnamon.errors import UsageError  # noqa: E402
from cinnamon.integrations.huggingface import HuggingFaceCallback  # noqa: E402


class Regression(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(3, 1)

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        out = self.layer(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


def dataset() -> list[dict[str, Any]]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return [{"x": x[i], "labels": y[i]} for i in range(64)]


def train(tmp_path: Path, callback: Any, epochs: int = 3, **options: Any) -> Any:
    arguments = {
        "output_dir": str(tmp_path),
        "num_train_epochs": epochs,
        "per_device_train_batch_size": 32,
        "learning_rate": 0.05,
        "eval_strategy": "epoch",
        "logging_strategy": "epoch",
        "save_strategy": "no",
        "report_to": [],
        "use_cpu": True,
        "disable_tqdm": True,
        **options,
    }
    trainer = transformers.Trainer(
        model=Regression(),
        args=transformers.TrainingArguments(**arguments),
        train_dataset=dataset(),
        eval_dataset=dataset(),
        callbacks=[callback],
    )
    trainer.train()
    return trainer


def test_the_hookpoints_fire_in_order_with_the_trainer_metrics(tmp_path: Path) -> None:
    calls: list[tuple[str, Any]] = []

    def record(name: str) -> Any:
        return lambda logs: calls.append((name, dict(logs) if logs else logs))

    names = ("on_fit_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end")
    spy = LambdaCallback(**{name: record(name) for name in (*names, "on_epoch_end", "on_fit_end")})
    seen: list[Any] = []
    host = LambdaCallback(on_fit_begin=lambda logs: seen.append(host.component))
    trainer = train(tmp_path, HuggingFaceCallback(CallbackPipeline([spy, host])), epochs=2)
    per_epoch = ["on_epoch_begin", *["on_batch_begin", "on_batch_end"] * 2, "on_epoch_end"]
    assert [name for name, _ in calls] == ["on_fit_begin", *per_epoch, *per_epoch, "on_fit_end"]
    ends = [logs for name, logs in calls if name == "on_epoch_end"]
    assert [logs["epoch"] for logs in ends] == [1, 2]
    assert {"loss", "learning_rate", "eval_loss"} <= set(ends[0])
    assert ends[1]["eval_loss"] < ends[0]["eval_loss"]
    assert calls[2] == ("on_batch_begin", {"batch": 1})
    assert seen == [trainer.model]
    assert host.component is None  # cleared when training ended


def test_cinnamon_early_stopping_stops_the_trainer(tmp_path: Path) -> None:
    stopper = EarlyStopping(monitor="eval_loss", patience=1, min_delta=1e9)
    history = History()
    trainer = train(tmp_path, HuggingFaceCallback(CallbackPipeline([history, stopper])), 10)
    assert stopper.stopped_epoch == 2
    assert history.epochs == [1, 2]
    assert trainer.state.epoch == 2  # of ten


def test_without_evaluation_the_epoch_ends_after_its_log(tmp_path: Path) -> None:
    logger = CSVLogger()
    train(tmp_path, HuggingFaceCallback(logger), epochs=2, eval_strategy="no")
    with (tmp_path / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert all(float(row["loss"]) > 0 for row in rows)
    assert "eval_loss" not in rows[0]


def test_the_adapter_refuses_what_is_not_a_cinnamon_callback() -> None:
    with pytest.raises(UsageError, match="HuggingFaceCallback wraps a cinnamon Callback"):
        HuggingFaceCallback(transformers.EarlyStoppingCallback())
    assert isinstance(HuggingFaceCallback(Callback()), transformers.TrainerCallback)
