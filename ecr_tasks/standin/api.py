"""The API emulator launcher: moto's server, adjusted to answer like ECR does.

Run as ``python -m ecr_tasks.standin.api --port N --port-file FILE``. Compared
with ``python -m moto.server`` it

* makes ECR ``GetAuthorizationToken`` answer ``expiresAt`` = now + the token
  lifetime (12 h, as real ECR does; moto answers a date in 2015, so every
  token would look expired to a cache);
* answers ECR Public's ``GetAuthorizationToken``, a service moto lacks, with
  the same password so that one registry accepts both tokens;
* serves ``/_standin/token-ttl`` (GET, PUT) so tests can shorten the lifetime
  of later tokens without a restart, which would lose moto's state;
* binds 127.0.0.1 on port N (0: any free port) and writes the bound port to
  FILE, so the parent never has to guess a free port.

Only the standard library is imported at module level: the parent imports
nothing from here, and the child pays for moto once, in ``main``.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

TTL_ENV = "ECR_STANDIN_TOKEN_TTL"
DEFAULT_TOKEN_TTL = 12 * 3600.0
PUBLIC_TARGET_PREFIX = "SpencerFrontendService."
TTL_PATH = "/_standin/token-ttl"
JSON_TYPE = "application/x-amz-json-1.1"

StartResponse = Callable[..., Any]


class TokenClock:
    """How long tokens handed out from now on stay valid."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl

    def expires_at(self) -> float:
        return time.time() + self.ttl


def ttl_from_env() -> float:
    raw = os.environ.get(TTL_ENV, "")
    return float(raw) if raw.strip() else DEFAULT_TOKEN_TTL


def registry_password(account: str) -> str:
    """The password moto puts in an account's token (and our htpasswd holds)."""
    return f"{account}-auth-token"


def patch_ecr_expiry(clock: TokenClock) -> None:
    """Wrap moto's ECR GetAuthorizationToken so its tokens expire like ECR's."""
    from moto.ecr.responses import ECRResponse

    original = ECRResponse.get_authorization_token

    def get_authorization_token(self: Any) -> Any:
        result = original(self)
        # moto 5 returns an ActionResult holding a dict; older ones a JSON string.
        data: dict[str, Any] = (
            json.loads(result) if isinstance(result, str) else cast(dict[str, Any], result.result)
        )
        for item in data["authorizationData"]:
            item["expiresAt"] = clock.expires_at()
        return json.dumps(data) if isinstance(result, str) else result

    ECRResponse.get_authorization_token = get_authorization_token  # type: ignore[method-assign]


class StandinMiddleware:
    """WSGI layer in front of moto for what moto does not answer itself."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], clock: TokenClock, account: str
    ) -> None:
        self.app = app
        self.clock = clock
        self.account = account

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(PUBLIC_TARGET_PREFIX):
            return self.ecr_public(target, start_response)
        if environ.get("PATH_INFO") == TTL_PATH:
            return self.token_ttl(environ, start_response)
        return self.app(environ, start_response)

    def ecr_public(self, target: str, start_response: StartResponse) -> Iterable[bytes]:
        if target != PUBLIC_TARGET_PREFIX + "GetAuthorizationToken":
            error = {
                "__type": "UnsupportedCommandException",
                "message": f"the ECR stand-in does not emulate {target}",
            }
            return _json(start_response, "400 Bad Request", error)
        secret = f"AWS:{registry_password(self.account)}".encode()
        data = {
            "authorizationToken": base64.b64encode(secret).decode(),
            "expiresAt": self.clock.expires_at(),
        }
        return _json(start_response, "200 OK", {"authorizationData": data})

    def token_ttl(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in ("PUT", "POST"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                self.clock.ttl = float(environ["wsgi.input"].read(length))
            except ValueError:
                return _json(start_response, "400 Bad Request", {"message": "send seconds"})
        return _json(start_response, "200 OK", {"ttl": self.clock.ttl})


def _json(start_response: StartResponse, status: str, payload: object) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def write_port(path: Path, port: int) -> None:
    # Write-then-rename: the parent polls this file and must never read half of it.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(str(port))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ecr_tasks.standin.api")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--port-file", type=Path, help="where to write the bound port")
    args = parser.parse_args(argv)

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    clock = TokenClock(ttl_from_env())
    patch_ecr_expiry(clock)
    app = StandinMiddleware(
        DomainDispatcherApplication(create_backend_app), clock, DEFAULT_ACCOUNT_ID
    )
    # One line per request costs time and fills the log; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)  # moto builds some URLs from it
    if args.port_file:
        write_port(args.port_file, port)
    server.serve_forever()


if __name__ == "__main__":
    main()
