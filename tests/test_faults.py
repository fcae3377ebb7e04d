"""Injected faults: hooks that raise, and crashes while files are being saved.

- A callback raising in a hookpoint, at every position of a nested pipeline, for every
  kind of hookpoint: the exception propagates unchanged with one note naming the callback
  and the hookpoint; the callbacks before it ran, those after it did not; the pipeline is
  unchanged and the next call reaches every callback once.
- A failing callback in the middle of a real fit (the demo trainer with the built-in
  callbacks): the files and the state left behind are consistent, and a second fit works.
- A crash at each step of saving a checkpoint or a state (opening, writing, syncing,
  renaming; an exception, a KeyboardInterrupt, a killed process): the previous file
  survives intact and loadable, and no temporary file is left (except after a kill,
  which cannot clean up; the next save still works).
"""

from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import Self

from cinnamon import Callback, CallbackPipeline, Component, Configuration, Registry, guard
from cinnamon.callbacks import Checkpoint, MetricsLogger, Timer
from cinnamon.demo import SGD, LinearModel, SyntheticData, Trainer

# -- hooks that raise ------------------------------------------------------------------------


class Recorder(Callback):
    """Records every hook it receives; raises in ``fails_in`` while armed."""

    def __init__(self, name: str, journal: list[str], fails_in: str | None = None) -> None:
        self.name = name
        self.journal = journal
        self.fails_in = fails_in
        self.error: BaseException | None = None

    def _hook(self, hookpoint: str, logs: Any) -> None:
        self.journal.append(f"{self.name}.{hookpoint}")
        if hookpoint == self.fails_in:
            self.error = self.make_error()
            raise self.error

    def make_error(self) -> BaseException:
        return OSError(f"{self.name} failed")

    def on_fit_begin(self, logs: Any) -> None:
        self._hook("on_fit_begin", logs)

    def on_fit_end(self, logs: Any) -> None:
        self._hook("on_fit_end", logs)

    def on_fit_exception(self, logs: Any) -> None:
        self._hook("on_fit_exception", logs)

    def on_epoch_end(self, logs: Any) -> None:
        self._hook("on_epoch_end", logs)


class Interrupting(Recorder):
    def make_error(self) -> BaseException:
        return KeyboardInterrupt()


class Host:
    def __init__(self) -> None:
        self.epochs_done = 0
        self.fitted = False

    @guard("epoch")
    def epoch(self, number: int, callbacks: Callback | None = None) -> dict[str, int]:
        self.epochs_done += 1
        return {"epoch": number}

    @guard("fit")
    def fit(self, epochs: int, *, fail: bool = False, callbacks: Callback | None = None) -> str:
        for number in range(1, epochs + 1):
            self.epoch(number, callbacks=callbacks)
        if fail:
            msg = "the fit itself failed"
            raise ValueError(msg)
        self.fitted = True
        return "done"


NAMES = ["a", "b", "c", "d"]
HOOKPOINTS = ["on_fit_begin", "on_epoch_end", "on_fit_end", "on_fit_exception"]


def _pipeline(journal: list[str], failing: str, hookpoint: str, kind: type[Recorder]) -> Any:
    made = {
        name: (kind if name == failing else Recorder)(
            name, journal, hookpoint if name == failing else None
        )
        for name in NAMES
    }
    # a, [b, [c]], d: the running order is a, b, c, d
    pipeline = CallbackPipeline(
        [made["a"], CallbackPipeline([made["b"], CallbackPipeline([made["c"]])]), made["d"]]
    )
    return pipeline, made


