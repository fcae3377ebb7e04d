"""CSVLogger: one row of metrics per epoch in a CSV file, safe to append to."""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cinnamon._core.configuration import Configuration, Param
from cinnamon._files.atomic import atomic_write
from cinnamon._hooks.callback import Callback
from cinnamon.callbacks._shared import _FILE_NAME, _folder, _metrics, _plain

__all__ = ["CSVLogger", "CSVLoggerConfig"]


class CSVLogger(Callback):
    """Write the metrics of each epoch as a row of a CSV file, with one header line.

    The first row written to an empty (or new) file is preceded by a header naming the
    columns: ``epoch`` first when the logs have it, then the metrics in the order they
    first appear. Each row is appended and flushed as soon as its epoch ends.

    Appending is safe: with ``append=True`` (the default) a file that already exists
    keeps its rows and its header, and new rows follow its columns. When an epoch's
    logs bring a metric that has no column yet (a learning rate that appears halfway,
    a second run with more metrics), the file is rewritten once, atomically, with the
    new column added at the end of the header and left empty in the rows before; a
    metric missing from an epoch's logs leaves its cell empty. So the file is always one
    valid table that any CSV reader loads.

    Cells hold numbers as Python writes them (``0.25``, ``nan``, ``inf``), strings as
    they are, ``None`` as an empty cell, and lists or dicts as JSON.

    Args:
        filename: the file's name inside the ``save_path``.
        separator: the character between cells.
        append: keep what the file holds; ``False`` empties it when the fit begins.
    """

    def __init__(
        self, filename: str = "metrics.csv", separator: str = ",", append: bool = True
    ) -> None:
        # Hand-made callbacks are held to the same constraints as configured ones.
        CSVLoggerConfig(filename=filename, separator=separator, append=append)
        self.filename = filename
        self.separator = separator
        self.append = append
        self._columns: list[str] | None = None  # the file's header, once read

    @property
    def path(self) -> Path | None:
        """The file written to, once the callback has a ``save_path``."""
        return None if self.save_path is None else self.save_path / self.filename

    def on_fit_begin(self, logs: object = None) -> None:
        """Check there is a folder; read the file's header, or empty the file."""
        path = _folder(self) / self.filename
        if not self.append and path.exists():
            atomic_write(path, "")
        header = self._read(path, rows=1)
        self._columns = header[0] if header else None

    def on_epoch_end(self, logs: object = None) -> None:
        """Append the epoch's row, widening the header first if a metric is new."""
        metrics = _metrics(logs)
        path = _folder(self) / self.filename
        columns = self._columns
        if columns is None:  # a new file, or an epoch without on_fit_begin
            header = self._read(path, rows=1)
            columns = header[0] if header else None
        new = [name for name in _ordered(metrics) if name not in (columns or ())]
        if columns is None:
            self._columns = new
            self._add([new, self._row(new, metrics)], path)
        elif new:  # rare: rewrite the whole table with the wider header
            self._columns = columns = [*columns, *new]
            old = self._read(path)[1:]
            table = [columns, *(row + [""] * (len(columns) - len(row)) for row in old)]
            atomic_write(path, self._text([*table, self._row(columns, metrics)]))
        else:
            self._columns = columns
            self._add([self._row(columns, metrics)], path)

    def _add(self, rows: list[list[str]], path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8", newline="") as file:
            file.write(self._text(rows))
            file.flush()

    def _read(self, path: Path, rows: int | None = None) -> list[list[str]]:
        try:
            with path.open(encoding="utf-8", newline="") as file:
                found = (row for row in csv.reader(file, delimiter=self.separator) if row)
                return (
                    [row for _, row in zip(range(rows), found, strict=False)]
                    if rows
                    else list(found)
                )
        except FileNotFoundError:
            return []

    def _row(self, columns: list[str], metrics: Mapping[str, Any]) -> list[str]:
        return [_cell(metrics[name]) if name in metrics else "" for name in columns]

    def _text(self, rows: list[list[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.separator, lineterminator="\n").writerows(rows)
        return buffer.getvalue()


def _ordered(metrics: Mapping[str, Any]) -> list[str]:
    names = [str(name) for name in metrics]
    return ["epoch", *(n for n in names if n != "epoch")] if "epoch" in names else names


def _cell(value: Any) -> str:
    plain = _plain(value, allow_nan=True)
    if plain is None:
        return ""
    if isinstance(plain, (list, dict)):
        return json.dumps(plain)
    return str(plain)


class CSVLoggerConfig(Configuration, component=CSVLogger):
    """Write each epoch's metrics as a row of a CSV file in the run folder."""

    filename: str = Param(
        "metrics.csv", description="the file's name in the save path", pattern=_FILE_NAME
    )
    separator: str = Param(
        ",", description="the character between cells", min_length=1, max_length=1
    )
    append: bool = Param(
        default=True, description="keep the file's rows (false: empty it when the fit begins)"
    )
