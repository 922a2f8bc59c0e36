"""The API emulator launcher: moto's server, adjusted to answer like ECR does.

Run as ``python -m ecr_tasks.standin.api --port N --port-file FILE``. Compared
with ``python -m moto.server`` it

* makes ECR ``GetAuthorizationToken`` hand out passwords shaped and sized
  like ECR's (``tokens.issue``), each new, with ``expiresAt`` = now + the
  token lifetime (12 h, as real ECR does; moto answers a fixed short password
  and a date in 2015);
* answers ECR Public's ``GetAuthorizationToken``, a service moto lacks, the
  same way, so that one registry accepts both tokens;
* answers the registry gate's questions (``/_standin/registry/check``: does
  the repository exist, may this tag be written) from moto's ECR state, and
  records each manifest the registry accepted (``/_standin/registry/pushed``)
  so that ``describe-images`` and ``list-images`` show what was pushed;
* makes ``batch-delete-image`` remove the tags and images it deletes from
  the registry too, and ``describe-images`` report sizes as ECR adds them
  up (the layers; for an index, its largest image);
* pages ``describe-images``, ``list-images`` and ``describe-repositories``
  by ``maxResults`` (100 when not asked, as ECR) and ``nextToken``;
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

from . import registry_rules
from .tokens import issue, key_from_env, record_issued

TTL_ENV = "ECR_STANDIN_TOKEN_TTL"
DEFAULT_TOKEN_TTL = 12 * 3600.0
PUBLIC_TARGET_PREFIX = "SpencerFrontendService."
TTL_PATH = "/_standin/token-ttl"
CHECK_PATH = "/_standin/registry/check"
PUSHED_PATH = "/_standin/registry/pushed"
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


def new_authorization(key: bytes, clock: TokenClock) -> dict[str, Any]:
    """``authorizationToken`` and ``expiresAt`` of a freshly issued token."""
    password, expires_at = issue(key, clock.ttl)
    record_issued(password)
    token = base64.b64encode(f"AWS:{password}".encode()).decode()
    return {"authorizationToken": token, "expiresAt": expires_at}


def patch_ecr_tokens(key: bytes, clock: TokenClock) -> None:
    """Wrap moto's ECR GetAuthorizationToken so its tokens look and expire like ECR's."""
    from moto.ecr.responses import ECRResponse

    original = ECRResponse.get_authorization_token

    def get_authorization_token(self: Any) -> Any:
        result = original(self)
        # moto 5 returns an ActionResult holding a dict; older ones a JSON string.
        data: dict[str, Any] = (
            json.loads(result) if isinstance(result, str) else cast(dict[str, Any], result.result)
        )
        for item in data["authorizationData"]:
            item.update(new_authorization(key, clock))
        return json.dumps(data) if isinstance(result, str) else result

    ECRResponse.get_authorization_token = get_authorization_token  # type: ignore[method-assign]


def patch_ecr_images(registry_data: Path | None) -> None:
    """Deletes reach the registry's storage; sizes are ECR's sums; push times
    keep milliseconds."""
    from moto.ecr.models import Image, ecr_backends
    from moto.ecr.responses import ECRResponse

    # The API call, not the backend method: moto's put_image calls that one
    # itself to move a tag, and the registry has just stored the new one.
    delete = ECRResponse.batch_delete_image

    def batch_delete_image(self: Any) -> Any:
        result = delete(self)
        answer = getattr(result, "result", None)
        if isinstance(answer, dict):
            name = self._get_param("repositoryName")
            registry_rules.record_delete(self.ecr_backend, name, answer, registry_data)
        return result

    def image_size(self: Any) -> int | None:
        return registry_rules.image_size(self, ecr_backends[self.registry_id].values())

    created = Image.__init__

    def image_init(self: Any, *args: Any, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        # ECR keeps milliseconds; moto whole seconds, which ties two quick pushes.
        self.image_pushed_at = round(time.time(), 3)

    Image.__init__ = image_init  # type: ignore[method-assign]
    ECRResponse.batch_delete_image = batch_delete_image  # type: ignore[method-assign]
    Image.get_image_size_in_bytes = image_size  # type: ignore[method-assign]


#: ECR's paged list calls and the key of the list each pages.
PAGED = {
    "describe_images": "imageDetails",
    "list_images": "imageIds",
    "describe_repositories": "repositories",
}
#: Items a page holds when ``maxResults`` is not given, as ECR answers.
DEFAULT_PAGE = 100


def patch_ecr_pages() -> None:
    """Page moto's whole lists by ``maxResults`` and ``nextToken`` (an offset here)."""
    from moto.ecr.responses import ECRResponse

    def paged(original: Callable[[Any], Any], key: str) -> Callable[[Any], Any]:
        def answer(self: Any) -> Any:
            result = original(self)
            data = getattr(result, "result", None)
            if not isinstance(data, dict) or self._get_param("imageIds"):
                return result  # asked by id: one answer, no pages
            start = int(self._get_param("nextToken") or 0)
            size = int(self._get_param("maxResults") or DEFAULT_PAGE)
            items = list(data.get(key) or [])
            data[key] = items[start : start + size]
            if start + size < len(items):
                data["nextToken"] = str(start + size)
            return result

        return answer

    for action, key in PAGED.items():
        setattr(ECRResponse, action, paged(getattr(ECRResponse, action), key))


class StandinMiddleware:
    """WSGI layer in front of moto for what moto does not answer itself."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], clock: TokenClock, key: bytes
    ) -> None:
        self.app = app
        self.clock = clock
        self.key = key

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(PUBLIC_TARGET_PREFIX):
            return self.ecr_public(target, start_response)
        path = environ.get("PATH_INFO")
        if path == TTL_PATH:
            return self.token_ttl(environ, start_response)
        if path in (CHECK_PATH, PUSHED_PATH):
            return self.registry_question(path, environ, start_response)
        return self.app(environ, start_response)

    def registry_question(
        self, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        question = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if path == CHECK_PATH:
            return _json(start_response, "200 OK", registry_rules.check(question))
        registry_rules.record_push(question)
        return _json(start_response, "200 OK", {"recorded": True})

    def ecr_public(self, target: str, start_response: StartResponse) -> Iterable[bytes]:
        if target != PUBLIC_TARGET_PREFIX + "GetAuthorizationToken":
            error = {
                "__type": "UnsupportedCommandException",
                "message": f"the ECR stand-in does not emulate {target}",
            }
            return _json(start_response, "400 Bad Request", error)
        data = new_authorization(self.key, self.clock)
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

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    clock = TokenClock(ttl_from_env())
    key = key_from_env()
    patch_ecr_tokens(key, clock)
    data = os.environ.get(registry_rules.REGISTRY_DATA_ENV)
    patch_ecr_images(Path(data) if data else None)
    patch_ecr_pages()
    app = StandinMiddleware(DomainDispatcherApplication(create_backend_app), clock, key)
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
