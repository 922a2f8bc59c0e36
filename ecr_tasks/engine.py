"""The container engine: the one place engine commands are built and run.

Arguments are lists, quoted once by :func:`command_line`. The login writes
the password to the engine's stdin with :mod:`subprocess` rather than
through invoke's runner, whose stdin pump copies one character per 10 ms
nap: a 2 KB ECR token would take seconds. Everything else goes through
``c.run`` so ``--echo``, ``--dry`` and invoke's output handling apply.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecr_tasks import authfile
from ecr_tasks.errors import (
    AuthRejected,
    EngineError,
    ImageNotFound,
    RepositoryNotFound,
    redact,
    secret_forms,
    tls_problem,
)

_DIGEST_LINE = re.compile(r"^(?P<tag>\S+): digest: (?P<digest>sha256:[a-f0-9]{64}) size: ", re.M)

# Patterns of engine error text, most specific first.
_DAEMON_DOWN = re.compile(
    r"Cannot connect to the Docker daemon|Is the docker daemon running|error during connect"
    r"|cannot connect to Podman|Cannot connect to the (?:podman|containerd)",
    re.I,
)
_AUTH = re.compile(
    r"unauthorized|authentication required|no basic auth credentials|401 Unauthorized"
    # podman with DOCKER_CONFIG naming a folder that holds no config.json yet:
    # no credentials at all, which a login mends.
    r"|stat \S*config\.json: no such file or directory"
    r"|authorization token has expired|denied: (?:Your )?authorization",
    re.I,
)
_IMMUTABLE = re.compile(
    r"tag invalid|cannot be overwritten because the (?:repository|tag) is immutable"
    r"|already exists .* immutable",
    re.I,
)
_NO_REPO = re.compile(r"name unknown|repository .* does not exist|repository not found", re.I)
_NO_LOCAL_IMAGE = re.compile(
    r"No such image|reference does not exist|image not known"
    r"|does not exist locally",
    re.I,
)
_MANIFEST_UNKNOWN = re.compile(
    r"manifest unknown|not found: manifest|manifest for .* not found", re.I
)
_UNREACHABLE = re.compile(
    r"connection refused|no such host|i/o timeout|dial tcp"
    r"|server misbehaving|TLS handshake timeout",
    re.I,
)


def command_line(argv: Sequence[str]) -> str:
    """Quote an argument list for a shell, once, here."""
    return shlex.join(argv)


def classify(
    engine: str, action: str, stderr: str, target: str, secrets: Sequence[str] = ()
) -> EngineError | RepositoryNotFound:
    """Turn an engine's error output into one :class:`EngineError` line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    detail = redact(lines[-1] if lines else "", secrets)[:300]  # the last line
    if _DAEMON_DOWN.search(stderr):
        return EngineError(
            f"{engine} daemon is not running or not reachable "
            f"(DOCKER_HOST={os.environ.get('DOCKER_HOST', 'default')}): start it and retry"
        )
    if _IMMUTABLE.search(stderr):
        return EngineError(
            f"{target} already exists and the repository's tags are immutable: push a new tag"
        )
    problem = tls_problem(stderr)
    if problem is not None:
        return EngineError(
            f"TLS check of the registry failed for {target}: {problem}; trust its CA in the"
            " engine (/etc/docker/certs.d/<host>/ca.crt or the system store)"
        )
    if _AUTH.search(stderr):
        return AuthRejected(f"registry rejected the credentials for {target}: {detail}")
    if _NO_LOCAL_IMAGE.search(stderr) and action in ("tag", "push"):
        return EngineError(
            f"local image {target} not found: build it first "
            f"({engine} build -t {target} .) or pass --image"
        )
    if _NO_REPO.search(stderr) and action == "pull":
        # Nothing to create: a pull only reads (the pull task names the registry).
        return RepositoryNotFound(f"repository for {target} does not exist in the registry")
    if _NO_REPO.search(stderr):
        return RepositoryNotFound(
            f"repository for {target} not found: create it or use push --create"
        )
    if _MANIFEST_UNKNOWN.search(stderr):
        return ImageNotFound(f"{target} not found in the registry")
    if _UNREACHABLE.search(stderr):
        return EngineError(f"registry for {target} is unreachable: {detail}")
    return EngineError(f"{engine} {action} {target} failed: {detail or 'no error output'}")


