"""The sweep journal: a JSON Lines file of outcomes, appended and flushed as they arrive.

It is what makes an interrupted sweep resume: rows already there are not run again.
Each row is handed to the operating system as soon as it is appended, so a crash of
the process loses none; forcing rows onto the disk (``fsync``, about half a millisecond
each) is done for groups of rows, at most ``SYNC_SECONDS`` after the first of them was
appended. The sweep reports a row as done only once it is synced, so a machine that
goes down loses at most the rows of that last interval, none of them reported done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal, final

from cinnamon.errors import StateError

__all__ = ["STATUSES", "SYNC_SECONDS", "Journal", "Status", "read_results", "row_identity"]

Status = Literal["ok", "error", "skipped"]
STATUSES = ("ok", "error", "skipped")
SYNC_SECONDS = 0.1  # the longest a row appended waits to be forced onto the disk


@final
class Journal:
    """The JSON Lines file of a sweep: read once, then appended to row by row.

    Rows are flushed to the operating system one by one, so a crash of the process
    loses at most the row being written; such a torn last line is cut off when the file
    is opened again. :meth:`sync` forces them onto the disk; :meth:`due` says when the
    oldest row not yet synced has waited ``SYNC_SECONDS``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._file: IO[str] | None = None
        self.unsynced_since: float | None = None  # when the oldest row not synced came

    def __enter__(self) -> Journal:
        for row in read_results(self.path, repair=True):
            identity = row_identity(row.get("method", "run"), row["fingerprint"], row["overrides"])
            self.rows[identity] = row  # a later row (a retry) wins
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8", newline="\n")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            try:
                self.sync()
            finally:
                self._file.close()
                self._file = None

    def append(self, row: Mapping[str, Any]) -> None:
        """Write ``row`` and hand it to the operating system (not yet to the disk)."""
        assert self._file is not None  # noqa: S101 - only used inside the with block
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        if self.unsynced_since is None:
            self.unsynced_since = time.monotonic()

    def due(self) -> float | None:
        """Seconds until the rows not yet synced should be (0: now); ``None``: none wait."""
        if self.unsynced_since is None:
            return None
        return max(self.unsynced_since + SYNC_SECONDS - time.monotonic(), 0.0)

    def sync(self) -> None:
        """Force every row appended so far onto the disk."""
        if self._file is not None and self.unsynced_since is not None:
            os.fsync(self._file.fileno())
            self.unsynced_since = None


def read_results(path: str | os.PathLike[str], *, repair: bool = False) -> list[dict[str, Any]]:
    """Return the rows of a sweep's results file (none if there is no file).

    A last line that is not a whole row (a crash cut it short) is ignored, and with
    ``repair`` cut off the file, so that the next row starts on a line of its own.

    Raises:
        StateError: a line before the last is not a row of a sweep.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return []
    rows: list[dict[str, Any]] = []
    offset = 0
    bad: tuple[int, int, str] | None = None  # line number, offset and reason of a bad line
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        start, offset = offset, offset + len(line)
        if not line.strip(b" \t\r\n\x00"):
            continue
        reason = None
        try:
            row = json.loads(line)
        except ValueError as error:
            reason = f"not JSON ({error})"
        else:
            reason = _row_problem(row)
        if bad is not None:  # a bad line followed by more: not a torn last line
            msg = f"line {bad[0]} is not a row of a sweep: {bad[2]}"
            raise StateError(msg, file=str(file))
        if reason is not None:
            bad = (number, start, reason)
            continue
        rows.append(row)
    if bad is not None and repair:
        with file.open("r+b") as handle:
            handle.truncate(bad[1])
            handle.flush()
            os.fsync(handle.fileno())
    elif data and not data.endswith(b"\n") and repair:
        with file.open("ab") as handle:  # a whole row, cut before its newline
            handle.write(b"\n")
    return rows


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "not a JSON object"
    if row.get("status") not in STATUSES:
        return f"its status is {row.get('status')!r}, not one of {', '.join(STATUSES)}"
    if not isinstance(row.get("index"), int) or "overrides" not in row:
        return "it has no index or no overrides"
    if not (row.get("fingerprint") is None or isinstance(row.get("fingerprint"), str)):
        return "its fingerprint is not a string"
    return None


def row_identity(method: str, digest: str | None, overrides: Any) -> tuple[str, str]:
    """What makes two rows the same experiment: the method and the configuration."""
    if digest is not None:
        return method, digest
    return method, "overrides:" + json.dumps(overrides, sort_keys=True)
