"""Let long code wrap where a reader expects it, and nowhere else.

Sphinx writes inline code as one ``<span class="pre">`` per word.  Browsers
break lines after any hyphen, so ``--password-stdin`` could end up split as
``-`` and ``-password-stdin``; the stylesheet keeps each word whole instead.  A
word too long for a table cell (a registry host, an image name) then gets
``<wbr>`` break points after its dots, slashes, colons, equals signs and
commas; a part between those that is still long (``docker-credential-desktop``)
may also break after a hyphen inside it.  Short words, flags among them, never
break.  ``<wbr>`` is not copied with the text, so a command copied from the page
stays intact.

The usage lines and examples of the task reference wrap too, but only between
words, and never inside a bracketed ``[--flag VALUE]...`` group.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sphinx.application import Sphinx

LONG_WORD = 24
LONG_PART = 20
_PRE_SPAN = re.compile(rf'(<span class="pre">)([^<]{{{LONG_WORD},}})(</span>)')
_PARTS = re.compile(r"(?<=[./:=,])(?=[^./:=,])")
_INNER_HYPHEN = re.compile(r"(?<=[A-Za-z0-9])-(?=[A-Za-z0-9])")


def add_break_points(html: str) -> str:
    """Insert ``<wbr>`` after ``.``, ``/``, ``:``, ``=`` and ``,`` inside long
    code words, and after the inner hyphens of parts still longer than
    ``LONG_PART`` characters."""

    def split(match: re.Match[str]) -> str:
        parts = [
            _INNER_HYPHEN.sub("-<wbr>", part) if len(unescape(part)) > LONG_PART else part
            for part in _PARTS.split(match.group(2))
        ]
        return f"{match.group(1)}{'<wbr>'.join(parts)}{match.group(3)}"

    return _PRE_SPAN.sub(split, html)


_WRAPPED_BLOCK = re.compile(
    r'(<div class="(?:ecr-usage|ecr-example) [^"]*"><div class="highlight"><pre>)(.*?)(</pre>)',
    re.S,
)
_UNIT = re.compile(r"\[[^\]<]*\](?:\.\.\.)?|[^\s<]+")


def keep_groups_whole(html: str) -> str:
    """Wrap each word or ``[...]`` group of a usage or example block in a nowrap span."""

    def units(text: str) -> str:
        return _UNIT.sub(lambda m: f'<span class="ecr-unit">{m.group(0)}</span>', text)

    def block(match: re.Match[str]) -> str:
        parts = re.split(r"(<[^>]*>)", match.group(2))
        inner = "".join(part if part.startswith("<") else units(part) for part in parts)
        return f"{match.group(1)}{inner}{match.group(3)}"

    return _WRAPPED_BLOCK.sub(block, html)


def on_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if "body" in context:
        context["body"] = keep_groups_whole(add_break_points(context["body"]))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", on_page_context)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
