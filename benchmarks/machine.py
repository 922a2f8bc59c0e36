"""What the benchmark ran on: hardware, OS and the versions of every tool timed."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("ecr-tasks", "invoke", "boto3", "botocore", "awscli", "moto")


def _first(path: str, key: str, separator: str) -> str | None:
    """The value of the first ``key<separator>value`` line of a file."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(separator)
        if name.strip() == key:
            return value.strip().strip('"')
    return None


def _output(argv: list[str], env: dict[str, str] | None = None) -> str:
    """The first line a command prints, or why there is none."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=20, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else "unavailable"


def memory_gib() -> str:
    kib = _first("/proc/meminfo", "MemTotal", ":")
    return f"{int(kib.split()[0]) / 1024 / 1024:.1f} GiB" if kib else "unknown"


def describe(env: dict[str, str]) -> dict[str, str]:
    """``{what: value}``, in the order the results file shows them."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    docker = ["docker", "version", "--format"]
    return {
        "CPU": _first("/proc/cpuinfo", "model name", ":") or platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "memory": memory_gib(),
        "OS": f"{_first('/etc/os-release', 'PRETTY_NAME', '=') or platform.system()}, "
        f"kernel {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        **versions,
        "docker client": _output([*docker, "{{.Client.Version}}"], env),
        "docker engine": _output([*docker, "{{.Server.Version}}"], env),
        "registry": _output(["docker-registry", "--version"]),
    }


def load() -> str:
    """The load averages, to judge how quiet the machine was."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"