#: Seconds an engine login or logout may take.
ENGINE_TIMEOUT = 120


def login(c: Any, engine: str, host: str, user: str, password: str, auth_file: Path) -> None:
    """``<engine> login --username <user> --password-stdin <host>``, the password on stdin
    only, holding the lock of ``auth_file`` (which the engine rewrites); shown under ``--dry``."""
    argv = [engine, "login", "--username", user, "--password-stdin", host]
    run = c.config.run
    if run.echo or run.dry:
        print(run.echo_format.format(command=command_line(argv)), flush=True)
    if run.dry:
        return
    try:
        with authfile.locked(auth_file):
            done = subprocess.run(
                argv,
                input=password,
                capture_output=True,
                text=True,
                timeout=ENGINE_TIMEOUT,
                check=False,
            )
    except FileNotFoundError:
        raise EngineError(f"{engine} not found on PATH: install it or set ecr.engine") from None
    except subprocess.TimeoutExpired:
        raise EngineError(f"{engine} login to {host} timed out after {ENGINE_TIMEOUT} s") from None
    if done.returncode != 0:
        secrets = secret_forms(user, password)
        raise classify(engine, "login", done.stderr + done.stdout, host, secrets)


def logout(c: Any, engine: str, host: str, auth_file: Path) -> None:
    """``<engine> logout <host>``; a registry it was not logged in to is no error."""
    try:
        with authfile.locked(auth_file):
            # Hidden: the task prints its own line for each registry.
            run(c, [engine, "logout", host], "logout", host, hide="both", timeout=ENGINE_TIMEOUT)
    except EngineError as error:
        # podman says "not logged into HOST" (exit 125) where docker says nothing.
        if type(error) is not EngineError or "not logged in" not in str(error).lower():
            raise


def run(
    c: Any,
    argv: Sequence[str],
    action: str,
    target: str,
    hide: str = "err",
    timeout: float | None = None,
) -> str | None:
    """Run an engine command through invoke; its stdout, or None under ``--dry``."""
    from invoke.exceptions import CommandTimedOut

    try:
        result = c.run(
            command_line(argv), warn=True, hide=hide, pty=False, in_stream=False, timeout=timeout
        )
    except FileNotFoundError:
        raise EngineError(f"{argv[0]} not found on PATH: install it or set ecr.engine") from None
    except CommandTimedOut:
        raise EngineError(f"{argv[0]} {action} {target} timed out after {timeout:g} s") from None
    if result is None or c.config.run.dry:
        return None
    if result.exited == 127:
        raise EngineError(f"{argv[0]} not found on PATH: install it or set ecr.engine")
    if result.exited != 0:
        raise classify(argv[0], action, result.stderr, target)
    return str(result.stdout)


def image_exists(c: Any, engine: str, ref: str) -> bool:
    """Whether the engine holds a local image named ``ref`` (asked quietly)."""
    argv = [engine, "image", "inspect", ref]
    try:
        result = c.run(command_line(argv), warn=True, hide="both", pty=False, in_stream=False)
    except FileNotFoundError:
        return False  # the tag that follows says the engine is missing
    return result is not None and result.exited == 0


def untag(c: Any, engine: str, refs: Sequence[str]) -> None:
    """Remove the local names ``refs``, best-effort: another name keeps the image."""
    for ref in refs:
        argv = [engine, "image", "rm", ref]
        try:
            c.run(command_line(argv), warn=True, hide="both", pty=False, in_stream=False)
        except FileNotFoundError:
            return


def pushed_digests(output: str) -> dict[str, str]:
    """``{tag: digest}`` from ``docker push`` output."""
    return {m["tag"]: m["digest"] for m in _DIGEST_LINE.finditer(output)}
