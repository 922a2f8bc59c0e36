"""Shared fixtures: the local ECR stand-in for end-to-end tests.

One stack (moto as the ECR and STS API, the distribution registry, and a
dockerd of our own when none is reachable) serves the whole session. Under
``CI=true`` a stack that cannot start fails the run: the end-to-end tests
are the point of CI and must never be skipped there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A started :class:`ecr_tasks.standin.Stack`, stopped after the session."""
    from ecr_tasks.standin import Stack, StandinError

    workdir = tmp_path_factory.mktemp("standin")
    try:
        # The fault proxy in front of the API lets tests count AWS calls and
        # inject throttling; it forwards untouched until told otherwise.
        started = Stack(workdir, start_engine="auto", fault_proxy=True).start()
    except StandinError as error:
        if _in_ci():
            pytest.fail(f"the local ECR stand-in did not start: {error}", pytrace=False)
        pytest.skip(f"local ECR stand-in unavailable: {error}")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def faults(stack: object) -> Iterator[object]:
    """The stack's fault proxy, cleared and with zeroed counts around each test."""
    proxy = stack.faults  # type: ignore[attr-defined]
    proxy.clear()
    proxy.reset_counts()
    yield proxy
    proxy.clear()


@pytest.fixture
def user_env(stack: object, tmp_path: Path) -> dict[str, str]:
    """The environment a user's shell would have: the stack's settings, a
    private token cache and home, and nothing of ours from the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_"))}
    env.update(stack.env())  # type: ignore[attr-defined]
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("INVOKE_ECR_REGISTRY", None)  # tests say which registry through invoke.yaml
    return env


def inv(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 180,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``inv`` as a user would: a separate process in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, text=True,
        capture_output=True, timeout=timeout, input=stdin, check=False,
    )


def docker(args: list[str], env: dict[str, str], timeout: float = 180,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], env=env, text=True, capture_output=True,
                          timeout=timeout, check=check)


def make_image(name: str, env: dict[str, str], workdir: Path, size: int = 4096,
               seed: str = "") -> None:
    """Create a local image with no network: ``docker import`` of a small tar."""
    root = workdir / f"rootfs-{name.replace('/', '_').replace(':', '_')}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "hello.txt").write_text(f"hello from {name} {seed}\n")
    (root / "payload.bin").write_bytes(os.urandom(size))
    archive = root.with_suffix(".tar")
    with tarfile.open(archive, "w") as tar:
        for item in root.iterdir():
            tar.add(item, arcname=item.name)
    docker(["import", str(archive), name], env)


def project_dir(tmp_path: Path, registry: str, extra: str = "") -> Path:
    """A user's project: a copy of our tasks.py and an invoke.yaml, nothing else."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO_ROOT / "tasks.py", project / "tasks.py")
    (project / "invoke.yaml").write_text(f"ecr:\n  registry: \"{registry}\"\n{extra}")
    return project