@pytest.mark.parametrize("hookpoint", HOOKPOINTS)
@pytest.mark.parametrize("failing", NAMES)
@pytest.mark.parametrize("kind", [Recorder, Interrupting], ids=["OSError", "KeyboardInterrupt"])
def test_a_raising_callback_stops_its_hookpoint_and_leaves_everything_consistent(
    hookpoint: str, failing: str, kind: type[Recorder]
) -> None:
    journal: list[str] = []
    pipeline, made = _pipeline(journal, failing, hookpoint, kind)
    children = pipeline.get_pipeline()
    host = Host()
    fit_fails = hookpoint == "on_fit_exception"  # that hook fires only when the fit fails
    expected = type(made[failing].make_error())

    with pytest.raises(expected) as caught:
        host.fit(2, fail=fit_fails, callbacks=pipeline)
    error = caught.value
    assert error is made[failing].error  # the very exception, unchanged
    notes = [note for note in getattr(error, "__notes__", []) if note.startswith("cinnamon")]
    if kind is Interrupting:
        assert notes == []  # only Exceptions get the note; KeyboardInterrupt passes as it is
    else:
        assert notes == [f"cinnamon: raised in hookpoint {hookpoint!r} of Recorder"]
    if fit_fails:
        assert isinstance(error.__context__, ValueError)  # chained to the fit's own failure

    # The hookpoint stopped at the failing callback: those before it ran, those after not.
    position = NAMES.index(failing)
    fired = [entry.split(".")[0] for entry in journal if entry.endswith(hookpoint)]
    if hookpoint == "on_epoch_end":
        fired = fired[: position + 1]  # the first epoch's end is where it failed
    assert fired == NAMES[: position + 1]
    # What the host did is what the order of events says it did.
    assert host.fitted == (hookpoint == "on_fit_end")
    assert host.epochs_done == {"on_fit_begin": 0, "on_epoch_end": 1}.get(hookpoint, 2)
    if hookpoint == "on_fit_end":
        assert not any(entry.endswith("on_fit_exception") for entry in journal)

    # The pipeline is as it was, and the next call reaches every callback once.
    assert pipeline.get_pipeline() == children
    made[failing].fails_in = None
    journal.clear()
    assert host.fit(1, callbacks=pipeline) == "done"
    assert journal == [
        f"{name}.{point}"
        for point in ("on_fit_begin", "on_epoch_end", "on_fit_end")
        for name in NAMES
    ]


def test_a_raising_callback_built_by_a_registry_is_named_with_its_place() -> None:
    class Failing(Callback):
        def on_fit_end(self, logs: Any) -> None:
            msg = "metric missing"
            raise LookupError(msg)

    class FailingConfig(Configuration, component=Failing):
        pass

    from cinnamon import PipelineConfig

    registry = Registry()
    registry.register(FailingConfig(), name="failing")
    registry.register(
        PipelineConfig(components=[FailingConfig(), "failing"]),  # type: ignore[list-item]
        name="callbacks",
        component=CallbackPipeline,
    )
    pipeline = registry.build("callbacks", CallbackPipeline)
    with pytest.raises(LookupError) as caught:
        Host().fit(1, callbacks=pipeline)
    assert caught.value.__notes__ == [
        "cinnamon: raised in hookpoint 'on_fit_end' of Failing at 'callbacks.components[0]'"
    ]


# -- a failing callback in a real fit -------------------------------------------------------


class FailsAtEpoch(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, logs: Any) -> None:
        if logs["epoch"] == self.epoch:
            msg = f"no room left at epoch {self.epoch}"
            raise OSError(msg)


