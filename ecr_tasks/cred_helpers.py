"""``credHelpers`` entries in the engine's config: ours written, ours removed.

``inv login --helper`` (or ``ecr.helper: true``) makes the engine ask
``docker-credential-ecr-tasks`` for each registry instead of storing its
password. The file is the engine's own (docker's config.json, podman's
auth.json), so every other key and entry is kept as it was; it is rewritten
atomically (temp file, fsync, rename) under the lock logins take, so a
concurrent ``docker login`` or ``inv login`` never loses an entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecr_tasks.engine import config_lock
from ecr_tasks.engine_auth import host_of_key
from ecr_tasks.errors import ConfigError

#: The name engines turn into the program ``docker-credential-ecr-tasks``.
HELPER = "ecr-tasks"
PROGRAM = f"docker-credential-{HELPER}"


def read_config(path: Path) -> dict[str, Any]:
    """The engine's config as a dict; {} when there is none yet.

    A file that is there but is not a JSON object is the user's to fix: we
    stop rather than replace it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object: fix or remove it, then retry")
    return data


def _write_config(path: Path, data: dict[str, Any]) -> None:
    target = path.resolve()  # a symlinked config is updated where it lives
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".config-", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent="\t")
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def use_helper(path: Path, hosts: Iterable[str], lock_dir: Path) -> list[str]:
    """Point ``credHelpers`` of each host at us; the hosts whose stored
    password (an ``auths`` entry) was removed with it.

    A stored password for a host the helper now answers would stay on disk
    for nothing, so it goes; entries for other hosts stay as they are.
    """
    hosts = [h.lower() for h in hosts]
    try:
        with config_lock(lock_dir):
            data = read_config(path)
            helpers = data.get("credHelpers")
            if helpers is not None and not isinstance(helpers, dict):
                raise ConfigError(f"credHelpers in {path} is not a JSON object: fix it, then retry")
            helpers = dict(helpers or {})
            for host in hosts:
                for key in [k for k in helpers if host_of_key(k) == host]:
                    del helpers[key]
                helpers[host] = HELPER
            auths = data.get("auths")
            dropped = []
            if isinstance(auths, dict):
                for key in list(auths):
                    if host_of_key(key) in hosts:
                        dropped.append(host_of_key(key))
                        del auths[key]
            data["credHelpers"] = helpers
            _write_config(path, data)
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}") from None
    return list(dict.fromkeys(dropped))


def drop_helper(path: Path, hosts: Iterable[str], lock_dir: Path) -> list[str]:
    """Remove our ``credHelpers`` entries for ``hosts``; the hosts removed.

    Entries naming another program are the user's and stay.
    """
    hosts = [h.lower() for h in hosts]
    try:
        with config_lock(lock_dir):
            if not path.exists():
                return []
            data = read_config(path)
            helpers = data.get("credHelpers")
            if not isinstance(helpers, dict):
                return []
            removed = [k for k in helpers if host_of_key(k) in hosts and helpers[k] == HELPER]
            if not removed:
                return []
            data["credHelpers"] = {k: v for k, v in helpers.items() if k not in removed}
            if not data["credHelpers"]:
                del data["credHelpers"]
            _write_config(path, data)
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}") from None
    return [host_of_key(k) for k in removed]


def helper_of(path: Path, host: str) -> str | None:
    """The credential helper the engine asks for ``host``, if any."""
    try:
        data = read_config(path)
    except ConfigError:
        return None
    helpers = data.get("credHelpers")
    if isinstance(helpers, dict):
        for key, value in helpers.items():
            if host_of_key(key) == host.lower():
                return value if isinstance(value, str) else None
    store = data.get("credsStore")
    return store if isinstance(store, str) and store else None
