"""Sphinx configuration: the cinnamon documentation site.

Build it with ``nox -s docs``, or directly::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The pages are Markdown (MyST). Their code blocks are executed by ``tests/test_docs.py``,
not by Sphinx; Sphinx only lays them out.
"""

from __future__ import annotations

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
html_static_path: list[str] = []

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


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-check-consistency", _check_api_coverage)
    app.connect("autodoc-process-docstring", _skip_package_docstring)
    return {"parallel_read_safe": True}