def test_a_fit_that_fails_midway_leaves_consistent_files_and_can_run_again(tmp_path: Path) -> None:
    data = SyntheticData(n_samples=64, n_features=3, batch_size=16)
    trainer = Trainer(data, LinearModel(n_features=3), SGD(), epochs=5)
    timer, logger, failing, checkpoint = Timer(), MetricsLogger(), FailsAtEpoch(3), Checkpoint()
    pipeline = CallbackPipeline([timer, logger, failing, checkpoint])
    pipeline.setup(component=trainer, save_path=tmp_path)

    with pytest.raises(OSError, match="epoch 3") as caught:
        trainer.fit(callbacks=pipeline)
    assert caught.value.__notes__ == [
        "cinnamon: raised in hookpoint 'on_epoch_end' of FailsAtEpoch"
    ]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    # The logger runs before the failing callback: epochs 1-3, then the fit's failure.
    assert [line["event"] for line in lines] == ["epoch_end"] * 3 + ["fit_exception"]
    assert "no room left at epoch 3" in lines[-1]["error"]
    # The checkpoint runs after it: epoch 3 was never saved, epoch 2 is whole.
    saved = json.loads((tmp_path / "checkpoint.json").read_text())
    assert saved["epoch"] == checkpoint.saved_epoch == 2
    assert len(timer.epoch_seconds) == 3
    assert trainer.epoch == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint.json", "metrics.jsonl"]

    pipeline.remove(failing)
    summary = trainer.fit(callbacks=pipeline)
    assert summary["epochs"] == 5
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 5
    events = [
        json.loads(line)["event"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
    ]
    assert events[4:] == ["epoch_end"] * 5 + ["fit_end"]
    assert len(timer.epoch_seconds) == 5
    assert (tmp_path / "timings.json").is_file()


# -- crashes while saving --------------------------------------------------------------------


class Stateful:
    def __init__(self) -> None:
        self.weights = [0.0]

    def state_dict(self) -> dict[str, Any]:
        return {"weights": list(self.weights)}


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


class CrashError(Exception):
    pass


def _fail_opening(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    real = pathlib.Path.open

    def opening(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name.endswith(".tmp"):
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", opening)


def _fail_writing(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """The temporary file is made and half written, then the disk fills up."""
    real = pathlib.Path.open

    class HalfWriter:
        def __init__(self, file: Any) -> None:
            self.file = file

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: Any) -> int:
            self.file.write(data[: len(data) // 2])
            self.file.flush()
            raise error

        def __getattr__(self, name: str) -> Any:
            return getattr(self.file, name)

    def opening(self: Path, *args: Any, **kwargs: Any) -> Any:
        file = real(self, *args, **kwargs)
        return HalfWriter(file) if self.name.endswith(".tmp") else file

    monkeypatch.setattr(pathlib.Path, "open", opening)


def _fail_syncing(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def syncing(fd: int) -> None:
        raise error

    monkeypatch.setattr(os, "fsync", syncing)


def _fail_renaming(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def renaming(*args: Any) -> None:
        raise error

    monkeypatch.setattr(pathlib.Path, "replace", renaming)
    monkeypatch.setattr(os, "replace", renaming)


FAULTS = {
    "opening": _fail_opening,
    "writing": _fail_writing,
    "syncing": _fail_syncing,
    "renaming": _fail_renaming,
}
ERRORS = {
    "OSError": lambda: OSError(28, "No space left on device"),
    "KeyboardInterrupt": KeyboardInterrupt,
    "other": lambda: CrashError("something else went wrong"),
}


@pytest.mark.parametrize("error", list(ERRORS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_crash_while_saving_a_checkpoint_keeps_the_previous_one(
    fault: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = Stateful()
    checkpoint = Checkpoint()
    checkpoint.setup(component=host, save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    host.weights = [1.0] * 100
    checkpoint.run("on_epoch_end", {"epoch": 1})
    before = (tmp_path / "checkpoint.json").read_bytes()

    made = ERRORS[error]()
    with monkeypatch.context() as patch:
        FAULTS[fault](patch, made)
        host.weights = [2.0] * 100
        with pytest.raises(type(made)):
            checkpoint.run("on_epoch_end", {"epoch": 2})
    assert (tmp_path / "checkpoint.json").read_bytes() == before
    assert json.loads(before)["epoch"] == checkpoint.saved_epoch == 1
    assert _leftovers(tmp_path) == []
    checkpoint.run("on_epoch_end", {"epoch": 3})  # and the next save works
    assert json.loads((tmp_path / "checkpoint.json").read_text())["state"]["weights"] == [2.0] * 100


def test_a_process_killed_while_saving_a_checkpoint_keeps_the_previous_one(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from cinnamon.callbacks import Checkpoint

        class Host:
            weights = [1.0]
            def state_dict(self):
                return {{"weights": self.weights}}

        host, checkpoint = Host(), Checkpoint()
        checkpoint.setup(component=host, save_path=Path({str(tmp_path)!r}))
        checkpoint.run("on_fit_begin")
        checkpoint.run("on_epoch_end", {{"epoch": 1}})
        host.weights = [2.0] * 100_000
        os.fsync = lambda fd: os._exit(9)  # the power goes out before the data is on disk
        checkpoint.run("on_epoch_end", {{"epoch": 2}})
        sys.exit("the process should have died")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 9, done.stderr
    saved = json.loads((tmp_path / "checkpoint.json").read_text())
    assert saved["epoch"] == 1
    assert saved["state"] == {"weights": [1.0]}
    # A killed process cannot clean up: its temporary file stays, hidden, next to it...
    assert len(_leftovers(tmp_path)) == 1
    assert _leftovers(tmp_path)[0].startswith(".checkpoint.json.")
    # ...and does not get in the way of the next save.
    checkpoint = Checkpoint()
    checkpoint.setup(component=Stateful(), save_path=tmp_path)
    checkpoint.run("on_fit_begin")
    checkpoint.run("on_epoch_end", {"epoch": 3})
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 3


# -- crashes while saving a state (save_state) -----------------------------------------------


class Counter(Component):
    def __init__(self, start: int) -> None:
        self.count = start

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = state["count"]


class CounterConfig(Configuration, component=Counter):
    start: int = 0


def _is_folder(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)


def _crash_at_write(patch: pytest.MonkeyPatch, fault: str, crash_at: int, seen: list[int]) -> None:
    """Raise CrashError at the ``crash_at``-th file written (at its sync, or at its rename).

    With ``crash_at`` 0 nothing fails, and ``seen[0]`` counts the files written.
    """
    if fault == "syncing":
        real_sync = os.fsync

        def syncing(fd: int) -> None:
            if not _is_folder(fd):  # a folder is synced after a rename: not a write
                seen[0] += 1
                if seen[0] == crash_at:
                    msg = f"crash at write {crash_at}"
                    raise CrashError(msg)
            real_sync(fd)

        patch.setattr(os, "fsync", syncing)
    else:
        real_replace = pathlib.Path.replace

        def renaming(self: Path, target: Any) -> Any:
            seen[0] += 1
            if seen[0] == crash_at:
                msg = f"crash at rename {crash_at}"
                raise CrashError(msg)
            return real_replace(self, target)

        patch.setattr(pathlib.Path, "replace", renaming)


@pytest.mark.parametrize("encoding", ["json", "pickle"])
@pytest.mark.parametrize("fault", ["syncing", "renaming"])
def test_a_crash_at_any_write_of_a_state_save_keeps_the_previous_save(
    encoding: str, fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = pytest.importorskip("cinnamon._runs.state")
    registry = Registry()
    registry.register(CounterConfig(start=1), name="counter")
    counter = registry.build("counter", Counter)
    counter.count = 7
    state.save_state(counter, tmp_path, format=encoding)
    record = (tmp_path / "state.json").read_bytes()

    writes = [0]  # how many files one save writes
    with monkeypatch.context() as patch:
        _crash_at_write(patch, fault, 0, writes)
        state.save_state(counter, tmp_path, format=encoding)
    assert writes[0] >= 3
    for crash_at in range(1, writes[0] + 1):
        counter.count = 100 + crash_at
        with monkeypatch.context() as patch:
            _crash_at_write(patch, fault, crash_at, [0])
            with pytest.raises(CrashError):
                state.save_state(counter, tmp_path, format=encoding)
        assert _leftovers(tmp_path) == []
        assert (tmp_path / "state.json").read_bytes() == record
        fresh = registry.build("counter", Counter)
        state.load_state(fresh, tmp_path, allow_pickle=True)
        assert fresh.count == 7  # the previous save, whole
