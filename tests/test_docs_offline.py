"""The docs read offline: Mermaid drawn from a bundled script, configs that name their schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cinnamon import Registry, json_schema
from cinnamon._files.declarative import load
from cinnamon._files.formats import parse_toml

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
SCHEMA = ROOT / "configs" / "cinnamon.schema.json"
SCHEMA_LINE = "#:schema ./cinnamon.schema.json"
BUILD_SECONDS = 600  # a cold build fetches Mermaid from the npm registry once
BROWSER_SECONDS = 60


# -- the schema the configs name ------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.name)
def test_each_config_names_the_schema_on_its_first_line(config: Path) -> None:
    assert config.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE
    assert (config.parent / SCHEMA_LINE.split()[1]).resolve() == SCHEMA


BASES = ("demo.toml", "digits.toml")


def test_the_committed_schema_is_current() -> None:
    registry = Registry()
    for base in BASES:  # the others extend or layer over these
        load(registry, ROOT / "configs" / base)
    current = json.dumps(json_schema(registry), indent=2, sort_keys=True) + "\n"
    assert SCHEMA.read_text(encoding="utf-8") == current, (
        "configs/cinnamon.schema.json is stale; regenerate it with: cinnamon schema "
        "--config configs/demo.toml --config configs/digits.toml -o configs/cinnamon.schema.json"
    )


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.name)
def test_each_config_is_valid_against_the_schema(config: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = parse_toml(config.read_text(encoding="utf-8"), str(config))
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))


# -- Mermaid, offline -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sphinx", reason="the docs extra builds the site")
    pytest.importorskip("sphinxcontrib.mermaid", reason="the docs extra builds the site")
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(ROOT / "docs"), str(out)]
    try:
        built = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the docs did not build within {BUILD_SECONDS} s")
    assert built.returncode == 0, built.stderr[-3000:]
    return out


def test_no_page_loads_anything_from_the_network(site: Path) -> None:
    remote = re.compile(r"<(?:script|link|img)[^>]+(?:src|href)=\"(?:https?:)?//", re.IGNORECASE)
    offenders = [
        page.name for page in site.glob("*.html") if remote.search(page.read_text("utf-8"))
    ]
    assert offenders == []
    assert "cdn.jsdelivr" not in "".join(p.read_text("utf-8") for p in site.glob("*.html"))
    cli = (site / "cli.html").read_text("utf-8")
    assert '<pre  class="mermaid">' in cli or 'class="mermaid"' in cli
    (script,) = re.findall(r'src="(_static/mermaid/[^"?]+)', cli)
    assert (site / script).stat().st_size > 1_000_000  # the whole library, bundled


def test_a_diagram_is_drawn_in_a_browser_with_no_network(site: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
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
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: no network at all
            "--virtual-time-budget=15000",  # let the page's scripts run before the dump
            "--dump-dom",
            (site / "cli.html").as_uri(),
        ]
        try:
            shown = subprocess.run(
                command, capture_output=True, text=True, timeout=BROWSER_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"chromium did not finish within {BROWSER_SECONDS} s")
    assert shown.returncode == 0, shown.stderr[-2000:]
    diagrams = re.findall(r'<pre[^>]*class="mermaid"[^>]*>(.*?)</pre>', shown.stdout, re.DOTALL)
    assert diagrams, "the page has no diagram"
    for drawn in diagrams:
        assert "<svg" in drawn, f"a diagram was left as text: {drawn[:200]!r}"
        assert "graph TD" not in drawn
