"""Sphinx configuration of the anomalib_ae documentation.

Build with ``make docs`` (warnings are errors). Markdown pages are read by
MyST; pages with ``{code-cell}`` blocks and the notebooks in ``notebooks/`` are
executed during the build (MyST-NB), so every figure comes from the code shown.
The API reference page is written here from ``anomalib_ae.__all__`` so that a
newly exported class or function appears without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path

import anomalib_ae
from anomalib_ae.detectors.base import BaseDetector

project = "anomalib_ae"
author = "The anomalib_ae developers"
copyright = "2026, The anomalib_ae developers"
release = version = anomalib_ae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "sphinxcontrib.bibtex",
    "sphinx_copybutton",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute", "scripts"]
templates_path = ["_templates"]
# With AEOD_DOCS_EXECUTE=off, unexecuted cells carry no kernel language to highlight with.
suppress_warnings = ["myst-nb.lexer"]

# ---- API reference: autodoc + numpydoc -----------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's "param : type" says it once
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False  # _templates/autosummary/class.rst documents the members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# ---- MyST / MyST-NB ------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("AEOD_DOCS_EXECUTE", "cache")  # "off" for a quick build
nb_execution_timeout = 600
nb_execution_in_temp = True  # nothing a page writes lands in docs/
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_render_markdown_format = "myst"  # roles such as {class} work in Markdown outputs

# ---- citations -----------------------------------------------------------------------------
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# ---- HTML ----------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"anomalib_ae {release}"
html_static_path: list[str] = []

# ---- the API page, from anomalib_ae.__all__ -----------------------------------------------
API_INTRO = """\
API reference
=============

The detectors and functions are importable from the top-level package, e.g.
``from anomalib_ae import AutoEncoderDetector``. The pages are generated from
the docstrings; every example in them is run by the test suite
(``pytest --doctest-modules``).

.. currentmodule:: anomalib_ae
"""

# Public sub-modules documented with their own section: (title, module, intro).
SUBMODULES = [
    (
        "Score terms",
        "anomalib_ae.scoring",
        "The parts a neural detector's score is made of, and how they are combined "
        "(see :doc:`../guide/extending`).",
    ),
    (
        "Files",
        "anomalib_ae.io",
        "Tables in and out for ``aeod fit`` and ``aeod score`` (CSV, Parquet, standard streams).",
    ),
    (
        "ONNX export",
        "anomalib_ae.export",
        "One ONNX graph from raw rows to a fitted detector's score (``det.to_onnx``).",
    ),
    (
        "MLflow",
        "anomalib_ae.mlflow",
        "The MLflow flavour: ``log_model``, ``save_model``, ``load_model`` and the pyfunc.",
    ),
    (
        "Plotting",
        "anomalib_ae.plotting",
        "Diagnostic plots; each takes and returns a matplotlib Axes.",
    ),
]

EXTENDING = """
Writing a detector
------------------

.. currentmodule:: anomalib_ae

The bases a new detector subclasses (see :doc:`../guide/extending`).

.. autosummary::
   :toctree: generated

   detectors.BaseDetector
   detectors.BaseNeuralDetector
"""


def _api_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"Detectors": [], "Other classes": [], "Functions": []}
    for name in sorted(anomalib_ae.__all__, key=str.lower):
        obj = getattr(anomalib_ae, name)
        if name.startswith("__"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseDetector):
            groups["Detectors"].append(name)
        elif inspect.isclass(obj):
            groups["Other classes"].append(name)
        elif callable(obj):
            groups["Functions"].append(name)
    return groups


def _section(title: str, names: list[str], module: str = "", intro: str = "") -> str:
    lines = [title, "-" * len(title), ""]
    if intro:
        lines += [intro, ""]
    if module:
        lines += [f".. currentmodule:: {module}", ""]
    lines += [".. autosummary::", "   :toctree: generated"]
    lines += ["", *(f"   {name}" for name in names), ""]
    return "\n".join(lines)


def write_api_page(path: Path) -> None:
    """Write ``api/index.rst`` (git-ignored) listing every public name."""
    parts = [API_INTRO]
    for title, names in _api_groups().items():
        if names:
            parts.append(_section(title, names))
    for title, module, intro in SUBMODULES:
        try:
            names = list(importlib.import_module(module).__all__)
        except (ImportError, AttributeError):
            continue
        parts.append(_section(title, names, module=module, intro=intro))
    parts.append(EXTENDING)
    text = "\n".join(parts)
    if not path.exists() or path.read_text() != text:  # keep the mtime when nothing changed
        path.parent.mkdir(parents=True, exist_ok=True)  # docs/api/ is not in git
        path.write_text(text)


write_api_page(Path(__file__).parent / "api" / "index.rst")
