"""The main job, written once and run in both stand-in modes.

A user's project (a copy of tasks.py and an invoke.yaml) runs ``inv login
push`` with two tags, removes the local images, runs ``inv pull``, and the
digest is checked against the registry itself, asked over the same wire the
engine used (plain HTTP on 127.0.0.1 with the ``ecr.registry`` override, or
HTTPS to ECR's real host name in real-hosts mode).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Asks the registry which digest a tag has; reads the password on stdin, so
# that it appears on no command line, not even a test's.
_HEAD_DIGEST = """
import base64, sys, urllib.request
scheme, registry, repo, tag = sys.argv[1:5]
auth = base64.b64encode(b"AWS:" + sys.stdin.read().encode()).decode()
accept = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json"))
request = urllib.request.Request(
    f"{scheme}://{registry}/v2/{repo}/manifests/{tag}", method="HEAD",
    headers={"Authorization": f"Basic {auth}", "Accept": accept})
with urllib.request.urlopen(request, timeout=10) as answer:
    print(answer.headers["Docker-Content-Digest"])
"""


@dataclass
class Place:
    """Where commands run: here, or inside the mount namespace of process ``enter``."""

    registry: str
    scheme: str
    env: dict[str, str]
    enter: int | None = None

    def run(self, argv: Sequence[str], cwd: Path, stdin: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:  # fmt: skip
        prefix = []
        if self.enter is not None:
            prefix = ["nsenter", f"--target={self.enter}", "--mount", f"--wd={cwd}", "--"]
        return subprocess.run(
            [*prefix, *argv], cwd=cwd, env=self.env, input=stdin, text=True,
            capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip

    def inv(self, args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "invoke", *args], cwd)

    def docker(self, args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        result = self.run(["docker", *args], cwd)
        assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
        return result

    def served_digest(self, repo: str, tag: str, password: str, cwd: Path) -> str:
        asked = self.run(
            [sys.executable, "-c", _HEAD_DIGEST, self.scheme, self.registry, repo, tag],
            cwd, stdin=password,
        )  # fmt: skip
        assert asked.returncode == 0, asked.stderr
        return asked.stdout.strip()


def add_rootfs(project: Path, text: str) -> None:
    """Put ``rootfs.tar`` (one small file) in ``project``, for ``docker import``."""
    payload = project.parent / "hello.txt"
    payload.write_text(text)
    with tarfile.open(project / "rootfs.tar", "w") as tar:
        tar.add(payload, arcname="hello.txt")


def run_main_flow(place: Place, project: Path, repo: str, password: str) -> str:
    """login, push two tags (creating the repository), remove, pull, check the
    digests; returns the pushed digest."""
    built = place.docker(["import", str(project / "rootfs.tar"), f"{repo}:v1"], project)
    assert built.stdout.startswith("sha256:")

    pushed = place.inv(["login", "push", "--tag", "v1", "--tag", "latest", "--create"], project)
    assert pushed.returncode == 0, pushed.stderr
    assert f"Logged in to {place.registry}" in pushed.stdout
    digests = dict(re.findall(
        rf"Pushed {re.escape(place.registry)}/{re.escape(repo)}:(\S+) (sha256:[a-f0-9]{{64}})",
        pushed.stdout,
    ))  # fmt: skip
    assert set(digests) == {"v1", "latest"}, pushed.stdout
    digest = digests["v1"]
    assert digests["latest"] == digest
    for tag in ("v1", "latest"):
        assert place.served_digest(repo, tag, password, project) == digest

    # Nothing local is left: the pull must really come from the registry.
    remote = f"{place.registry}/{repo}"
    place.docker(["rmi", f"{repo}:v1", f"{remote}:v1", f"{remote}:latest"], project)
    gone = place.run(["docker", "image", "inspect", f"{remote}:v1"], project)
    assert gone.returncode != 0

    pulled = place.inv(["pull", "--tag", "v1"], project)
    assert pulled.returncode == 0, pulled.stderr
    assert f"Pulled {remote}:v1 {digest}" in pulled.stdout
    inspected = place.docker(
        ["image", "inspect", "--format", "{{json .RepoDigests}}", f"{remote}:v1"], project
    )
    assert f"{remote}@{digest}" in json.loads(inspected.stdout)

    shown = place.inv(["uri", "--tag", "v1", "--digest"], project)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"{remote}@{digest}"
    return digest
