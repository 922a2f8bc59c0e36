"""The engine's auth file: docker's config.json, podman's auth.json, finch's.

This module is its one owner, and every reader and writer in the package goes
through it: where the file is, reading it (one error policy, see :func:`read`),
atomic writes that keep its mode, and the lock beside it.

The lock (``<file>.lock`` beside the file, from ``filelock``, left in place
between uses) serialises our own writers, ``<engine> login`` and ``logout``
included, across processes whatever their token caches. An engine command
run by someone else takes no lock of ours: a plain ``docker login`` at the
same moment rewrites the file from what it read, and may still drop an
entry we wrote in between.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ecr_tasks import atomic
from ecr_tasks.errors import ConfigError
from ecr_tasks.naming import HELPER, host_of


def path(engine: str, environ: Mapping[str, str] = os.environ) -> Path:
    """The file ``<engine> login`` writes credentials to."""
    if engine == "podman":
        # Podman's own order: its variable, then Docker's folder when one is
        # named, then its runtime directory.
        if environ.get("REGISTRY_AUTH_FILE"):
            return Path(environ["REGISTRY_AUTH_FILE"])
        if environ.get("DOCKER_CONFIG"):
            return Path(os.path.expanduser(environ["DOCKER_CONFIG"])) / "config.json"
        if environ.get("XDG_RUNTIME_DIR"):
            return Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
        return Path(f"/run/containers/{os.getuid()}/auth.json")  # podman's own fallback
    default = "~/.finch" if engine == "finch" else "~/.docker"
    return Path(os.path.expanduser(environ.get("DOCKER_CONFIG") or default)) / "config.json"


def read(file: Path) -> dict[str, Any]:
    """The file's JSON object; {} when there is none yet. One that cannot be read
    or is not a JSON object is the user's to fix: we stop rather than replace it."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {file}: {error.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(f"{file} is not a JSON object: fix or remove it, then retry")
    return data


def section(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``auths`` or ``credHelpers`` by host; {} when missing or not an object."""
    found = data.get(key)
    return {host_of(k): v for k, v in found.items()} if isinstance(found, dict) else {}


@contextlib.contextmanager
def locked(file: Path, wait: float = 60.0) -> Iterator[None]:
    """Hold the lock beside ``file`` (``config.json.lock``) for a read-modify-write,
    waiting up to ``wait`` seconds for another writer to finish."""
    from filelock import FileLock, Timeout  # only writers pay for it

    target = file.resolve()  # a symlinked file is locked where it lives
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = FileLock(f"{target}.lock", timeout=wait, mode=0o600)
        lock.acquire(poll_interval=0.02)
    except Timeout:
        raise ConfigError(
            f"{target} is locked by another login for over {wait:g} s: retry, or remove "
            f"{target}.lock if no login is running"
        ) from None
    except OSError as error:
        raise ConfigError(f"cannot lock {target}: {error.strerror}") from None
    try:
        yield
    finally:
        lock.release()


def write(file: Path, data: Mapping[str, Any]) -> None:
    """Replace the file atomically, keeping its mode (and a symlink to it)."""
    target = file.resolve()
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o600
    atomic.replace(target, json.dumps(data, indent="\t") + "\n", mode)


def helper_for(data: Mapping[str, Any], host: str) -> str | None:
    """The credential helper the engine asks for ``host``: its credHelpers
    entry, else credsStore; None when it stores passwords in the file."""
    helper = section(data, "credHelpers").get(host.lower())
    if isinstance(helper, str) and helper:
        return helper
    store = data.get("credsStore")
    return store if isinstance(store, str) and store else None


def has_secret(entry: object) -> bool:
    """Whether an ``auths`` entry holds a usable secret (docker writes {} for a helper's hosts)."""
    return isinstance(entry, dict) and any(map(entry.get, ("auth", "password", "identitytoken")))


def holds(data: Mapping[str, Any], host: str, user: str, password: str) -> bool:
    """True when the file's ``data`` already holds exactly this login for ``host``. Under a
    credential helper it cannot tell and says False: a wrong True would fail a push."""
    if helper_for(data, host) is not None:
        return False
    wanted = base64.b64encode(f"{user}:{password}".encode()).decode()
    auths = data.get("auths")
    return isinstance(auths, dict) and any(
        isinstance(entry, dict) and entry.get("auth") == wanted
        for key, entry in auths.items()
        if host_of(key) == host.lower()
    )


def set_helper(file: Path, hosts: Iterable[str]) -> None:
    """Point ``credHelpers`` of each host at our helper, and drop the
    password stored for it, which would stay on disk for nothing."""
    wanted = {h.lower() for h in hosts}

    def change(data: dict[str, Any]) -> None:
        helpers = data.get("credHelpers")
        if helpers is not None and not isinstance(helpers, dict):
            raise ConfigError(f"credHelpers in {file} is not a JSON object: fix it, then retry")
        kept = {k: v for k, v in (helpers or {}).items() if host_of(k) not in wanted}
        data["credHelpers"] = {**kept, **dict.fromkeys(sorted(wanted), HELPER)}
        auths = data.get("auths")
        if isinstance(auths, dict):
            data["auths"] = {k: v for k, v in auths.items() if host_of(k) not in wanted}

    _update(file, change)


def drop_helper(file: Path, hosts: Iterable[str]) -> None:
    """Remove our ``credHelpers`` entries for ``hosts``; other programs' stay."""
    gone = {h.lower() for h in hosts}

    def change(data: dict[str, Any]) -> None:
        helpers = data.get("credHelpers")
        if isinstance(helpers, dict):
            kept = {k: v for k, v in helpers.items() if not (host_of(k) in gone and v == HELPER)}
            if kept:
                data["credHelpers"] = kept
            else:
                del data["credHelpers"]

    _update(file, change, create=False)


def _update(file: Path, change: Any, create: bool = True) -> None:
    """Read, change and write the file under its lock; unchanged, it is left alone."""
    try:
        with locked(file):
            if not create and not file.exists():
                return
            data = read(file)
            before = json.dumps(data, sort_keys=True)
            change(data)
            if json.dumps(data, sort_keys=True) != before:
                write(file, data)
    except OSError as error:
        raise ConfigError(f"cannot write {file}: {error.strerror}") from None
