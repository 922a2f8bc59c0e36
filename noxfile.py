"""The project's own sessions: tests, lint, docs, bench, demo.

Each session installs the package and one dependency group from
pyproject.toml, so the lists of what a job needs live in one place.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests", "docs"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install(session: nox.Session, *groups: str, editable: bool = True) -> None:
    session.install("--upgrade", "pip")
    requirements = [r for g in groups for r in nox.project.dependency_groups(PYPROJECT, g)]
    session.install(*(["-e", "."] if editable else ["."]), *requirements)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, property, end-to-end and docs tests (the stand-in starts itself)."""
    install(session, "tests", "docs")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, on everything."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the English and Chinese sites with -W --keep-going."""
    install(session, "docs")
    session.run("python", "docs/build.py", *session.posargs)


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
