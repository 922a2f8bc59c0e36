"""Let long inline code wrap where a reader expects it, and nowhere else.

Sphinx writes inline code as one ``<span class="pre">`` per word.  Browsers
break lines after any hyphen, so ``--password-stdin`` could end up split as
``-`` and ``-password-stdin``; the stylesheet keeps each word whole instead.  A
word too long for a table cell (a registry host, an image name) then gets
``<wbr>`` break points after its dots, slashes and colons.  ``<wbr>`` is not
copied with the text, so a command copied from the page stays intact.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx

LONG_WORD = 24
_PRE_SPAN = re.compile(rf'(<span class="pre">)([^<]{{{LONG_WORD},}})(</span>)')
_BREAK_AFTER = re.compile(r"([./:])(?=[^./:])")


def add_break_points(html: str) -> str:
    """Insert ``<wbr>`` after ``.``, ``/`` and ``:`` inside long code words."""

    def split(match: re.Match[str]) -> str:
        word = _BREAK_AFTER.sub(r"\1<wbr>", match.group(2))
        return f"{match.group(1)}{word}{match.group(3)}"

    return _PRE_SPAN.sub(split, html)


def on_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if "body" in context:
        context["body"] = add_break_points(context["body"])


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", on_page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
