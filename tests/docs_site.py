"""The built documentation site, shared by the docs tests and the browser tests.

The site is built once per test session into a temporary directory with
``docs/build.py`` (warnings are errors); both test modules ask for it through
:func:`built_site`, which builds on the first call only.  To check a site that
is already built, point ``ECR_DOCS_SITE`` at its ``html`` directory (the one
holding ``en/`` and ``zh_CN/``).
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Set in the environment of the build: a page that shows it has printed the
# build machine's environment (an ``environ=os.environ`` default, say).
BUILD_ENV_CANARY = f"ecr-docs-canary-{secrets.token_hex(8)}"

_built: dict[str, Path | str] = {}  # "html" once built, "failed" if not


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_sphinx() -> None:
    for module in ("sphinx", "sphinx_rtd_theme", "babel"):
        try:
            importlib.import_module(module)
        except ImportError:
            if in_ci():
                pytest.fail(f"{module} is not installed: install the docs dependency group")
            pytest.skip(f"{module} is not installed (the docs dependency group)")


def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's html directory, with en/ and zh_CN/ inside."""
    given = os.environ.get("ECR_DOCS_SITE")
    if given:
        return Path(given).resolve()
    if "failed" in _built:
        pytest.fail(str(_built["failed"]))
    if "html" in _built:
        return Path(_built["html"])
    require_sphinx()
    out = tmp_path_factory.mktemp("docs")
    result = subprocess.run(
        [sys.executable, str(DOCS / "build.py"), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "ECR_DOCS_BUILD_CANARY": BUILD_ENV_CANARY},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        _built["failed"] = f"the docs build failed:\n{result.stdout}\n{result.stderr}"
        pytest.fail(str(_built["failed"]))
    _built["html"] = out / "html"
    return out / "html"
