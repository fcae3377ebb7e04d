"""Every ```python block in README.md and docs/ runs, page by page, so the docs cannot drift.

Blocks of one page share a namespace and run in order, each in a fresh temporary
working folder per page. A block whose first line is ``# doc: skip (<reason>)`` is
shown to readers but not run.
"""

from __future__ import annotations

import re
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
