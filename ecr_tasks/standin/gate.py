"""The gate: what ECR's front door does, in front of the distribution registry.

Run as ``python -m ecr_tasks.standin.gate``. Every request passes through
here on its way to the registry, which itself checks nothing. The gate

* checks the whole password in HTTP basic credentials (``tokens.verify``):
  a password the API never issued, or one past its expiry, gets HTTP 401;
* asks the API emulator whether the repository exists and whether a tag may
  be written, and refuses as ECR does, with ECR's words (``name unknown``,
  ``tag invalid``);
* tells the API emulator about each manifest the registry accepted, so the
  ECR API lists the pushed image.

With ``--passthrough`` it only forwards (the TLS front of the API emulator
in real-hosts mode). With ``--cert`` and ``--key`` it speaks HTTPS.
No third-party import (ECR host names are read by ``ecr_tasks.naming``,
which loads neither invoke nor botocore), so it starts in a few milliseconds.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import http.client
import json
import re
import socket
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ecr_tasks.errors import BadValue
from ecr_tasks.naming import parse_registry_host

from .api import CHECK_PATH, PUSHED_PATH, write_port
from .tokens import key_from_env, verify

REGISTRY_USER = "AWS"
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade",
}  # fmt: skip
# The whole path must match, so a repository named team/tags or app/blobs
# is read as the name it is, not cut at its first /tags/.
_REPO_PATH = re.compile(
    r"^/v2/(?P<name>.+?)/(?P<kind>blobs|manifests|tags)/(?P<rest>(?:uploads/)?[^/?]*)(?:\?|$)"
)
_BLOCK = 64 * 1024


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class GateConfig:
    upstream_port: int
    api_port: int | None  # None: forward only (passthrough)
    account: str
    region: str


def registry_of(host_header: str, config: GateConfig) -> tuple[str, str] | None:
    """(account, region) a request is for; None for ECR Public.

    ECR names are read by the project's own parser; any other name (the
    ``127.0.0.1:PORT`` of the override mode) is the stack's own registry.
    """
    host = host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header
    try:
        parsed = parse_registry_host(host)
    except BadValue:
        return config.account, config.region
    if parsed.public or parsed.account is None:
        return None
    return parsed.account, parsed.region


def check_credentials(authorization: str | None, key: bytes) -> Refusal | None:
    """None when the basic credentials hold a live password the API issued."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return Refusal(401, "UNAUTHORIZED", "Not Authorized")
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return Refusal(401, "UNAUTHORIZED", "Not Authorized")
    verdict = verify(key, password)
    if user != REGISTRY_USER or verdict.state == "unknown":
        return Refusal(401, "UNAUTHORIZED", "Not Authorized")
    if verdict.state == "expired":
        return Refusal(
            401, "DENIED", "Your authorization token has expired. Reauthenticate and try again."
        )
    return None


def ask_api(api_port: int, path: str, question: dict[str, Any]) -> dict[str, Any] | None:
    """POST a question to the API emulator; None when it cannot be reached."""
    conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=10)
    try:
        conn.request("POST", path, body=json.dumps(question).encode(),
                     headers={"Content-Type": "application/json"})  # fmt: skip
        answer = conn.getresponse()
        reply: dict[str, Any] = json.loads(answer.read() or b"{}")
        return reply
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()


class _Limited:
    """A file-like view of exactly ``length`` bytes of a stream."""

    def __init__(self, stream: Any, length: int) -> None:
        self.stream = stream
        self.left = length

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data: bytes = self.stream.read(size)
        self.left -= len(data)
        if not data:
            raise ConnectionError("client closed the connection mid-body")
        return data


def _chunks(stream: Any) -> Iterator[bytes]:
    """The data of a chunked request body, chunk by chunk."""
    while True:
        line = stream.readline(1024)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers: none that matter here
            return
        yield stream.read(size)
        stream.readline(1024)  # the CRLF after each chunk


class GateHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GateServer

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None
        self._pushed_digest: str | None = None

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._upstream is not None:
            self._upstream.close()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would drown the errors that matter

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- the rules ---------------------------------------------------------

    def _handle(self) -> None:
        config = self.server.config
        if config.api_port is None:
            self._forward(self._body())
            return
        refusal = check_credentials(self.headers.get("Authorization"), self.server.key)
        match = _REPO_PATH.match(self.path)
        registry = registry_of(self.headers.get("Host", ""), config)
        manifest_put = bool(match and match["kind"] == "manifests" and self.command == "PUT")
        tag = None
        if match and manifest_put and not match["rest"].startswith("sha256:"):
            tag = match["rest"]
        if refusal is None and match and registry is not None:
            refusal = self._ask_rules(registry, match["name"], tag)
        if refusal is not None:
            self._refuse(refusal)
            return
        if match and registry is not None and manifest_put:
            manifest = self._read_all()
            if self._forward(manifest) == 201:
                self._tell_pushed(registry, match["name"], tag, manifest)
            return
        self._forward(self._body())

    def _ask_rules(self, registry: tuple[str, str], name: str, tag: str | None) -> Refusal | None:
        account, region = registry
        api_port = self.server.config.api_port
        assert api_port is not None
        question = {"account": account, "region": region, "repository": name, "tag": tag}
        answer = ask_api(api_port, CHECK_PATH, question)
        if answer is None:
            # The API emulator is stopped (a fault test): let the registry
            # answer alone rather than fail every pull with a cached login.
            print(f"gate: API emulator unreachable; {name} not checked", file=sys.stderr)
            return None
        if answer.get("allowed"):
            return None
        return Refusal(int(answer["status"]), answer["code"], answer["message"])

    def _tell_pushed(
        self, registry: tuple[str, str], name: str, tag: str | None, manifest: bytes
    ) -> None:
        account, region = registry
        api_port = self.server.config.api_port
        assert api_port is not None
        ask_api(api_port, PUSHED_PATH, {
            "account": account, "region": region, "repository": name, "tag": tag,
            "digest": self._pushed_digest,
            "media_type": self.headers.get("Content-Type"),
            "manifest": manifest.decode("utf-8", errors="replace"),
        })  # fmt: skip

    def _refuse(self, refusal: Refusal) -> None:
        body = json.dumps({"errors": [{"code": refusal.code, "message": refusal.message}]})
        payload = body.encode()
        self.send_response_only(refusal.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        if refusal.status == 401:
            host = self.headers.get("Host", "")
            self.send_header(
                "WWW-Authenticate", f'Basic realm="https://{host}/",service="ecr.amazonaws.com"'
            )
        # The request body was not read: close rather than resynchronise.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    # -- forwarding ----------------------------------------------------------

    def _body(self) -> Any:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _chunks(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return _Limited(self.rfile, length) if length else None

    def _read_all(self) -> bytes:
        body = self._body()
        if body is None:
            return b""
        if isinstance(body, _Limited):
            return body.read()
        return b"".join(body)

    def _connection(self) -> http.client.HTTPConnection:
        if self._upstream is None:
            self._upstream = http.client.HTTPConnection(
                "127.0.0.1", self.server.config.upstream_port, timeout=300
            )
        return self._upstream

    def _forward(self, body: Any) -> int:
        # Repeated headers (docker sends one Accept per manifest type) are
        # joined, as HTTP allows; a plain dict would keep only the last one.
        headers = {
            name: ", ".join(self.headers.get_all(name) or [])
            for name in dict.fromkeys(self.headers.keys())
            if name.lower() not in _HOP_BY_HOP
        }
        if isinstance(body, bytes):
            headers["Content-Length"] = str(len(body))
        conn = self._connection()
        try:
            chunked = not isinstance(body, (bytes, _Limited, type(None)))
            conn.request(self.command, self.path, body=body, headers=headers,
                         encode_chunked=chunked)  # fmt: skip
            answer = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._upstream = None
            self._refuse(Refusal(502, "UNKNOWN", f"registry unreachable behind the gate: {exc}"))
            return 502
        self._pushed_digest = answer.getheader("Docker-Content-Digest")
        self._relay(answer)
        return answer.status

    def _relay(self, answer: http.client.HTTPResponse) -> None:
        self.send_response_only(answer.status, answer.reason)
        chunked = answer.getheader("Content-Length") is None and self.command != "HEAD" and (
            answer.status >= 200 and answer.status not in (204, 304)
        )
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            block = answer.read(_BLOCK)
            if not block:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if answer.will_close:
            self._upstream = None


class GateServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self, address: tuple[str, int], config: GateConfig, key: bytes,
        tls: ssl.SSLContext | None,
    ) -> None:  # fmt: skip
        self.config = config
        self.key = key
        self.tls = tls
        super().__init__(address, GateHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake runs in the request's thread (on first read), so a
            # client that never finishes it cannot stall the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        kind, error = sys.exc_info()[:2]
        if kind is not None and issubclass(kind, (ssl.SSLError, ConnectionError)):
            return  # a client that distrusts our certificate, or hung up
        print(f"gate: {kind.__name__ if kind else 'error'}: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ecr_tasks.standin.gate")
    parser.add_argument("--listen", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--port-file", type=Path, help="where to write the bound port")
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--api-port", type=int, help="the API emulator; without it, forward only")
    parser.add_argument("--account", default="123456789012")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--key", help="PEM private key for --cert")
    args = parser.parse_args(argv)

    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    config = GateConfig(args.upstream_port, args.api_port, args.account, args.region)
    key = key_from_env() if args.api_port is not None else b""
    try:
        server = GateServer((args.listen, args.port), config, key, tls)
    except OSError as exc:
        print(f"gate: cannot listen on {args.listen}:{args.port}: {exc.strerror}", file=sys.stderr)
        sys.exit(1)
    if args.port_file:
        write_port(args.port_file, server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
