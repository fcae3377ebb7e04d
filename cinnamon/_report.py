"""One self-contained HTML page about a run or a sweep, readable offline.

The page holds everything itself: the styles inline, the pictures as inline SVG (the
curves drawn by matplotlib, the dependency graph by :mod:`cinnamon._drawing`), and no
script or link to fetch, so it can be mailed, archived or opened without a network.

For a run folder it shows the status, the fit's summary, the fingerprint and resolved
configuration (read back from the folder's ``config.toml``), the dependency graph, the
training curves and the table of epochs. For a sweep it shows the table of variants
and each metric against each varied field, then the best variant's run as above.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cinnamon._drawing import graph_svg
from cinnamon._files.declarative import load
from cinnamon._registry import Registry
from cinnamon._runs.fingerprint import fingerprint
from cinnamon._runs.results import Results, results
from cinnamon.errors import CinnamonError
from cinnamon.integrations.plots import plot_run, plot_sweep, svg

__all__ = ["write_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #222; }
h1 { border-bottom: 3px solid #b5651d; padding-bottom: .3rem; }
h2 { color: #8a4a12; margin-top: 2rem; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; white-space: nowrap; }
th { background: #fdf6ec; }
tr.error td, tr.skipped td { color: #a33; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: .85rem; }
code.fingerprint { font-size: .9rem; background: #fdf6ec; padding: .1rem .3rem; }
.picture { overflow-x: auto; }
.picture svg { max-width: 100%; height: auto; }
.graph { max-width: none !important; }
.missing { color: #a33; font-style: italic; }
"""


def write_report(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    metrics: Sequence[str] = (),
    allow: Iterable[str] = (),
) -> Path:
    """Write the HTML page of a run folder or a sweep's results file.

    Args:
        path: a run folder (or its ``metrics.jsonl``), or a sweep's results file.
        output: the page to write (default: ``report.html`` in the run folder, or
            beside the sweep's results file).
        metrics: the metrics to draw and to rank a sweep's variants by (the first;
            lowest is best); by default ``val_loss`` if there is one.
        allow: package roots the run's ``config.toml`` may import classes from.

    Returns:
        The page written.

    Raises:
        NotFoundError, StateError: as :func:`cinnamon.results` does.
        UsageError: matplotlib is not installed (``pip install "cinnamon[plot]"``).
    """
    table = results(path)
    allowed = tuple(allow)
    if table.kind == "run":
        title = f"Run {table.source.parent.name}"
        body = _run_sections(table, metrics, allowed)
    else:
        title = f"Sweep {table.source.name}"
        body = _sweep_sections(table, metrics, allowed)
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="source">From <code>{html.escape(str(table.source))}</code></p>\n'
        f"{body}\n</body>\n</html>\n"
    )
    target = Path(output) if output is not None else table.source.parent / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def _run_sections(
    table: Results, metrics: Sequence[str], allow: tuple[str, ...], prefix: str = ""
) -> str:
    """The sections about one run; ``prefix`` keeps their ids apart from the page's own."""
    folder = table.source.parent
    summary = ", ".join(f"{name} = {_cell(value)}" for name, value in table.summary.items())
    status = f'<strong class="status">{html.escape(str(table.status))}</strong>'
    about = f"<p>Status: {status}, {len(table)} epochs. {html.escape(summary)}</p>"
    parts = [_section(prefix + "summary", "Summary", about)]
    parts += _configuration(folder, allow, prefix)
    if table.rows:
        curves = svg(plot_run(table, metrics))
        parts.append(
            _section(prefix + "curves", "Training curves", f'<div class="picture">{curves}</div>')
        )
    parts.append(_section(prefix + "table", "Epochs", _table(table, table.columns)))
    return "\n".join(parts)


