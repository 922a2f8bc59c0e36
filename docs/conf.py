"""Sphinx configuration for the ecr-tasks documentation (English and Simplified Chinese)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The reference and the API pages import the package; a source checkout must work
# even when the package is not installed.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "_ext"))

project = "ecr-tasks"
author = "the ecr-tasks authors"
copyright = "the ecr-tasks authors"

try:
    from importlib.metadata import version as _dist_version

    release = _dist_version("ecr-tasks")
except Exception:  # not installed: a plain checkout still builds
    release = ""
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx_rtd_theme",
    "invoke_reference",
    "language_links",
    "long_literals",
]

root_doc = "index"
# Help strings from the code say things like "--create" and "don't"; keep them
# as typed rather than turning them into dashes and curly quotes.
smartquotes = False
exclude_patterns = ["_build", "requirements.txt"]
templates_path = ["_templates"]

# -- Translations -------------------------------------------------------------
# English is the source language.  The Chinese site is built with
# ``-D language=zh_CN`` from the catalogs under locale/, one per page.
language = "en"
locale_dirs = ["locale/"]
gettext_compact = False
gettext_location = False  # line numbers in the catalogs would churn on every edit
gettext_uuid = False
gettext_additional_targets: list[str] = []  # code blocks are never translated

# The language switch in the page header links each page to its twin.
ecr_languages = {
    "en": {"label": "English", "hreflang": "en", "rtd_slug": "en"},
    "zh_CN": {"label": "简体中文", "hreflang": "zh-Hans", "rtd_slug": "zh-cn"},
}

# -- Cross references ---------------------------------------------------------
nitpicky = True
# Names outside this project (builtins, typing, boto3, invoke, ...) resolve only
# through intersphinx, which needs the network; never fail the build for them.
# References to ecr_tasks itself stay checked.
nitpick_ignore_regex = [
    (r"py:.*", r"(?!ecr_tasks\b).*"),
    # Type variables in signatures (``F = TypeVar("F", ...)``) have no page of their own.
    (r"py:class", r"ecr_tasks\.[\w.]*\.[A-Z]"),
    # The stand-in's registry part: handed out by Stack.extra_registry to tests
    # and benchmarks, documented with the stand-in rather than on its own.
    (r"py:class", r"ecr_tasks\.standin\.registry\.Registry"),
]

# The build must pass offline (CI has no internet), so intersphinx inventories
# are fetched only where the network is known to exist: on Read the Docs, or
# when asked for with ECR_DOCS_INTERSPHINX=1.
if os.environ.get("READTHEDOCS") == "True" or os.environ.get("ECR_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "boto3": ("https://boto3.amazonaws.com/v1/documentation/api/latest/", None),
        "invoke": ("https://docs.pyinvoke.org/en/stable/", None),
    }
else:
    intersphinx_mapping = {}
intersphinx_timeout = 10

# -- autodoc ------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The sidebar lists modules, not every function in them.
toc_object_entries = False

# -- HTML ---------------------------------------------------------------------
html_theme = "sphinx_rtd_theme"
html_title = "ecr-tasks"
html_static_path = ["_static"]
html_css_files = ["ecr-tasks.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_depth": 3,
    "prev_next_buttons_location": "both",
}
