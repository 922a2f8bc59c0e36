"""The Docker engine: use one that answers, or run a private ``dockerd``.

A private engine keeps to itself: its own data-root (in the work dir), its own
exec-root, socket and pidfile (in a short temporary dir, because Linux caps a
unix socket path near 107 bytes), no iptables and no bridge, and its own
containerd namespace in case it shares a system containerd.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from .errors import StandinError
from .process import Service

EngineMode = bool | Literal["auto"]

_SHORT_TMP_LIMIT = 40  # longest temp base we accept for socket paths


def engine_answers(env: dict[str, str] | None = None) -> bool:
    """Whether ``docker version`` reaches a server with this environment."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            env=env, capture_output=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def ping_socket(path: Path, timeout: float = 1.0) -> bool:
    """One ``GET /_ping`` on a unix socket: the engine's own readiness check."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return False
    return head.split(b" ", 2)[1:2] == [b"200"]


def kill_pidfile(path: Path, marker: str) -> None:
    """KILL the process a pidfile names if its command line holds ``marker``.

    The marker check keeps a stale pidfile from naming a stranger.
    """
    try:
        pid = int(path.read_text().strip())
        if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass  # no file or no such process: nothing left to end


def short_tempdir(prefix: str) -> Path:
    base = tempfile.gettempdir()
    if len(base) > _SHORT_TMP_LIMIT:
        base = "/tmp"  # noqa: S108 - mkdtemp below makes a private dir in it
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


class Engine:
    """The engine the stand-in's clients talk to.

    ``mode``: ``"auto"`` uses an engine that already answers and otherwise
    starts dockerd; ``True`` always starts a private dockerd; ``False`` starts
    nothing (``docker login`` still works: the client then checks the
    credentials against the registry itself).
    """

    def __init__(self, workdir: Path, mode: EngineMode = "auto", timeout: float = 30.0) -> None:
        if mode not in (True, False, "auto"):
            raise StandinError(
                f"start_engine must be True, False or 'auto', not {mode!r}", "engine"
            )
        self.workdir = workdir
        self.mode = mode
        self.timeout = timeout
        self.runtime_dir: Path | None = None
        self.service: Service | None = None

    @property
    def ours(self) -> bool:
        return self.service is not None

    @property
    def socket_path(self) -> Path | None:
        return self.runtime_dir / "docker.sock" if self.runtime_dir else None

    @property
    def docker_host(self) -> str | None:
        """``unix://...`` of our dockerd; None when we did not start one."""
        return f"unix://{self.socket_path}" if self.ours else None

    @property
    def pid(self) -> int | None:
        return self.service.pid if self.service else None

    def launch(self) -> None:
        """Decide per ``mode`` and start dockerd if needed, without waiting."""
        if self.mode is False or (self.mode == "auto" and engine_answers()):
            return
        self.launch_dockerd()

    def launch_dockerd(self) -> None:
        binary = shutil.which("dockerd")
        if binary is None:
            raise StandinError("dockerd not found: apt-get install docker.io", "engine")
        if os.geteuid() != 0:
            raise StandinError(
                "dockerd needs root: run as root, or start without an engine"
                " (start_engine=False, --no-engine)",
                "engine",
            )
        if self.runtime_dir is None:
            self.runtime_dir = short_tempdir("ecrs-")
        run = self.runtime_dir
        # An empty config file keeps /etc/docker/daemon.json's settings out.
        config = self.workdir / "daemon.json"
        config.write_text(json.dumps({}))
        # containerd namespaces allow only single separators between
        # alphanumerics; a temp dir name may hold "_" runs at either end.
        namespace = "ecr-standin-" + re.sub(r"[^A-Za-z0-9]+", "", run.name)
        argv = [
            binary,
            "--config-file", str(config),
            "--data-root", str(self.workdir / "docker-data"),
            "--exec-root", str(run / "exec"),
            "--host", f"unix://{run / 'docker.sock'}",
            "--pidfile", str(run / "dockerd.pid"),
            "--storage-driver", "vfs",
            "--iptables=false", "--ip6tables=false", "--bridge=none",
            "--containerd-namespace", namespace,
            "--containerd-plugins-namespace", namespace + "-plugins",
            "--log-level", "warn",
        ]  # fmt: skip
        self.service = Service(
            "Docker engine (dockerd)", "engine", argv, self.workdir / "dockerd.log"
        )
        self.service.start()

    def wait_ready(self) -> None:
        if self.service is None:
            return
        sock = self.socket_path
        assert sock is not None
        self.service.wait_until(lambda: ping_socket(sock), self.timeout)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        """Stop our dockerd; its short runtime dir stays for a restart."""
        if self.service is None:
            return
        self.service.stop(timeout=20)
        # dockerd runs containerd in a process group of its own and stops it on
        # a clean exit; after a KILL it may be left, so end it by its pidfile.
        assert self.runtime_dir is not None
        containerd = self.runtime_dir / "exec" / "containerd"
        kill_pidfile(containerd / "containerd.pid", str(containerd))

    def running(self) -> bool:
        return self.service is not None and self.service.running()

    def cleanup(self) -> None:
        self.stop()
        if self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None
