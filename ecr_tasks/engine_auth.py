"""Where a container engine keeps registry logins, and whether it holds ours.

``<engine> login`` writes a JSON file of ``auths`` (Docker's config.json,
or podman's auth.json). Reading it tells whether the engine already holds
the token we would send, so that push and pull log in only when it does not.
The file is read, never written: the engine's own login and logout do that.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def auth_file(engine: str, environ: Mapping[str, str] = os.environ) -> Path:
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


def host_of_key(key: str) -> str:
    """The host an ``auths`` key is for.

    Keys come as host, https://host or https://host/v1/; podman also scopes
    them by repository (host/team/app).
    """
    return key.split("://", 1)[-1].split("/", 1)[0].lower()


def read_auths(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def holds(
    engine: str, host: str, user: str, password: str, environ: Mapping[str, str] = os.environ
) -> bool:
    """True when the engine's file already holds exactly this login for ``host``.

    A credential helper (credsStore, credHelpers) keeps the secret out of
    the file, so then this cannot tell, and says False: one more login costs
    a few milliseconds, a wrong True a failed push.
    """
    data = read_auths(auth_file(engine, environ))
    if data is None:
        return False
    host = host.lower()
    helpers = data.get("credHelpers") or {}
    if data.get("credsStore") or any(host_of_key(k) == host for k in helpers):
        return False
    wanted = base64.b64encode(f"{user}:{password}".encode()).decode()
    auths = data.get("auths") or {}
    return any(
        isinstance(entry, dict) and entry.get("auth") == wanted
        for key, entry in auths.items()
        if host_of_key(key) == host
    )
