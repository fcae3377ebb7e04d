"""docs/errors.md has a section for every exception in cinnamon.errors, and no other.

Each section is a heading ``## `Name` `` followed by what the error means, an example
that raises it (run by tests/test_docs.py) and how to fix it.
"""

from __future__ import annotations

import re
from pathlib import Path

import cinnamon.errors

PAGE = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
SECTION = re.compile(r"^## `(\w+)`\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def sections() -> dict[str, str]:
    return dict(SECTION.findall(PAGE.read_text(encoding="utf-8")))


def test_every_error_has_a_section() -> None:
    missing = sorted(set(cinnamon.errors.__all__) - set(sections()))
    assert not missing, f"docs/errors.md has no section for {missing}"


def test_every_section_is_an_error() -> None:
    stale = sorted(set(sections()) - set(cinnamon.errors.__all__))
    assert not stale, f"docs/errors.md has sections for names not in cinnamon.errors: {stale}"


def test_every_section_explains_and_shows() -> None:
    for name, body in sections().items():
        assert "**What it means.**" in body, name
        assert "**How to fix it.**" in body, name
        examples = re.findall(r"^```python\n(.*?)^```", body, re.MULTILINE | re.DOTALL)
        runnable = [code for code in examples if not code.lstrip().startswith("# doc: skip")]
        assert runnable, f"the section on {name} has no example that runs"
        if name != "CinnamonError":  # the base class is never raised itself
            assert any(name in code for code in runnable), f"no example of {name} raises it"
