"""results: read a sweep's results file or a run's metrics back as a table of rows.

A sweep writes one JSON object per variant to its results file (``sweep.jsonl``); a run
whose callbacks include :class:`~cinnamon.callbacks.MetricsLogger` writes one per epoch
to ``metrics.jsonl`` in its run folder. :func:`results` reads either into
:class:`Results`: flat rows (one per variant, or one per epoch) whose columns are the
varied fields, the status and the metrics, which can be filtered, sorted, exported as
CSV or JSON, or handed to pandas.

This reader checks every line and names the file and line of any it cannot use; the
sweep's own reader (which also repairs a torn last line before appending) is separate,
since it must never refuse to resume.
"""

from __future__ import annotations

import csv
import difflib
import importlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, final

from cinnamon.errors import NotFoundError, StateError, UsageError

__all__ = ["Results", "results"]

Kind = Literal["sweep", "run"]

#: The file names looked for in a folder, in this order.
RUN_FILE = "metrics.jsonl"
SWEEP_FILE = "sweep.jsonl"
_STATUSES = ("ok", "error", "skipped")
# Columns a sweep row always has, which a method's result may not shadow.
_SWEEP_COLUMNS = ("index", "status", "seconds", "host", "fingerprint", "method", "error")
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "!=": lambda a, b: a != b,
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}
_EQUALITY = (_OPERATORS["="], _OPERATORS["=="], _OPERATORS["!="])
_CONDITION = re.compile(r"^\s*(?P<column>[^<>=!]+?)\s*(?P<op><=|>=|!=|==|=|<|>)\s*(?P<value>.*)$")