def _sweep_sections(table: Results, metrics: Sequence[str], allow: tuple[str, ...]) -> str:
    counts = {status: len(table.where(f"status={status}")) for status in ("ok", "error", "skipped")}
    parts = [
        '<section id="summary"><h2>Summary</h2><p>'
        + ", ".join(f"{count} {status}" for status, count in counts.items())
        + f" of {len(table)} variants; varied: "
        + html.escape(", ".join(table.varied) or "nothing")
        + "</p></section>",
    ]
    done = table.where("status=ok")
    ranked = table
    if done.rows and table.varied:
        chosen = list(metrics) or _first_metric(done)
        if chosen:
            picture = svg(plot_sweep(table, chosen))
            parts.append(
                f'<section id="curves"><h2>{html.escape(", ".join(chosen))} by varied field</h2>'
                f'<div class="picture">{picture}</div></section>'
            )
            ranked = table.sort(chosen[0])
    parts.append(f'<section id="table"><h2>Variants</h2>{_table(ranked, ranked.columns)}</section>')
    best = ranked.rows[0] if ranked.rows and ranked.rows[0]["status"] == "ok" else None
    run_dir = _run_dir(best, table.source) if best else None
    if run_dir is not None:
        parts.append(
            f'<section id="best"><h2>Best variant: {best["index"]}</h2>'  # type: ignore[index]
            f"<p>Its run folder: <code>{html.escape(str(run_dir))}</code></p></section>"
        )
        try:
            inner = results(run_dir)
        except CinnamonError as error:
            parts.append(f'<p class="missing">{html.escape(str(error))}</p>')
        else:
            parts.append(_run_sections(inner, (), allow, prefix="best-"))
    return "\n".join(parts)


def _configuration(folder: Path, allow: tuple[str, ...], prefix: str) -> list[str]:
    saved = folder / "config.toml"
    if not saved.is_file():
        note = f"No config.toml in {folder}: the run's configuration was not saved."
        return [
            _section(
                prefix + "config", "Configuration", f'<p class="missing">{html.escape(note)}</p>'
            )
        ]
    text = saved.read_text(encoding="utf-8")
    try:
        registry = Registry()
        keys = load(registry, saved, allow=allow)
        tree = registry.resolve(keys[0])
        digest = fingerprint(tree)
        graph = graph_svg(tree)
    except CinnamonError as error:
        problem = f"{saved} cannot be resolved here: {error}"
        shown = f'<p class="missing">{html.escape(problem)}</p>'
        fingerprint_html, graph_html = shown, shown
    else:
        fingerprint_html = f'<p>Fingerprint: <code class="fingerprint">{digest}</code></p>'
        graph_html = f'<div class="picture">{graph}</div>'
    return [
        _section(prefix + "fingerprint", "Fingerprint", fingerprint_html),
        _section(prefix + "graph", "Dependency graph", graph_html),
        _section(prefix + "config", "Resolved configuration", f"<pre>{html.escape(text)}</pre>"),
    ]


def _run_dir(row: dict[str, Any], source: Path) -> Path | None:
    written = row.get("run_dir")
    if not isinstance(written, str):
        return None
    path = Path(written)
    for candidate in (path, source.parent / path):  # relative to where the sweep ran
        if (candidate / "metrics.jsonl").is_file():
            return candidate
    return None


def _first_metric(table: Results) -> list[str]:
    numeric = [
        name
        for name in table.metrics
        if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in table.column(name))
    ]
    return ["val_loss"] if "val_loss" in numeric else numeric[:1]


def _table(table: Results, columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    rows = []
    for row in table.rows:
        status = html.escape(str(row.get("status", "")))
        cells = "".join(f"<td>{html.escape(_cell(row.get(name), name))}</td>" for name in columns)
        rows.append(f'<tr class="{status}">{cells}</tr>')
    body = "".join(rows)
    table_html = (
        f'<table class="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
    return f'<div class="picture">{table_html}</div>'  # scrolls sideways if it must


def _section(name: str, title: str, inner: str) -> str:
    return f'<section id="{name}"><h2>{html.escape(title)}</h2>{inner}</section>'


def _cell(value: Any, column: str = "") -> str:
    if column == "fingerprint" and isinstance(value, str):
        return value[:12]
    if column == "run_dir" and isinstance(value, str):
        return Path(value).name  # the folder; the whole path is in the files
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    return json.dumps(value)
