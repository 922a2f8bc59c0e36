"""Check the built sdist and wheel, then use the wheel as a user would.

    python scripts/check_dist.py DIST_DIR

DIST_DIR holds what ``python -m build`` made. The wheel must hold the
package (every module of ecr_tasks/, and py.typed), its metadata and the
license, and nothing else: no tests, docs or benchmarks. It is then
installed into a fresh virtual environment, where ``ecr-tasks --version``
must print the version from ecr_tasks/_version.py and ``inv --list``, run
in a folder holding only our tasks.py, must list every task.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "ecr_tasks"
TASKS = ("login", "logout", "uri", "tag", "push", "pull", "doctor", "tags", "untag", "mirror")
# Top-level folders of the repository that are not part of the product.
NOT_SHIPPED = ("tests/", "docs/", "benchmarks/", "scripts/")


class DistError(Exception):
    """A distribution that is not what users should get."""


def expected_version() -> str:
    version: str = runpy.run_path(str(ROOT / PACKAGE / "_version.py"))["__version__"]
    return version


def the_one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    if len(found) != 1:
        raise DistError(f"expected one {pattern} in {dist}, found {[f.name for f in found]}")
    return found[0]


def package_files() -> set[str]:
    """The package's modules and data as the repository tracks them."""
    listed = subprocess.run(
        ["git", "ls-files", "--", PACKAGE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(listed.stdout.split())


def check_wheel(wheel: Path, version: str) -> list[str]:
    names = sorted(zipfile.ZipFile(wheel).namelist())
    dist_info = f"{PACKAGE}-{version}.dist-info/"
    if f"-{version}-" not in wheel.name:
        raise DistError(f"{wheel.name} does not carry version {version}")
    strays = {n for n in names if not n.startswith((f"{PACKAGE}/", dist_info))}
    strays |= {n for n in names if n.startswith(NOT_SHIPPED) or "/tests/" in n}
    if strays:
        raise DistError(f"{wheel.name} holds files outside the package: {sorted(strays)}")
    tracked, shipped = package_files(), {n for n in names if n.startswith(f"{PACKAGE}/")}
    if shipped != tracked:
        raise DistError(
            f"{wheel.name}: package files differ from the repository's:"
            f" missing {sorted(tracked - shipped)}, unknown {sorted(shipped - tracked)}"
        )
    for needed in (f"{dist_info}licenses/LICENSE", f"{PACKAGE}/py.typed"):
        if needed not in names:
            raise DistError(f"{wheel.name} lacks {needed}")
    license_text = zipfile.ZipFile(wheel).read(f"{dist_info}licenses/LICENSE")
    if license_text != (ROOT / "LICENSE").read_bytes():
        raise DistError(f"{wheel.name}: the license differs from LICENSE")
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}METADATA").decode()
    if "License-Expression: Apache-2.0" not in metadata.splitlines():
        raise DistError(f"{wheel.name}: METADATA names no Apache-2.0 license expression")
    return names


def check_sdist(sdist: Path, version: str) -> None:
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    top = f"{PACKAGE.replace('_', '-')}-{version}"
    top_alt = f"{PACKAGE}-{version}"
    for needed in ("LICENSE", "pyproject.toml", "README.rst", f"{PACKAGE}/py.typed"):
        if f"{top}/{needed}" not in names and f"{top_alt}/{needed}" not in names:
            raise DistError(f"{sdist.name} lacks {needed}")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DistError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def check_installed(wheel: Path, version: str) -> None:
    with tempfile.TemporaryDirectory(prefix="ecr-tasks-dist-") as temp:
        home = Path(temp)
        env_dir = home / "venv"
        venv.create(env_dir, with_pip=True)
        bin_dir = env_dir / "bin"
        # A user's shell: nothing of ours, no virtual environment of the caller's.
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "INVOKE_", "COVERAGE_", "PYTHON", "VIRTUAL_ENV"))
        }  # fmt: skip
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["HOME"] = str(home)
        run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], home, env)

        project = home / "project"
        project.mkdir()
        shutil.copy(ROOT / "tasks.py", project / "tasks.py")

        printed = run([str(bin_dir / "ecr-tasks"), "--version"], project, env).strip()
        if printed != f"ecr-tasks {version}":
            raise DistError(f"ecr-tasks --version printed {printed!r}, not 'ecr-tasks {version}'")
        print(f"ecr-tasks --version: {printed}")

        listed = run([str(bin_dir / "inv"), "--list"], project, env)
        missing = [t for t in TASKS if not re.search(rf"^\s+{t}(\s|$)", listed, re.M)]
        if missing:
            raise DistError(f"inv --list beside tasks.py lacks {missing}:\n{listed}")
        print(f"inv --list beside tasks.py lists: {', '.join(TASKS)}")
        # invoke answers --version before it reads tasks.py, so this is its own.
        print(f"inv --version: {run([str(bin_dir / 'inv'), '--version'], project, env).strip()}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    dist = Path(argv[0]).resolve()
    version = expected_version()
    try:
        wheel = the_one(dist, "*.whl")
        sdist = the_one(dist, "*.tar.gz")
        names = check_wheel(wheel, version)
        check_sdist(sdist, version)
        print(f"{wheel.name} holds {len(names)} files:")
        for name in names:
            print(f"  {name}")
        check_installed(wheel, version)
    except DistError as error:
        print(f"check_dist: {error}", file=sys.stderr)
        return 1
    print(f"check_dist: {wheel.name} and {sdist.name} are fine")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
