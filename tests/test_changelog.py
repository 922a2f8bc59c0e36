"""CHANGELOG.rst: an "Unreleased" section on top, then one section per version,
newest first, the newest being the version the package reports."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from ecr_tasks import __version__

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.rst"


def _sections() -> list[str]:
    """Titles underlined with "=" (the page title, overlined too, comes first)."""
    lines = CHANGELOG.read_text(encoding="utf-8").splitlines()
    return [
        title
        for title, rule in itertools.pairwise(lines)
        if title.strip() and re.fullmatch(r"=+", rule) and len(rule) >= len(title)
    ]


def _version(title: str) -> tuple[int, ...]:
    found = re.match(r"(\d+(?:\.\d+)*)\b", title)
    assert found, f"section {title!r} does not start with a version number"
    return tuple(int(part) for part in found.group(1).split("."))


def test_unreleased_comes_first() -> None:
    assert _sections()[1] == "Unreleased"


def test_newest_version_is_the_package_version() -> None:
    newest = _sections()[2]
    assert _version(newest) == _version(__version__), (
        f"CHANGELOG.rst's newest version is {newest!r}, the package says {__version__}"
    )


def test_versions_go_newest_first_and_appear_once() -> None:
    versions = [_version(title) for title in _sections()[2:]]
    assert versions == sorted(set(versions), reverse=True)
