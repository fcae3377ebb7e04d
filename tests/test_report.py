"""Pictures and the HTML report: real matplotlib files, and the page in a real headless chromium."""

# The XML parsed here is the package's own output, not untrusted input.
# ruff: noqa: S314

from __future__ import annotations

import concurrent.futures as cf
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_cli import cinnamon as run_cli

from cinnamon import Registry, results, sweep
from cinnamon._drawing import graph_svg
from cinnamon._files.declarative import load
from cinnamon._report import write_report
from cinnamon.errors import NotFoundError, UsageError

plots = pytest.importorskip("cinnamon.integrations.plots")
pytest.importorskip("matplotlib", reason="matplotlib is the optional cinnamon[plot] extra")
Image = pytest.importorskip("PIL.Image", reason="pillow comes with matplotlib")

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
BROWSER_SECONDS = 60  # a cold chromium start on a busy two-core machine takes a few


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sweep (six variants, three epochs each) in a folder of its own."""
    folder = tmp_path_factory.mktemp("sweep")
    registry = Registry()
    load(registry, ROOT / "configs" / "sweep.toml")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        with cf.ThreadPoolExecutor(2) as threads:
            report = sweep(
                registry, "demo:trainer", executor=threads, overrides=["epochs=3"], progress=False
            )
    assert report.ok == 6, report.rows
    return folder / "sweep.jsonl"


@pytest.fixture(scope="module")
def run_dir(swept: Path) -> Path:
    return swept.parent / results(swept).rows[0]["run_dir"]


def pixels(file: Path) -> tuple[tuple[int, int], int]:
    """A picture's size and how many colours it uses (a blank one uses one)."""
    with Image.open(file) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        return image.size, len(colours or [])


# -- plots -------------------------------------------------------------------------------


def test_plot_run_draws_png_and_svg(run_dir: Path, tmp_path: Path) -> None:
    table = results(run_dir)
    png = plots.save(plots.plot_run(table), tmp_path / "curves.png")
    size, colours = pixels(png)
    assert size[0] > 300
    assert colours > 20
    svg_file = plots.save(plots.plot_run(table, ["val_loss"]), tmp_path / "curves.svg")
    assert ET.parse(svg_file).getroot().tag == f"{SVG}svg"
    text = plots.svg(plots.plot_run(table))
    assert text.startswith("<svg")
    assert ">val_loss<" in text  # text kept as text on a page


def test_plot_sweep_draws_a_panel_per_metric_and_field(swept: Path, tmp_path: Path) -> None:
    figure = plots.plot_sweep(results(swept), ["val_loss", "epochs"])
    assert len(figure.axes) == 4
    labels = sorted(axis.get_xlabel() for axis in figure.axes)
    assert labels == ["optimizer.learning_rate"] * 2 + ["optimizer.momentum"] * 2
    assert sum(len(axis.collections[0].get_offsets()) for axis in figure.axes) == 4 * 6
    _, colours = pixels(plots.save(figure, tmp_path / "sweep.png"))
    assert colours > 20


def test_plot_errors_are_clear(swept: Path, run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"pictures are written as .png or .svg, not '.jpg'"):
        plots.save(plots.plot_run(results(run_dir)), tmp_path / "x.jpg")
    with pytest.raises(NotFoundError, match=r"metrics.jsonl: no column 'acc'"):
        plots.plot_run(results(run_dir), ["acc"])
    with pytest.raises(NotFoundError, match=r"sweep.jsonl: no column 'vall_loss'.*'val_loss'"):
        plots.plot_sweep(results(swept), ["vall_loss"])
    failed = tmp_path / "sweep.jsonl"
    failed.write_text('{"index": 0, "overrides": {"a": 1}, "status": "skipped", "reason": "no"}\n')
    with pytest.raises(NotFoundError, match=r"no variant ran"):
        plots.plot_sweep(results(failed))
    empty = tmp_path / "metrics.jsonl"
    empty.write_text("")
    with pytest.raises(NotFoundError, match=r"the run logged no epoch yet"):
        plots.plot_run(results(empty))


