"""Every ```python block in README.md and docs/ runs, page by page, so the docs cannot drift.

Blocks of one page share a namespace and run in order, each in a fresh temporary
working folder per page. A block whose first line is ``# doc: skip (<reason>)`` is
shown to readers but not run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        code = match.group(1)
        if code.lstrip().startswith("# doc: skip"):
            continue
        line = text.count("\n", 0, match.start(1)) + 1
        found.append((line, code))
    return found


def test_docs_have_examples() -> None:
    assert any(blocks(page) for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # A real module, so that pydantic can resolve the annotations the page declares.
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for line, code in blocks(page):
        # Pad so tracebacks point at the block's real line in the page.
        compiled = compile("\n" * (line - 1) + code, str(page), "exec", dont_inherit=True)
        exec(compiled, module.__dict__)  # noqa: S102 - running our own docs is the point


# -- command-line sessions -------------------------------------------------------------
#
# A ```console block holds sessions: a line "$ cinnamon ..." and the output that
# follows it (stdout when the command succeeds, stderr when it fails). A line "..."
# stands for any number of lines; a line ending in "..." for any line it starts.
# Each block runs in a fresh folder holding a copy of configs/.

CONSOLE = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)


def sessions(text: str) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for block in CONSOLE.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found:
                found[-1][1].append(line)
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    if not actual:
        return False
    if head.endswith("...") and actual[0].startswith(head[:-3]):
        return matches(rest, actual[1:])
    return head == actual[0] and matches(rest, actual[1:])


CONSOLE_PAGES = [page for page in PAGES if CONSOLE.search(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", CONSOLE_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_console_sessions_show_real_output(page: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    text = page.read_text(encoding="utf-8")
    outputs = []
    for command, expected in sessions(text):
        words = shlex.split(command)
        assert words[0] == "cinnamon", command
        result = subprocess.run(
            [sys.executable, "-m", "cinnamon", *words[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=120,
            check=False,
        )
        shown = result.stdout if result.returncode == 0 else result.stderr
        actual = shown.splitlines()
        assert matches(expected, actual), (
            f"$ {command}\n--- documented\n" + "\n".join(expected) + "\n--- actual\n" + shown
        )
        outputs.append(shown)
    for drawing in MERMAID.findall(text):  # pictures are drawn from real output too
        assert drawing in outputs
