"""The stand-in in real-hosts mode, for pairs that need ECR's real host names.

``docker-credential-ecr-login`` (the Amazon ECR credential helper) answers
only for real ECR hosts, so a side-by-side pull runs where those names
resolve: inside the mount namespace of ``python -m ecr_tasks.standin
--real-hosts``. Every benchmarked line enters it with ``nsenter``, on both
sides alike. The stand-in's work folder lists each password the API issued,
one a line, which is how API calls are counted.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from benchmarks.timing import BenchError
from ecr_tasks.standin.emulator import issued_passwords

ACCOUNT = "123456789012"
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


class RealHostsStandin:
    """A started real-hosts stand-in; ``stop()`` ends it."""

    def __init__(self, root: Path) -> None:
        for needed in ("nsenter", "docker-credential-ecr-login"):
            if shutil.which(needed) is None:
                raise BenchError(f"{needed} not found: the credential helper pairs need it")
        if os.geteuid() != 0:
            raise BenchError("the credential helper pairs need root (real-hosts stand-in)")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        settings_file = root / "settings.json"
        self._log = open(root / "standin.log", "w")  # noqa: SIM115 - open while it runs
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_"))}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "ecr_tasks.standin", "--real-hosts",
             "--workdir", str(root / "standin"), "--settings-file", str(settings_file)],
            stdout=self._log, stderr=subprocess.STDOUT, env=clean, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not settings_file.exists():
            if self._child.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (root / "standin.log").read_text().strip()[-400:]
                raise BenchError(f"the real-hosts stand-in did not start: {tail}")
            time.sleep(0.1)
        settings = json.loads(settings_file.read_text())
        self.env: dict[str, str] = dict(settings["env"])
        self.workdir = Path(settings["workdir"])

    def enter(self, line: str, cwd: Path) -> str:
        """``line`` as a shell line run inside the namespace."""
        return (
            f"nsenter --target={self._child.pid} --mount --wd={shlex.quote(str(cwd))} -- "
            f"sh -c {shlex.quote(line)}"
        )

    def run(self, line: str, env: dict[str, str], cwd: Path) -> str:
        done = subprocess.run(
            ["sh", "-c", self.enter(line, cwd)], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BenchError(f"{line} failed: {(done.stderr or done.stdout).strip()[-400:]}")
        return done.stdout

    def issued(self) -> int:
        """How many tokens the API has issued so far."""
        return len(issued_passwords(self.workdir))

    def push_image(self, repo: str, env: dict[str, str], project: Path) -> str:
        """A small image pushed to ``repo`` (created first); its full reference."""
        (project / "invoke.yaml").write_text(f"ecr:\n  repo: {repo}\n  region: {REGION}\n")
        payload = project / "payload.bin"
        payload.write_bytes(os.urandom(1 << 20))
        with tarfile.open(project / "rootfs.tar", "w") as tar:
            tar.add(payload, arcname="payload.bin")
        self.run(f"docker import rootfs.tar {repo}:v1", env, project)
        self.run(f"{shlex.quote(sys.executable)} -m invoke push --tag v1 --create", env, project)
        return f"{REGISTRY}/{repo}:v1"

    def stop(self) -> None:
        if self._child.poll() is None:
            self._child.send_signal(signal.SIGTERM)
            try:
                self._child.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self._child.pid, signal.SIGKILL)
                self._child.wait(10)
        self._log.close()
