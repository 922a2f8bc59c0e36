"""The project's own sessions: tests, lint, docs, dist, bench, demo.

Each session installs the package and one dependency group from
pyproject.toml, so the lists of what a job needs live in one place.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests", "docs", "dist"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install(
    session: nox.Session, *groups: str, editable: bool = True, extras: str = ""
) -> None:
    session.install("--upgrade", "pip")
    requirements = [r for g in groups for r in nox.project.dependency_groups(PYPROJECT, g)]
    package = f".[{extras}]" if extras else "."
    session.install(*(["-e", package] if editable else [package]), *requirements)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, property, end-to-end and docs tests (the stand-in starts itself), under coverage.

    Coverage follows the inv, ecr-tasks and stand-in processes the tests start
    (settings in pyproject.toml). Its floor holds for the whole suite, so a run
    of chosen tests (``nox -s tests -- tests/test_x.py``) only prints the report.
    """
    install(session, "tests", "docs")
    # Data files go where any user may write: one test runs the stand-in as an
    # unprivileged user, and its coverage is saved like every other process's.
    data = Path(tempfile.mkdtemp(prefix="ecr-tasks-coverage-"))
    data.chmod(0o1777)
    session.env["COVERAGE_FILE"] = str(data / ".coverage")
    try:
        session.run("coverage", "run", "-m", "pytest", *session.posargs)
        session.run("coverage", "combine", "--quiet")
        session.run("coverage", "report", *(["--fail-under=0"] if session.posargs else []))
    finally:
        shutil.rmtree(data, ignore_errors=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on everything; mypy in strict mode on ecr_tasks, the stand-in included."""
    install(session, "lint", extras="standin")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the English and Chinese sites with -W --keep-going."""
    install(session, "docs")
    session.run("python", "docs/build.py", *session.posargs)


@nox.session
def dist(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, and run the wheel as a user would."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "dist"))
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(out))
    session.run("twine", "check", "--strict", *(str(f) for f in sorted(out.iterdir())))
    session.run("python", "scripts/check_dist.py", str(out))


@nox.session
def bench(session: nox.Session) -> None:
    """Login, push and list timings against the AWS CLI, in one run."""
    # Installed as users install it: an editable install adds an import hook
    # to every Python start, which no user pays.
    install(session, "bench", editable=False)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """login, push and pull against the local ECR stand-in, shown step by step."""
    install(session, "tests")
    session.run("python", "scripts/demo.py", *session.posargs)