@final
@dataclass(frozen=True)
class Results:
    """The rows of a sweep's results file, or of a run's metrics, as a table.

    A sweep gives one row per variant (the latest row of a variant that was run again):
    its ``index``, each varied field by its dotted path, the ``status``, each entry of
    the method's result (a result that is not a dict is the column ``result``), the
    ``seconds`` it took, the ``host`` it ran on and its ``fingerprint``; failed and
    skipped variants also have ``error``. A run gives one row per epoch: its ``epoch``
    and the metrics logged then.

    Attributes:
        source: the file the rows were read from.
        kind: ``"sweep"`` or ``"run"``.
        rows: the rows, as dicts from column to value (a column a row lacks is absent).
        varied: the varied fields of a sweep (dotted paths); ``("epoch",)`` for a run.
        metrics: the columns measured: a sweep's result entries, a run's logged metrics.
        status: a run's status: ``"ok"`` once the fit ended, ``"error"`` if it raised,
            ``"running"`` before either; ``None`` for a sweep, whose rows have their own.
        summary: what a run's fit returned, as logged at its end (empty for a sweep).
    """

    source: Path
    kind: Kind
    rows: tuple[dict[str, Any], ...]
    varied: tuple[str, ...]
    metrics: tuple[str, ...]
    status: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column, in table order: index, varied fields, status, metrics, the rest."""
        first = ("index", *self.varied, "status", *self.metrics)
        seen = [name for name in first if any(name in row for row in self.rows)]
        for row in self.rows:
            seen += [name for name in row if name not in seen]
        return tuple(seen)

    def column(self, name: str) -> list[Any]:
        """The values of one column, ``None`` where a row lacks it.

        Raises:
            NotFoundError: no row has the column.
        """
        self._check(name, "column")
        return [row.get(name) for row in self.rows]

    def where(self, *conditions: str) -> Results:
        """The rows that meet every condition, such as ``"status=ok"`` or ``"loss<0.1"``.

        A condition is a column, an operator (``=``, ``!=``, ``<``, ``<=``, ``>``,
        ``>=``) and a value, read as JSON when it can be (``0.01``, ``true``, ``null``)
        and as text otherwise. A row without the column, or whose value cannot be
        compared with the condition's, does not meet it.

        Raises:
            UsageError: a condition is not of that form.
            NotFoundError: a condition names a column no row has.
        """
        kept = list(self.rows)
        for condition in conditions:
            column, test, wanted = self._condition(condition)
            kept = [row for row in kept if column in row and _holds(test, row[column], wanted)]
        return replace(self, rows=tuple(kept))

    def sort(self, column: str, *, descending: bool = False) -> Results:
        """The rows sorted by ``column``; rows without it (or with ``None``) come last.

        A leading ``-`` (``"-val_loss"``) also sorts in descending order.

        Raises:
            NotFoundError: no row has the column.
        """
        if column.startswith("-"):
            column, descending = column[1:], not descending
        self._check(column, "sort by")
        present = [row for row in self.rows if _orderable(row.get(column))]
        absent = [row for row in self.rows if not _orderable(row.get(column))]
        try:
            present.sort(key=lambda row: _sort_key(row[column]), reverse=descending)
        except TypeError:  # numbers and text in one column: order as text
            present.sort(key=lambda row: str(row[column]), reverse=descending)
        return replace(self, rows=(*present, *absent))

    def select(self, metrics: Sequence[str]) -> tuple[str, ...]:
        """The table's columns with only the given ``metrics`` among the measured ones.

        Raises:
            NotFoundError: a metric is in no row (a name mistyped, or not logged).
        """
        for name in metrics:
            self._check(name, "metric")
        chosen = [name for name in self.columns if name not in self.metrics]
        at = chosen.index("status") + 1 if "status" in chosen else len(chosen)
        chosen[at:at] = [name for name in metrics if name not in chosen]
        return tuple(chosen)

    def to_csv(self, columns: Sequence[str] | None = None) -> str:
        """The rows as CSV text with a header line (lists and dicts as JSON)."""
        names = list(self.columns if columns is None else columns)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        for row in self.rows:
            writer.writerow([_csv_cell(row.get(name)) for name in names])
        return buffer.getvalue()

    def to_json(self, columns: Sequence[str] | None = None) -> str:
        """The rows as a JSON list of objects (only ``columns``, if given)."""
        names = None if columns is None else list(columns)
        chosen = [{name: row[name] for name in (names or row) if name in row} for row in self.rows]
        return json.dumps(chosen, indent=1) + "\n"

    def frame(self) -> Any:
        """The rows as a pandas ``DataFrame``, columns in table order.

        Raises:
            UsageError: pandas is not installed (``pip install "cinnamon[pandas]"``).
        """
        try:
            pandas: Any = importlib.import_module("pandas")
        except ImportError:
            msg = 'Results.frame() needs pandas; install it with: pip install "cinnamon[pandas]"'
            raise UsageError(msg) from None
        return pandas.DataFrame(list(self.rows), columns=list(self.columns))

    def _check(self, name: str, what: str) -> None:
        columns = self.columns
        if name in columns:
            return
        msg = f"{self.source}: no {what} {name!r} in its {len(self.rows)} rows"
        if columns:
            msg += f" (the columns are {', '.join(columns)})"
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        raise NotFoundError(msg)

    def _condition(self, text: str) -> tuple[str, Callable[[Any, Any], bool], Any]:
        found = _CONDITION.match(text) if isinstance(text, str) else None
        if found is None or not found["value"].strip():
            msg = (
                f"the condition {text!r} is not COLUMN OPERATOR VALUE "
                "(such as status=ok or val_loss<0.1)"
            )
            raise UsageError(msg)
        column = found["column"]
        self._check(column, "column")
        return column, _OPERATORS[found["op"]], _value(found["value"].strip())


def results(path: str | os.PathLike[str]) -> Results:
    """Read the results of a sweep or of a run.

    Args:
        path: a sweep's results file (``sweep.jsonl``), a run's metrics file
            (``metrics.jsonl``), or a folder holding one of them (a run folder first).

    Returns:
        The rows, as :class:`Results`.

    Raises:
        NotFoundError: there is no such file, or the folder holds neither file.
        StateError: the file cannot be read, or a line of it is not a row (the
            message names the line); a last line cut short without its newline (a
            sweep or run still writing it) is left out instead.
    """
    file = _locate(Path(path))
    lines = list(_objects(file))
    kind = _kind(file, lines)
    return _run(file, lines) if kind == "run" else _sweep(file, lines)


# -- reading ---------------------------------------------------------------------------


def _locate(path: Path) -> Path:
    if path.is_dir():
        for name in (RUN_FILE, SWEEP_FILE):
            if (path / name).is_file():
                return path / name
        msg = f"{path}: a folder with neither {RUN_FILE} (a run) nor {SWEEP_FILE} (a sweep)"
        raise NotFoundError(msg)
    if not path.exists():
        msg = f"{path}: no such file or folder"
        raise NotFoundError(msg)
    return path


def _objects(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a torn last line is left out."""
    try:
        data = file.read_bytes()
    except OSError as error:
        msg = f"cannot be read ({error.strerror or error})"
        raise StateError(msg, file=str(file)) from None
    lines = data.splitlines(keepends=True)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError as error:
            if number == len(lines) and not raw.endswith(b"\n"):
                return  # still being written, or cut short by a crash
            reason = "not UTF-8" if isinstance(error, UnicodeDecodeError) else "not JSON"
            msg = f"line {number} is {reason} ({error})"
            raise StateError(msg, file=str(file)) from None
        if not isinstance(value, dict):
            msg = f"line {number} is a JSON {type(value).__name__}, not an object"
            raise StateError(msg, file=str(file))
        yield number, value


def _kind(file: Path, lines: list[tuple[int, dict[str, Any]]]) -> Kind:
    if not lines:
        return "sweep" if file.name == SWEEP_FILE or "sweep" in file.name else "run"
    number, first = lines[0]
    if "event" in first:
        return "run"
    if "status" in first and "index" in first:
        return "sweep"
    msg = (
        f"line {number} is neither a sweep's row (with status and index) nor a run's "
        "metrics (with an event)"
    )
    raise StateError(msg, file=str(file))


