"""What the benchmarked commands need, made fresh in a temporary directory.

The environment each command gets is a user's shell pointed at the local
stand-in: its own HOME (no ~/.aws or ~/.docker of the person running the
benchmark leaks in), the stand-in's settings, this interpreter's ``bin``
first on PATH (so ``inv`` and ``aws`` are the ones installed beside it) and
bytecode caching on, as on a default Python install.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.timing import BenchError

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
# Variables of the person running the benchmark that would change what is measured.
_DROPPED_PREFIXES = ("AWS_", "INVOKE_", "DOCKER_CONFIG", "PYTHONDONTWRITEBYTECODE")


def tool(name: str) -> str:
    """The ``name`` console script installed beside this interpreter."""
    path = BIN_DIR / name
    if not path.exists():
        raise BenchError(
            f"{name} is not installed beside {Path(sys.executable).name}: "
            "run `nox -s bench`, which installs the bench dependency group"
        )
    return str(path)


class Workspace:
    """A temporary tree of projects, caches, shims and extra registries."""

    def __init__(self, stack: Any, root: Path) -> None:
        self.stack = stack
        self.root = root
        self.docker = shutil.which("docker") or "docker"
        self._registries: list[Any] = []
        self._real_hosts: Any = None
        self._counter = 0
        for name in ("home", "caches", "projects"):
            (root / name).mkdir(parents=True, exist_ok=True)

    # -- environments -----------------------------------------------------------

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        env.update(self.stack.env())
        env["HOME"] = str(self.root / "home")
        env["PATH"] = os.pathsep.join((str(BIN_DIR), env.get("PATH", os.defpath)))
        env["XDG_CACHE_HOME"] = str(self.root / "caches" / "default")
        return env

    def fresh_cache(self) -> dict[str, str]:
        """An empty token cache for one run."""
        self._counter += 1
        path = self.root / "caches" / f"empty-{self._counter}"
        path.mkdir()
        return {"XDG_CACHE_HOME": str(path)}

    def warm_cache(self, env: Mapping[str, str], project: Path, name: str) -> dict[str, str]:
        """A token cache that holds a fresh token, made by one ``inv login``."""
        path = self.root / "caches" / name
        path.mkdir(exist_ok=True)
        warm = {**env, "XDG_CACHE_HOME": str(path)}
        self.run([tool("inv"), "login"], warm, cwd=project)
        if not any(path.rglob("*.token")):
            raise BenchError("inv login left no token in the cache")
        return {"XDG_CACHE_HOME": str(path)}

    # -- projects -----------------------------------------------------------------

    def project(self, name: str, tasks_py: str | None) -> Path:
        """A directory with our tasks.py (``tasks_py`` None) or the given text."""
        path = self.root / "projects" / name
        path.mkdir(exist_ok=True)
        if tasks_py is None:
            shutil.copy(REPO_ROOT / "tasks.py", path / "tasks.py")
        else:
            (path / "tasks.py").write_text(tasks_py)
        return path

    # -- the engine and the registries ---------------------------------------------

    def run(self, argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
        done = subprocess.run(
            argv,
            env=env,
            cwd=cwd or self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"{shlex.join(argv)} failed: {(done.stderr or done.stdout).strip()}")
        return done.stdout

    def make_image(self, name: str, size_mib: int, env: Mapping[str, str]) -> None:
        """A local image of one layer of ``size_mib`` MiB of random bytes."""
        rootfs = self.root / "rootfs"
        rootfs.mkdir(exist_ok=True)
        with open(rootfs / "payload.bin", "wb") as payload:
            for _ in range(size_mib):
                payload.write(os.urandom(1 << 20))
        (rootfs / "hello.txt").write_text("ecr-tasks benchmark image\n")
        archive = self.root / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            for item in sorted(rootfs.iterdir()):
                tar.add(item, arcname=item.name)
        self.run([self.docker, "import", str(archive), name], env)
        archive.unlink()
        shutil.rmtree(rootfs)

    def untag(self, ref: str, env: Mapping[str, str]) -> None:
        """Remove the local tag ``ref`` if it is there (the image stays)."""
        subprocess.run(
            [self.docker, "image", "rm", ref],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )

    def empty_registry(self) -> None:
        """Restart the stand-in's registry with no blobs, so a push uploads everything.

        A new repository name is not enough: the engine would mount the
        layers from the repository it pushed them to before.
        """
        data = Path(self.stack.workdir) / "registry-data"
        self.stack.stop_registry()
        shutil.rmtree(data, ignore_errors=True)
        self.stack.start_registry()

    def start_registries(self, hosts: Mapping[str, str]) -> dict[str, str]:
        """One registry per ECR host (``{host: account}``); ``{host: 127.0.0.1:port}``."""
        started = {}
        for number, (host, account) in enumerate(hosts.items()):
            workdir = self.root / f"registry-{number}"
            workdir.mkdir(exist_ok=True)
            registry = self.stack.extra_registry(workdir, account)
            self._registries.append(registry)
            started[host] = registry
        for registry in started.values():
            registry.wait_ready()
        return {host: registry.host for host, registry in started.items()}

    def engine_shim(self, hosts: Mapping[str, str]) -> Path:
        """A ``docker`` that sends ``docker login <ECR host>`` to a local registry.

        It stands in for DNS and nothing else: the real docker client then
        logs in to the registry for real. Every other command goes straight
        to the real docker.
        """
        cases = "\n".join(
            f"    {shlex.quote(host)}) host={shlex.quote(local)} ;;"
            for host, local in hosts.items()
        )
        script = f"""#!/bin/sh
# docker login --username USER --password-stdin HOST, with HOST mapped to a local registry.
if [ "$1" = login ] && [ "$#" -eq 5 ]; then
  host=$5
  case "$host" in
{cases}
  esac
  exec {shlex.quote(self.docker)} login "$2" "$3" "$4" "$host"
fi
exec {shlex.quote(self.docker)} "$@"
"""
        shim_dir = self.root / "shim-bin"
        shim_dir.mkdir(exist_ok=True)
        shim = shim_dir / "docker"
        shim.write_text(script)
        shim.chmod(0o755)
        return shim_dir

    def real_hosts(self) -> Any:
        """The real-hosts stand-in, started on first use and stopped by ``close``."""
        if self._real_hosts is None:
            from benchmarks.realhosts import RealHostsStandin

            self._real_hosts = RealHostsStandin(self.root / "real-hosts")
        return self._real_hosts

    def close(self) -> None:
        if self._real_hosts is not None:
            self._real_hosts.stop()
            self._real_hosts = None
        for registry in self._registries:
            registry.stop()
        self._registries.clear()


def temporary_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="ecr-bench-"))
