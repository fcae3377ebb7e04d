"""cinnamon callbacks inside a real Lightning fit, on the CPU.

Lightning needs PyTorch, a large install, so these tests run in `nox -s integrations`
and are skipped (with the reason) where Lightning is not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="needs torch: run `nox -s integrations`")
pytorch = pytest.importorskip(
    "lightning.pytorch", reason="needs lightning: run `nox -s integrations`"
)

from cinnamon import Callback, CallbackPipeline  # noqa: E402 - after the skips
from cinnamon.callbacks import CSVLogger, EarlyStopping, History, LambdaCallback  # noqa: E402
from cinnamon.errors import UsageError  # noqa: E402
from cinnamon.integrations.lightning import LightningCallback  # noqa: E402

pytestmark = [
    # Lightning's advice for real jobs (more loader workers, a logger), not errors here.
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*smaller than the logging interval:UserWarning"),
    # Lightning 2.6 on torch 2.13 warns of its own use of a deprecated torch class.
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*is deprecated:FutureWarning"),
]


class Regression(pytorch.LightningModule):  # type: ignore[misc]
    def __init__(self, fail_at_epoch: int | None = None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(3, 1)
        self.fail_at_epoch = fail_at_epoch

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if self.current_epoch + 1 == self.fail_at_epoch:
            msg = "diverged"
            raise FloatingPointError(msg)
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.05)


def loader() -> Any:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)


def trainer(tmp_path: Path, callback: Any, epochs: int = 3) -> Any:
    return pytorch.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=tmp_path,
        callbacks=[callback],
    )


def test_the_hookpoints_fire_in_order_with_lightning_metrics(tmp_path: Path) -> None:
    calls: list[tuple[str, Any]] = []

    def record(name: str) -> Any:
        return lambda logs: calls.append((name, logs))

    names = ("on_fit_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end", "on_fit_end")
    spy = LambdaCallback(
        **{name: record(name) for name in names},
        on_epoch_end=lambda logs: calls.append(("on_epoch_end", dict(logs))),
    )
    module = Regression()
    seen: list[Any] = []
    spy_component = LambdaCallback(on_fit_begin=lambda logs: seen.append(spy_component.component))
    trainer(tmp_path, LightningCallback(CallbackPipeline([spy, spy_component])), 2).fit(
        module, loader(), loader()
    )
    per_epoch = ["on_epoch_begin", *["on_batch_begin", "on_batch_end"] * 2, "on_epoch_end"]
    assert [name for name, _ in calls] == ["on_fit_begin", *per_epoch, *per_epoch, "on_fit_end"]
    ends = [logs for name, logs in calls if name == "on_epoch_end"]
    assert [logs["epoch"] for logs in ends] == [1, 2]
    assert all(isinstance(logs["val_loss"], float) for logs in ends)
    assert ends[1]["loss"] < ends[0]["loss"]
    batch_end = next(logs for name, logs in calls if name == "on_batch_end")
    assert batch_end["batch"] == 1
    assert isinstance(batch_end["loss"], float)
    assert seen == [module]
    assert spy_component.component is None  # cleared at teardown


def test_cinnamon_early_stopping_stops_lightning_and_restores_the_best_weights(
    tmp_path: Path,
) -> None:
    stopper = EarlyStopping(monitor="val_loss", patience=1, min_delta=1e9, restore_best=True)
    history = History()
    module = Regression()
    fit = trainer(tmp_path, LightningCallback(CallbackPipeline([history, stopper])), 10)
    fit.fit(module, loader(), loader())
    assert fit.current_epoch == 2  # stopped after the second epoch of ten
    assert stopper.stopped_epoch == 2
    assert stopper.restored_epoch == 1
    # the first epoch's weights are back: its validation loss again
    x, y = loader().dataset.tensors
    with torch.no_grad():
        again = torch.nn.functional.mse_loss(module.layer(x), y).item()
    first, second = history.history["val_loss"]
    assert again == pytest.approx(first, rel=1e-5)
    assert again != pytest.approx(second, rel=1e-5)  # not the weights it stopped with


def test_a_failed_lightning_fit_reaches_the_exception_hook(tmp_path: Path) -> None:
    seen: list[BaseException] = []
    logger = CSVLogger()
    callbacks = CallbackPipeline([logger, LambdaCallback(on_fit_exception=seen.append)])
    with pytest.raises(FloatingPointError, match="diverged"):
        trainer(tmp_path, LightningCallback(callbacks)).fit(
            Regression(fail_at_epoch=2), loader(), loader()
        )
    assert [type(error) for error in seen] == [FloatingPointError]
    # the epoch before the failure was logged into the trainer's root folder
    assert (tmp_path / "metrics.csv").read_text().splitlines()[1].startswith("1,")


def test_the_adapter_refuses_what_is_not_a_cinnamon_callback() -> None:
    with pytest.raises(UsageError, match="LightningCallback wraps a cinnamon Callback"):
        LightningCallback(pytorch.callbacks.EarlyStopping(monitor="val_loss"))
    assert isinstance(LightningCallback(Callback()), pytorch.Callback)
