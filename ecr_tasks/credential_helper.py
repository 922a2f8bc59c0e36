"""``docker-credential-ecr-tasks``: the engine asks us for a registry password.

With ``"credHelpers": {"<host>": "ecr-tasks"}`` in the engine's config,
docker, podman, nerdctl and finch run this program whenever they need
credentials for that host, and nothing is stored: the password lives in
our token cache and reaches the engine on stdout only. This module is the
protocol (actions, stdin, stdout, exit codes); tokens come from
:mod:`ecr_tasks.token_source`, the same cache ``inv login`` uses.

Engines read only stdout: an answer, or on failure (exit 1) the reason.
The one reason they act on is the not-found sentence, on which they go on
without credentials. Errors also go to stderr, for a person running it.
"""

from __future__ import annotations

import os
import sys

from ecr_tasks import cache, hostnames
from ecr_tasks._version import __version__

TYPE_CHECKING = False  # on a cache hit, a pull pays for nothing but os, sys and time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO

#: The sentence engines take as "no credentials here" (docker-credential-helpers).
NOT_FOUND = "credentials not found in native keychain"
ACTIONS = ("get", "store", "erase", "list", "version")


class HelperError(Exception):
    """A failure to report to the engine: one line, exit 1."""


def get(server_url: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The engine's answer for ``server_url``; raises HelperError(NOT_FOUND)
    for hosts that are not ECR's.

    A cached token past half of its life still answers while it is valid,
    and a refresher renews it in the background: no pull waits for the API.
    """
    host = hostnames.host_of(server_url)
    token = cache.cached(host, environ, stale=True)
    if token is None:
        from ecr_tasks import token_source
        from ecr_tasks.errors import NotEcrHost

        try:
            token = token_source.token_for(host, environ)
        except NotEcrHost:
            raise HelperError(NOT_FOUND) from None
    elif not cache.is_fresh(token):
        from ecr_tasks import refresher

        refresher.start(host, environ)
    return {"ServerURL": server_url.strip(), "Username": token.user, "Secret": token.password}


def listed(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Registries whose fresh tokens the cache holds, host to user name."""
    store = cache.TokenCache(cache.cache_dir(environ))
    found: dict[str, str] = {}
    for key in store.entry_keys():
        token = store.get(key, quiet=True)
        if token is not None:
            found[token.host] = token.user
    return found


def serve(action: str, stdin: IO[str], stdout: IO[str], environ: Mapping[str, str]) -> None:
    """Run one action; raises HelperError or EcrTasksError on failure."""
    if action == "get":
        server_url = stdin.read().strip()
        if not server_url:
            raise HelperError("no server URL on stdin: expected a registry host")
        answer = get(server_url, environ)
    elif action in ("store", "erase"):
        # Nothing is kept, so there is nothing to store or erase; the engine's
        # own login and logout then succeed instead of failing on us.
        stdin.read()
        return
    elif action == "list":
        answer = listed(environ)
    elif action == "version":
        from ecr_tasks.naming import HELPER_PROGRAM

        stdout.write(f"{HELPER_PROGRAM} (ecr-tasks) {__version__}\n")
        return
    else:
        raise HelperError(f"unknown action {action!r}: expected one of {', '.join(ACTIONS)}")
    stdout.write(f"{as_json(answer)}\n")


def as_json(answer: dict[str, str]) -> str:
    """``answer`` as a JSON object; plain text is written as it is, the rest
    by ``json``, whose import (and ``re``'s) would cost every pull 15 ms."""
    texts = (*answer, *answer.values())
    if all(text.isascii() and text.isprintable() and not {'"', "\\"} & set(text) for text in texts):
        return "{" + ", ".join(f'"{k}": "{v}"' for k, v in answer.items()) + "}"
    import json

    return json.dumps(answer)


def _report(message: str) -> None:
    # The engine shows what it read on stdout; a terminal gets it once, on stderr.
    # The not-found sentence goes as it is: engines compare it word for word.
    line = message if message == NOT_FOUND else f"ecr-tasks: {message}"
    print(line, file=sys.stderr)
    if not sys.stdout.isatty():
        print(line, file=sys.stdout)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        from ecr_tasks.naming import HELPER_PROGRAM

        _report(f"usage: {HELPER_PROGRAM} <{'|'.join(ACTIONS)}>")
        return 1
    try:
        serve(args[0], sys.stdin, sys.stdout, os.environ)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # never a traceback in the engine's error output
        from ecr_tasks.errors import EcrTasksError

        if isinstance(error, (HelperError, EcrTasksError)):
            _report(str(error))
        else:
            _report(f"unexpected {type(error).__name__} in {args[0]}; please report it")
        return 1
    return 0


def entry() -> None:
    """The console script ``docker-credential-ecr-tasks``.

    A process that lives for one answer: on a cache miss the cyclic garbage
    collector would walk botocore's long-lived objects while they load and
    again at exit, about a quarter of the process's time, for no garbage.
    So it stays off, and what was built is frozen out of the exit's
    collection. Only this entry point does so: ``main`` changes no caller's
    collector.
    """
    import gc

    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
