"""Link every page to the same page in the other language.

The English and the Chinese site are two builds of the same sources, published
side by side (``html/en/`` and ``html/zh_CN/`` locally, one Read the Docs project
per language when hosted).  On ``html-page-context`` this extension works out the
relative address of the current page in each other language; the breadcrumbs
template shows it as a link (``_static/ecr-tasks.js`` carries the ``#anchor``
over when it is followed).  ``<link rel="alternate" hreflang>`` tags give search
engines the absolute address of every language's version of the page, on the
published site (``ecr_site_url``), which is also the ``html_baseurl`` of the
build and so the page's canonical address.
"""

from __future__ import annotations

import os
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config


def twin_url(
    pagename: str, language: str, on_read_the_docs: bool, rtd_version: str, slug: str
) -> str:
    """Relative URL of *pagename* in *language*, from the page itself."""
    to_root = "../" * pagename.count("/")
    if on_read_the_docs:
        # Read the Docs serves /<language slug>/<version>/<page>.html
        return f"{to_root}../../{slug}/{rtd_version}/{pagename}.html"
    return f"{to_root}../{language}/{pagename}.html"


def published_root(config: Config, language: str) -> str:
    """Absolute address of *language*'s site: ``<site>/<slug>/<version>/``."""
    slug = config.ecr_languages[language]["rtd_slug"]
    return f"{config.ecr_site_url.rstrip('/')}/{slug}/{config.ecr_site_version}/"


def set_base_url(app: Sphinx, config: Config) -> None:
    """``html_baseurl`` for the language being built, unless conf.py set one."""
    if not config.html_baseurl and config.language in config.ecr_languages:
        config.html_baseurl = published_root(config, config.language)


def translate_copyright(app: Sphinx, config: Config) -> None:
    """The footer's copyright holder in the language being built."""
    translated = config.ecr_copyright.get(config.language)
    if translated:
        config.copyright = translated


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
    # Every language, this one included, as search engines expect.
    alternates = "".join(
        f'<link rel="alternate" hreflang="{info["hreflang"]}" '
        f'href="{published_root(app.config, language)}{pagename}.html" />\n'
        for language, info in languages.items()
    )
    context["metatags"] = context.get("metatags", "") + alternates


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("ecr_languages", {}, "html", types=frozenset({dict}))
    app.add_config_value("ecr_site_url", "", "html", types=frozenset({str}))
    app.add_config_value("ecr_site_version", "latest", "html", types=frozenset({str}))
    app.add_config_value("ecr_copyright", {}, "html", types=frozenset({dict}))
    # After conf.py and -D overrides, so the language is the one being built.
    app.connect("config-inited", set_base_url, priority=800)
    app.connect("config-inited", translate_copyright, priority=800)
    app.connect("html-page-context", add_language_links)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
