"""Build the documentation in every language, or refresh the translation catalogs.

    python docs/build.py                    # html/en and html/zh_CN under docs/_build
    python docs/build.py --out /tmp/site    # somewhere else
    python docs/build.py --update-catalogs  # after editing the English text

Each language gets its own doctree directory: Sphinx caches translated doctrees,
so sharing one between languages would mix them.  Warnings are errors
(``-W --keep-going``), as in CI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
LANGUAGES = ("en", "zh_CN")
# The site root sends visitors to the English pages.
ROOT_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url=en/index.html">
<title>ecr-tasks</title></head>
<body><p><a href="en/index.html">English</a> ·
<a href="zh_CN/index.html" lang="zh-Hans">简体中文</a></p></body>
</html>
"""


def sphinx(*args: str) -> None:
    command = [sys.executable, "-m", "sphinx", *args]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def build_html(out: Path, languages: tuple[str, ...]) -> None:
    for language in languages:
        sphinx(
            "-W",
            "--keep-going",
            "-q",
            "-E",  # always read every page: the extensions' output depends on the code
            "-b",
            "html",
            "-d",
            str(out / "doctrees" / language),
            "-D",
            f"language={language}",
            str(DOCS),
            str(out / "html" / language),
        )
    (out / "html" / "index.html").write_text(ROOT_INDEX, encoding="utf-8")


def update_catalogs(out: Path) -> None:
    """Extract the English messages and merge them into the Chinese catalogs."""
    pot = out / "gettext"
    sphinx(
        "-W",
        "--keep-going",
        "-q",
        "-E",
        "-b",
        "gettext",
        "-d",
        str(out / "doctrees" / "gettext"),
        str(DOCS),
        str(pot),
    )
    command = [
        sys.executable,
        "-m",
        "sphinx_intl",
        "update",
        "--pot-dir",
        str(pot),
        "--locale-dir",
        str(DOCS / "locale"),
        "--language",
        "zh_CN",
        "--line-width",
        "79",
        "--no-obsolete",
    ]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS / "_build", help="output directory")
    parser.add_argument(
        "--language", action="append", choices=LANGUAGES, help="build only this language"
    )
    parser.add_argument(
        "--update-catalogs", action="store_true", help="refresh locale/ from the English text"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.update_catalogs:
            update_catalogs(args.out)
        else:
            build_html(args.out, tuple(args.language or LANGUAGES))
    except subprocess.CalledProcessError as error:
        print(f"docs: {error.cmd[2]} failed with exit status {error.returncode}", file=sys.stderr)
        return 1
    print(f"docs: done in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