def _sweep(file: Path, lines: list[tuple[int, dict[str, Any]]]) -> Results:
    latest: dict[str, dict[str, Any]] = {}  # a variant run again: its last row counts
    for number, row in lines:
        problem = _sweep_problem(row)
        if problem is not None:
            msg = f"line {number} is not a row of a sweep: {problem}"
            raise StateError(msg, file=str(file))
        identity = row.get("fingerprint") or json.dumps(row["overrides"], sort_keys=True)
        latest[f"{row.get('method', 'run')}\0{identity}"] = row
    several = len({row.get("method", "run") for row in latest.values()}) > 1
    rows = [
        _flat(row, method=several)
        for row in sorted(latest.values(), key=lambda row: (row["index"], row.get("method", "")))
    ]
    varied = dict.fromkeys(name for row in latest.values() for name in row["overrides"])
    metrics = dict.fromkeys(
        name
        for row in latest.values()
        if row["status"] == "ok"
        for name, _ in _outputs(row.get("result"))
    )
    return Results(file, "sweep", tuple(rows), tuple(varied), tuple(metrics))


def _flat(row: dict[str, Any], *, method: bool) -> dict[str, Any]:
    """A sweep's row as table columns: index, varied fields, status, outputs and the rest."""
    flat: dict[str, Any] = {"index": row["index"], **row["overrides"], "status": row["status"]}
    if row["status"] == "ok":
        flat.update(_outputs(row.get("result")))
    if "error" in row or "reason" in row:
        flat["error"] = _error_text(row)
    if isinstance(row.get("seconds"), (int, float)):
        flat["seconds"] = row["seconds"]
    if isinstance(row.get("host"), str):
        flat["host"] = row["host"]
    flat["fingerprint"] = row.get("fingerprint")
    if method:
        flat["method"] = row.get("method", "run")
    return flat


def _sweep_problem(row: dict[str, Any]) -> str | None:
    if row.get("status") not in _STATUSES:
        return f"its status is {row.get('status')!r}, not one of {', '.join(_STATUSES)}"
    if not isinstance(row.get("index"), int) or isinstance(row.get("index"), bool):
        return f"its index is {row.get('index')!r}, not a number"
    if not isinstance(row.get("overrides"), dict):
        return "its overrides are not an object"
    if not (row.get("fingerprint") is None or isinstance(row.get("fingerprint"), str)):
        return "its fingerprint is not a string"
    return None


def _outputs(result: Any) -> Iterator[tuple[str, Any]]:
    """The columns of a method's result: a dict's entries (nested ones dotted), or ``result``."""
    if not isinstance(result, dict):
        yield "result", result
        return
    stack = [("", result)]
    while stack:
        prefix, mapping = stack.pop(0)
        for name, value in mapping.items():
            column = f"{prefix}{name}"
            if isinstance(value, dict) and value:
                stack.append((column + ".", value))
            elif column in _SWEEP_COLUMNS:  # keep the row's own columns intact
                yield f"result.{column}", value
            else:
                yield column, value


def _error_text(row: Mapping[str, Any]) -> str:
    error = row.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('message', '')}"
    return str(row.get("reason", error))


def _run(file: Path, lines: list[tuple[int, dict[str, Any]]]) -> Results:
    rows: list[dict[str, Any]] = []
    metrics: list[str] = []
    status = "running"
    summary: dict[str, Any] = {}
    for number, line in lines:
        event = line.get("event")
        if event == "epoch_end":
            row = {name: value for name, value in line.items() if name != "event"}
            row.setdefault("epoch", len(rows) + 1)
            metrics += [name for name in row if name != "epoch" and name not in metrics]
            rows.append(row)
        elif event == "fit_end":
            status = "ok"
            summary = {name: value for name, value in line.items() if name != "event"}
        elif event == "fit_exception":
            status = "error"
            summary = {name: value for name, value in line.items() if name != "event"}
        else:
            msg = (
                f"line {number} has the event {event!r}, not one of epoch_end, fit_end "
                "or fit_exception"
            )
            raise StateError(msg, file=str(file))
    return Results(file, "run", tuple(rows), ("epoch",), tuple(metrics), status, summary)


# -- values ------------------------------------------------------------------------------


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _holds(test: Callable[[Any, Any], bool], value: Any, wanted: Any) -> bool:
    numbers = (int, float)
    if test in _EQUALITY and isinstance(value, numbers) and isinstance(wanted, numbers):
        # a float written to JSON and read back, against one typed on a command line
        same = math.isclose(value, wanted, rel_tol=1e-12)
        return same if test is _OPERATORS["="] or test is _OPERATORS["=="] else not same
    try:
        return bool(test(value, wanted))
    except TypeError:  # a number compared with text, None with a number, ...
        return False


def _orderable(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _sort_key(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict, bool)):
        return json.dumps(value)
    return value
