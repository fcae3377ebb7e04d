"""Sphinx configuration: the cinnamon documentation site.

Build it with ``nox -s docs``, or directly::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The pages are Markdown (MyST). Their code blocks are executed by ``tests/test_docs.py``,
not by Sphinx; Sphinx only lays them out.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

import cinnamon

project = "cinnamon"
author = "cinnamon developers"
copyright = "cinnamon developers"  # noqa: A001 - the name Sphinx reads
release = cinnamon.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinxcontrib.mermaid",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# -- MyST -----------------------------------------------------------------------------
# ```mermaid fences render as diagrams, so the pages read the same on GitHub and here.
myst_fence_as_directive = ["mermaid"]
myst_enable_extensions = ["colon_fence"]
# Links to a section of another page (`cli.md#cinnamon-graph-key`) resolve.
myst_heading_anchors = 3
# The diagrams keep their own proportions instead of a fixed height.
mermaid_height = "auto"

# -- Mermaid, offline -----------------------------------------------------------------
# sphinxcontrib-mermaid loads its script from a CDN as an ES module, which an offline
# reader cannot fetch and which Chromium refuses to import from a file:// page anyway.
# The build copies the classic (non-module) script of the npm package into _static
# instead, and each page with a diagram loads it with a few lines that start it.
MERMAID_VERSION = "11.12.1"
STATIC = Path(__file__).resolve().parent / "_static"
MERMAID_SCRIPT = STATIC / "mermaid" / f"mermaid-{MERMAID_VERSION}.min.js"


def _bundle_mermaid() -> None:
    """Copy mermaid.min.js (and its licence) from the npm registry's package, once."""
    if MERMAID_SCRIPT.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        msg = (
            "the docs bundle Mermaid from the npm registry and need npm for that "
            "(apt-get install npm); or put mermaid.min.js at " + str(MERMAID_SCRIPT)
        )
        raise RuntimeError(msg)
    with tempfile.TemporaryDirectory(prefix="cinnamon-docs-") as scratch:
        subprocess.run(  # noqa: S603 - a fixed command
            [npm, "pack", f"mermaid@{MERMAID_VERSION}", "--silent", "--pack-destination", scratch],
            check=True,
            capture_output=True,
            timeout=300,
        )
        with tarfile.open(Path(scratch) / f"mermaid-{MERMAID_VERSION}.tgz") as package:
            script = package.extractfile("package/dist/mermaid.min.js")
            licence = package.extractfile("package/LICENSE")
            if script is None or licence is None:
                msg = f"mermaid@{MERMAID_VERSION} has no dist/mermaid.min.js or LICENSE"
                raise RuntimeError(msg)
            MERMAID_SCRIPT.parent.mkdir(parents=True, exist_ok=True)
            (MERMAID_SCRIPT.parent / "LICENSE").write_bytes(licence.read())
            partial = MERMAID_SCRIPT.with_suffix(".part")
            partial.write_bytes(script.read())
            partial.replace(MERMAID_SCRIPT)  # whole or absent, never half a script


_bundle_mermaid()

# -- API reference --------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True
# "Attributes:" sections become fields of the class, not entries of their own, so a
# property that a class docstring also lists is not described twice.
napoleon_use_ivar = True

# -- HTML -----------------------------------------------------------------------------
html_theme = "furo"
html_title = f"cinnamon {release}"
html_static_path = ["_static"]

# -- Keeping the API page honest ------------------------------------------------------
# Every public name must have an entry in the API reference: a name added to
# cinnamon.__all__ (or to cinnamon.errors or cinnamon.callbacks) without one is a
# warning, and the build runs with warnings as errors.

_logger = logging.getLogger(__name__)


def _public_names() -> list[str]:
    import cinnamon.callbacks  # noqa: PLC0415 - only needed when the build checks
    import cinnamon.errors  # noqa: PLC0415

    names = [f"cinnamon.{name}" for name in cinnamon.__all__ if name != "__version__"]
    names += [f"cinnamon.errors.{name}" for name in cinnamon.errors.__all__]
    names += [f"cinnamon.callbacks.{name}" for name in cinnamon.callbacks.__all__]
    return names


def _check_api_coverage(_app: Sphinx, env: Any) -> None:
    documented = set(env.get_domain("py").objects)
    for name in _public_names():
        # A name re-exported from cinnamon.errors is documented there.
        alias = name.replace("cinnamon.", "cinnamon.errors.", 1)
        if name not in documented and alias not in documented:
            _logger.warning("the API reference (api.md) has no entry for %s", name)


def _skip_package_docstring(
    _app: Sphinx, what: str, name: str, _obj: object, _options: object, lines: list[str]
) -> None:
    # api.md lists the leftovers of `cinnamon` with automodule, which would print the
    # package docstring (about lazy imports) in the middle of the page.
    if what == "module" and name == "cinnamon":
        lines.clear()


def _offline_mermaid(
    app: Sphinx, _pagename: str, _template: str, _context: dict[str, Any], doctree: Any
) -> None:
    from sphinxcontrib.mermaid import mermaid  # noqa: PLC0415 - the extension's node

    if doctree is None or doctree.next_node(mermaid) is None:
        return
    app.add_js_file(f"mermaid/{MERMAID_SCRIPT.name}")
    app.add_js_file(None, body=_START_MERMAID)


# Mermaid draws every <pre class="mermaid"> once the page has loaded.
_START_MERMAID = (
    "document.addEventListener('DOMContentLoaded', () => {"
    " mermaid.initialize({startOnLoad: false});"
    " mermaid.run({querySelector: 'pre.mermaid'}); });"
)


def setup(app: Sphinx) -> dict[str, Any]:
    # Drop the extension's own loader (it imports the script from a CDN); keep its
    # directive and markup, and load the bundled script instead.
    for listener in list(app.events.listeners.get("html-page-context", [])):
        if getattr(listener.handler, "__module__", "") == "sphinxcontrib.mermaid":
            app.disconnect(listener.id)
    app.connect("html-page-context", _offline_mermaid)
    app.connect("env-check-consistency", _check_api_coverage)
    app.connect("autodoc-process-docstring", _skip_package_docstring)
    return {"parallel_read_safe": True}
