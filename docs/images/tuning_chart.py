"""Draw docs/images/tuning-trials.svg: a tuning of the demo job, as configs/tune.toml runs it.

Run: python docs/images/tuning_chart.py   (from the project's root folder)

The trials run one at a time in this process, each sent out as soon as the previous
pair has been recorded, so that the pruner sees the same finished trials on every
machine and the picture is the same every time (tests/test_tune.py checks it is).
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import tempfile
from pathlib import Path
from typing import Any

from cinnamon import MedianPruner, Registry, tune

ROOT = Path(__file__).resolve().parents[2]
PICTURE = ROOT / "docs" / "images" / "tuning-trials.svg"


class Inline(cf.Executor):
    """Runs each call when it is submitted: the order of results is the order of calls."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller, as executors do
            future.set_exception(error)
        return future


def draw() -> str:
    registry = Registry()
    registry.load(ROOT / "configs" / "tune.toml")
    with tempfile.TemporaryDirectory() as folder:
        overrides = [f"run_dir={Path(folder, 'run').as_posix()}"]
        report = tune(
            registry,
            "demo:trainer",
            metric="val_loss",
            trials=40,
            seed=0,
            pruner=MedianPruner(startup=4, warmup=2),
            executor=Inline(),
            results=Path(folder, "tune.jsonl"),
            overrides=overrides,
            progress=False,
        )
        return report.svg()


if __name__ == "__main__":
    PICTURE.write_text(draw(), encoding="utf-8")
    sys.stdout.write(f"wrote {PICTURE}\n")
