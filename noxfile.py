"""The project's own sessions: tests, lint, docs, dist, fast, lowest, invoke2, bench, demo.

Each session installs the package and one dependency group from
pyproject.toml, so the lists of what a job needs live in one place.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")

# Every Python the package claims, read from its classifiers: "fast" runs on
# each, and a claimed one that is not installed fails the run.
PYTHONS = [
    m[1]
    for c in PYPROJECT["project"]["classifiers"]
    if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))
]
# The oldest Python that requires-python allows: "lowest" runs there.
OLDEST = next(
    s.version for s in SpecifierSet(PYPROJECT["project"]["requires-python"]) if s.operator == ">="
)
# The tests that need no stand-in, engine or built site.
FAST = ("-m", "not e2e and not docs and not browser")
# These sessions check that the code runs on other versions; the full run
# fuzzes with 200 examples per property, so 50 do here (about 20 s less each).
OTHER_VERSIONS = {"ECR_TASKS_EXAMPLES": "50"}
# The whole suite ("tests") runs on the Python nox runs on; the others get the
# fast subset. "bash scripts/dev test" (and so CI) runs this list.
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
nox.options.sessions = [
    "lint",
    "tests",
    "docs",
    "dist",
    *(f"fast(version='{v}')" for v in PYTHONS if v != HERE),
    "lowest",
]


def install(
    session: nox.Session,
    *groups: str,
    editable: bool = True,
    extras: str = "",
    constraints: Path | None = None,
) -> None:
    session.install("--upgrade", "pip")
    requirements = [r for g in groups for r in nox.project.dependency_groups(PYPROJECT, g)]
    package = f".[{extras}]" if extras else "."
    pins = ["--constraint", str(constraints)] if constraints else []
    session.install(*pins, *(["-e", package] if editable else [package]), *requirements)


def floors() -> list[str]:
    """Each dependency of the package pinned to the lowest version it allows."""
    pins = []
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        lowest = [s.version for s in requirement.specifier if s.operator in (">=", "==")]
        if len(lowest) != 1:
            raise ValueError(f"{line!r} in pyproject.toml needs one lower bound (>=)")
        pins.append(f"{requirement.name}=={lowest[0]}")
    return pins


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
        # The slowest tests, listed in every CI log: what to look at when the run grows.
        session.run("coverage", "run", "-m", "pytest", "--durations=15", *session.posargs)
        session.run("coverage", "combine", "--quiet")
        session.run("coverage", "report", *(["--fail-under=0"] if session.posargs else []))
    finally:
        shutil.rmtree(data, ignore_errors=True)


def own_venv(session: nox.Session, version: str, constraints: Path | None = None) -> str:
    """The python of a virtual environment made by ``python<version>`` from PATH
    (scripts/dev puts every claimed one there), with the package and the unit
    group installed. nox's own interpreter discovery misses some pyenv builds,
    so the session runs no discovery: a claimed Python not on PATH fails it."""
    python = shutil.which(f"python{version}")
    if python is None:
        session.error(f"Python {version}, which pyproject.toml claims, is not on PATH")
    env = Path(session.create_tmp()) / f"venv-{version}"
    session.run(python, "-m", "venv", "--clear", str(env), external=True)
    own = str(env / "bin" / "python")
    pins = ["--constraint", str(constraints)] if constraints else []
    unit = nox.project.dependency_groups(PYPROJECT, "unit")
    session.run(own, "-m", "pip", "install", "-q", *pins, "-e", ".", *unit, external=True)
    return own


@nox.session(venv_backend="none")
@nox.parametrize("version", PYTHONS)
def fast(session: nox.Session, version: str) -> None:
    """The fast subset (no end-to-end, docs or browser tests) on every Python the package claims.

    Warnings are errors from the interpreter's start, not only inside pytest.
    """
    python = own_venv(session, version)
    session.run(python, "-W", "error", "-m", "pytest", *FAST, *session.posargs, external=True,
                env=OTHER_VERSIONS)  # fmt: skip


@nox.session(venv_backend="none")
def lowest(session: nox.Session) -> None:
    """The fast subset with Python and every dependency at the lowest version pyproject.toml allows.

    The package's own dependencies are pinned to their floors (what uv's
    ``--resolution lowest-direct`` picks); the test tools and what the
    dependencies pull in are the newest that fit.
    """
    pins = floors()
    constraints = Path(session.create_tmp()) / "lowest.txt"
    constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
    session.log("floors: " + ", ".join(pins))
    python = own_venv(session, OLDEST, constraints)
    session.run(python, "-W", "error", "-m", "pytest", *FAST, *session.posargs, external=True,
                env=OTHER_VERSIONS)  # fmt: skip


@nox.session
def invoke2(session: nox.Session) -> None:
    """The whole suite, end-to-end tests included, with the newest Invoke 2.

    pyproject.toml allows Invoke 2.1 and up, and CI runs the fast subset on
    2.1 ("lowest"). This session is not in CI's list, which runs the
    end-to-end tests once: run it when a change touches how the tasks use Invoke.
    """
    constraints = Path(session.create_tmp()) / "invoke2.txt"
    constraints.write_text("invoke<3\n", encoding="utf-8")
    install(session, "tests", "docs", constraints=constraints)
    session.run("pytest", *session.posargs)


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
