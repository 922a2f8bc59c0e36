"""Link every page to the same page in the other language.

The English and the Chinese site are two builds of the same sources, published
side by side (``html/en/`` and ``html/zh_CN/`` locally, one Read the Docs project
per language when hosted).  On ``html-page-context`` this extension works out the
relative address of the current page in each other language; the theme's
breadcrumbs template shows it as a link, and ``<link rel="alternate">`` tags tell
search engines about the twin.
"""

from __future__ import annotations

import os
from typing import Any

from sphinx.application import Sphinx


def twin_url(
    pagename: str, language: str, on_read_the_docs: bool, rtd_version: str, slug: str
) -> str:
    """Relative URL of *pagename* in *language*, from the page itself."""
    to_root = "../" * pagename.count("/")
    if on_read_the_docs:
        # Read the Docs serves /<language slug>/<version>/<page>.html
        return f"{to_root}../../{slug}/{rtd_version}/{pagename}.html"
    return f"{to_root}../{language}/{pagename}.html"


def add_language_links(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    languages: dict[str, dict[str, str]] = app.config.ecr_languages
    current = app.config.language
    on_rtd = os.environ.get("READTHEDOCS") == "True"
    rtd_version = os.environ.get("READTHEDOCS_VERSION", "latest")
    links = []
    for language, info in languages.items():
        if language == current:
            continue
        url = twin_url(pagename, language, on_rtd, rtd_version, info["rtd_slug"])
        links.append({"url": url, "label": info["label"], "hreflang": info["hreflang"]})
    context["ecr_language_links"] = links
    alternates = "".join(
        f'<link rel="alternate" hreflang="{link["hreflang"]}" href="{link["url"]}" />\n'
        for link in links
    )
    context["metatags"] = context.get("metatags", "") + alternates


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("ecr_languages", {}, "html", types=frozenset({dict}))
    app.connect("html-page-context", add_language_links)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
