"""The pace and time left on the epoch bar and the sweep bar, and a bar kept quiet."""

from __future__ import annotations

import io
import re

import pytest

from cinnamon import Registry
from cinnamon._files.declarative import loads
from cinnamon._runs.progress import Progress as _Progress
from cinnamon.callbacks import ProgressBar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Host:
    def __init__(self, epochs: int | None = None, batches_per_epoch: int | None = None) -> None:
        self.epochs, self.batches_per_epoch = epochs, batches_per_epoch


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def epochs(bar: ProgressBar, clock: Clock, seconds: list[float]) -> None:
    bar.run("on_fit_begin")
    for epoch, spent in enumerate(seconds, start=1):
        bar.run("on_epoch_begin")
        clock.now += spent
        bar.run("on_epoch_end", {"epoch": epoch, "loss": 1.0 / epoch})
    bar.run("on_fit_end")


def test_each_epoch_line_ends_with_the_pace_and_the_time_left() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = ProgressBar(width=4, stream=stream, clock=clock)
    bar.setup(component=Host(epochs=4))
    epochs(bar, clock, [2.0, 4.0])
    assert stream.getvalue().splitlines() == [
        "epoch 1/4 [#...] loss=1 | 2 s/epoch eta 6.0 s",
        "epoch 2/4 [##..] loss=0.5 | 3 s/epoch eta 6.0 s",
    ]


def test_long_fits_count_the_time_left_in_minutes_and_hours() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = ProgressBar(width=2, stream=stream, clock=clock)
    bar.setup(component=Host(epochs=100))
    epochs(bar, clock, [50.0, 70.0])
    first, second = stream.getvalue().splitlines()
    assert first.endswith("| 50 s/epoch eta 1 h 22 min")  # 99 epochs at 50 s
    assert second.endswith("| 60 s/epoch eta 1 h 38 min")
    bar.setup(component=Host(epochs=3))
    stream.seek(0)
    stream.truncate()
    epochs(bar, clock, [61.0])
    assert stream.getvalue().endswith("| 61 s/epoch eta 2 min 02 s\n")


def test_without_a_total_only_the_pace_is_shown() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = ProgressBar(stream=stream, clock=clock)
    epochs(bar, clock, [1.5])
    assert stream.getvalue() == "epoch 1 loss=1 | 1.5 s/epoch\n"


def test_within_an_epoch_the_pace_is_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    clock, stream = Clock(), Terminal()
    bar = ProgressBar(width=4, batches=True, stream=stream, clock=clock)
    bar.setup(component=Host(epochs=2, batches_per_epoch=4))
    bar.run("on_fit_begin")
    bar.run("on_epoch_begin")
    clock.now += 0.5
    bar.run("on_batch_end", {"batch": 1, "loss": 1.0})
    clock.now += 0.5
    bar.run("on_batch_end", {"batch": 2, "loss": 0.5})
    frames = [frame.rstrip() for frame in stream.getvalue().split("\r")[1:]]
    assert frames == [
        "epoch 1/2 [....] batch 1/4 loss=1 | 2 batch/s eta 3.5 s",  # 1/8 done in 0.5 s
        "epoch 1/2 [#...] batch 2/4 loss=0.5 | 2 batch/s eta 3.0 s",
    ]


def test_a_quiet_bar_writes_nothing_even_on_a_terminal() -> None:
    stream = Terminal()
    bar = ProgressBar(batches=True, quiet=True, stream=stream)
    bar.setup(component=Host(epochs=2, batches_per_epoch=2))
    bar.run("on_fit_begin")
    bar.run("on_batch_end", {"batch": 1, "loss": 1.0})
    bar.run("on_epoch_end", {"epoch": 1, "loss": 1.0})
    bar.run("on_fit_end")
    assert stream.getvalue() == ""


def test_a_file_can_quieten_a_bar_or_drop_the_eta() -> None:
    registry = Registry()
    text = """
[registrations."bar"]
config = "cinnamon.callbacks:ProgressBarConfig"
[registrations."bar".fields]
quiet = true
eta = false
"""
    loads(registry, text)
    bar = registry.build("bar", ProgressBar)
    assert (bar.quiet, bar.eta) == (True, False)
    with pytest.raises(Exception, match="quiet"):
        loads(Registry(), text.replace("quiet = true", 'quiet = "loud"'))


def test_a_jupyter_stream_is_redrawn_in_place() -> None:
    # ipykernel's OutStream is not a terminal, yet a notebook redraws a line on "\r".
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})
    stream = kernel_stream()
    clock = Clock()
    bar = ProgressBar(width=2, stream=stream, clock=clock, eta=False)
    bar.setup(component=Host(epochs=2))
    epochs(bar, clock, [1.0, 1.0])
    assert stream.getvalue() == "\repoch 1/2 [#.] loss=1\repoch 2/2 [##] loss=0.5\n"


def test_the_sweep_bar_shows_its_pace_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream = Terminal()
    with _Progress(4, enabled=True, stream=stream) as bar:
        bar.started -= 10.0  # as if the sweep had begun ten seconds ago
        bar.advance("recorded")  # found in the results file: took no time
        bar.advance("ok")
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert re.search(
        r"2/4  ok 1  recorded 1  10\.\d s  10(\.\d)? s/variant  eta 20\.\d s$", last
    ), last