def test_matplotlib_missing_names_the_extra(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # None in sys.modules: ImportError
    with pytest.raises(UsageError, match=r'pip install "cinnamon\[plot\]"'):
        plots.plot_run(results(run_dir))


# -- the dependency graph -------------------------------------------------------------------


def test_graph_svg_draws_a_box_per_node_and_an_arrow_per_reference() -> None:
    registry = Registry()
    load(registry, ROOT / "configs" / "demo.toml")
    root = ET.fromstring(graph_svg(registry.resolve("demo:trainer")))
    groups = root.findall(f"{SVG}g")
    titles = [group.findall(f"{SVG}text")[0].text for group in groups]
    assert len(titles) == 10  # trainer, data, model, optimizer, pipeline, five callbacks
    assert titles[0] == "demo:trainer"
    assert "demo:callbacks" in titles
    assert len(root.findall(f"{SVG}line")) == 9
    fields = {text.text for text in root.findall(f"{SVG}text")}
    assert {"data", "optimizer", "components[4]"} <= fields
    boxes = {group.findall(f"{SVG}text")[0].text: group.find(f"{SVG}rect") for group in groups}
    trainer, timer = boxes["demo:trainer"], boxes["demo:timer"]
    assert trainer is not None
    assert timer is not None
    assert float(timer.get("y", 0)) > float(trainer.get("y", 0))  # children below


# -- the report --------------------------------------------------------------------------------


def static_checks(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    for fetching in ("<script", "<link", "src=", "@import", "url(http"):
        assert fetching not in text, f"{page} would fetch something: {fetching}"
    return text


def test_a_run_report_holds_everything(run_dir: Path, tmp_path: Path) -> None:
    page = write_report(run_dir, tmp_path / "run.html")
    text = static_checks(page)
    for section in ("summary", "fingerprint", "graph", "config", "curves", "table"):
        assert f'id="{section}"' in text
    assert results(swept_file(run_dir)).rows[0]["fingerprint"] in text
    assert "learning_rate = 0.01" in text


def swept_file(run_dir: Path) -> Path:
    return run_dir.parent.parent / "sweep.jsonl"


def test_a_report_without_config_says_so(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "config.toml").unlink()
    text = static_checks(write_report(copy))
    assert "No config.toml in" in text
    (copy / "config.toml").write_text('[registrations."x:y"]\nconfig = "nowhere.at:All"\n')
    text = static_checks(write_report(copy))
    assert "cannot be resolved here" in text
    assert "nowhere" in text


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def browse(browser: str, page: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="cinnamon-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
            page.as_uri(),
        ]
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=BROWSER_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as error:
            pytest.fail(
                f"chromium did not finish within {BROWSER_SECONDS} s: {error.stderr!r:.500}"
            )


def test_the_sweep_report_renders_in_a_real_browser(
    swept: Path, chromium: str, tmp_path: Path
) -> None:
    made = run_cli("report", str(swept), "-o", str(tmp_path / "report.html"), cwd=swept.parent)
    assert made.returncode == 0, made.stderr
    page = tmp_path / "report.html"
    static_checks(page)
    dom = browse(chromium, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    for section in ("summary", "curves", "table", "best", "best-fingerprint", "best-graph"):
        assert f'id="{section}"' in rendered, section
    assert rendered.count("<svg") >= 3  # the sweep's picture, the graph, the curves
    assert rendered.count('<tr class="ok">') == 6
    shot = tmp_path / "report.png"
    taken = browse(chromium, page, f"--screenshot={shot}", "--window-size=1280,2400")
    assert taken.returncode == 0, taken.stderr[-2000:]
    size, colours = pixels(shot)
    assert size == (1280, 2400)
    assert colours > 100  # text, pictures and tables, not a blank page
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        heading = {rgb.getpixel((x, y)) for x in range(40, 400) for y in range(20, 120)}
        assert any(r > 100 and g < 110 and b < 60 for r, g, b in heading)  # the orange rule


def test_cli_plot_and_report_write_their_files(run_dir: Path, tmp_path: Path) -> None:
    drawn = run_cli("plot", str(run_dir), "-o", str(tmp_path / "c.svg"), cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert ET.parse(tmp_path / "c.svg").getroot().tag == f"{SVG}svg"
    wrong = run_cli("plot", str(run_dir), "--metrics", "acc", cwd=tmp_path)
    assert wrong.returncode == 1
    assert "no column 'acc'" in wrong.stderr
    written = run_cli("report", str(run_dir), "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert written.stdout.strip() == str(tmp_path / "r.html")
