"""Refresh ahead: renew a registry's cached token in the background.

When the credential helper answers with a token past half of its life, it
starts this program (``python -m ecr_tasks.refresher HOST``) and does not
wait for it, so in steady use no pull waits for the API. The command line
holds the registry host only, never a password. One refresher at a time per
registry and principal: a second one finds the lock taken and leaves. It
lives no longer than its one refresh, at most :data:`LIMIT` seconds, and its
failure costs nothing: the next pull still has the valid token, or fetches.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # the helper imports this module to start a refresher
if TYPE_CHECKING:
    from collections.abc import Mapping

#: Seconds a refresher may run before the system ends it.
LIMIT = 60
#: Seconds it waits before its work, for the pull that started it to end.
HEAD_START = 1.0


def start(host: str, environ: Mapping[str, str] = os.environ) -> None:
    """Start a refresher for ``host`` in a session of its own, and return at once."""
    argv = [sys.executable, "-m", "ecr_tasks.refresher", host]
    if hasattr(os, "posix_spawn"):
        # posix_spawn, not subprocess: the answering helper pays no import for it.
        null = os.open(os.devnull, os.O_RDWR)
        try:
            files = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
            os.posix_spawn(sys.executable, argv, dict(environ), file_actions=files, setsid=True)
        finally:
            os.close(null)
        return
    import subprocess

    subprocess.Popen(  # our own module, the host as its one argument
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(environ),
        start_new_session=True,
    )


def refresh(host: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Fetch a new token for ``host`` unless another refresher is at it or the
    cache is fresh again; True when this call renewed it."""
    from ecr_tasks.cache import cached
    from ecr_tasks.token_source import source_for

    tokens, target = source_for(host, environ)
    # The cache's own lock, on a name of its own (<key>.refresh.lock), not waited for.
    with tokens.cache.fetch_lock(f"{tokens.key(target)}.refresh", wait=0) as mine:
        if not mine or cached(host, environ) is not None:
            return False  # another refresher is at it, or has just renewed it
        tokens.token(target)
        return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    import signal

    if hasattr(signal, "alarm"):  # POSIX; an entry point may set these for its process
        signal.alarm(LIMIT)  # bounded in time, whatever botocore's retries do
        os.nice(10)
    # The pull it serves comes first: its botocore import and client (0.4 s of
    # CPU) would compete with it. Not Linux's idle class: the fetch holds a
    # lock logins wait on, and an idle process on a busy core can starve.
    time.sleep(HEAD_START)

    try:
        refresh(args[0])
    except Exception:  # nobody reads a refresher's output: its failure is nothing to report
        return 1
    return 0


if __name__ == "__main__":
    import gc

    gc.disable()  # one fetch, then exit: as the helper's entry point, see there
    sys.exit(main())
