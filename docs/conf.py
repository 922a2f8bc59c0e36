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
# The same holder in the footer of the other languages (see _ext/language_links.py).
ecr_copyright = {"zh_CN": "ecr-tasks 作者"}

# The version shown on every page is the one in the source tree being built,
# whatever happens to be installed.
from ecr_tasks._version import __version__ as release  # noqa: E402

version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx_rtd_theme",
    "invoke_reference",
    "language_links",
    "long_literals",
    "chinese_search",
    "sphinx_copybutton",
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
# Show defaults as the source writes them (``environ=os.environ``), never as
# their value on the build machine: ``os.environ`` would print the builder's
# whole environment into the published page.
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The sidebar lists the API page's sections, not every object on it.
toc_object_entries = False

# -- HTML ---------------------------------------------------------------------
html_theme = "sphinx_rtd_theme"
html_title = "ecr-tasks"
html_static_path = ["_static"]
html_css_files = ["ecr-tasks.css"]
html_js_files = ["ecr-tasks.js"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_depth": 3,
    "prev_next_buttons_location": "both",
}

# Absolute addresses of the published site: the canonical link of each page and
# the hreflang links to its twin in the other language.  Read the Docs serves
# /<language slug>/<version>/; ECR_DOCS_SITE_URL points elsewhere (a mirror).
ecr_site_url = os.environ.get("ECR_DOCS_SITE_URL", "https://ecr-tasks.readthedocs.io/")
if os.environ.get("READTHEDOCS_CANONICAL_URL"):
    # Read the Docs knows the real address: https://<host>/<slug>/<version>/
    ecr_site_url = os.environ["READTHEDOCS_CANONICAL_URL"].rstrip("/").rsplit("/", 2)[0] + "/"
ecr_site_version = os.environ.get("READTHEDOCS_VERSION", "latest")

# Copy buttons: leave prompts and output out of what is copied.
copybutton_prompt_text = r"\$ |>>> "
copybutton_prompt_is_regexp = True
# A command continued with a backslash is copied whole.
copybutton_line_continuation_character = "\\"
