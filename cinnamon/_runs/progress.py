"""The terminal progress bar of a sweep."""

from __future__ import annotations

import math
import shutil
import sys
import time
from typing import TextIO, final

from cinnamon._runs.journal import STATUSES

__all__ = ["Progress"]


@final
class Progress:
    """A one-line progress bar on stderr, redrawn in place; silent when not a terminal."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.counts = dict.fromkeys((*STATUSES, "recorded"), 0)
        self.done = 0
        self.started = time.perf_counter()
        self.width = 0

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self.width:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        total = max(self.total, self.done)
        filled = round(20 * self.done / total) if total else 20
        parts = [f"sweep [{'#' * filled}{'.' * (20 - filled)}] {self.done}/{total}"]
        parts += [f"{name} {count}" for name, count in self.counts.items() if count]
        elapsed = time.perf_counter() - self.started
        parts.append(_duration(elapsed))
        ran = self.done - self.counts["recorded"]  # those found recorded took no time
        if ran and elapsed > 0:
            pace = elapsed / ran
            parts.append(f"{pace:.3g} s/variant" if pace >= 1 else f"{1 / pace:.3g} variants/s")
            if total > self.done:
                parts.append(f"eta {_duration(pace * (total - self.done))}")
        line = "  ".join(parts)
        line = line[: max(shutil.get_terminal_size().columns - 1, 1)]
        self.stream.write("\r" + line + " " * max(self.width - len(line), 0))
        self.stream.flush()
        self.width = len(line)


def _duration(seconds: float) -> str:
    if seconds < 60:  # noqa: PLR2004 - a minute
        return f"{seconds:.1f} s"
    minutes, rest = divmod(math.floor(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
