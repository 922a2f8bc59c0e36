"""A fault-injecting HTTP proxy in front of the API emulator.

Clients point ``AWS_ENDPOINT_URL`` at the proxy. It forwards every request to
the emulator unchanged, counts requests by operation (``X-Amz-Target`` for
JSON APIs such as ECR, the ``Action`` field for query APIs such as STS), and on
request answers instead of the emulator with a throttling error or a 500, for
the next N matching requests or with a probability. It runs in threads of the
calling process and ends with ``stop()``.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from .errors import StandinError

UPSTREAM_TIMEOUT = 30.0
IDLE_TIMEOUT = 30.0  # an idle keep-alive connection frees its thread after this
# Hop-by-hop headers belong to one connection and must not be forwarded.
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade",
}  # fmt: skip


@dataclass
class Fault:
    """One rule: answer ``status``/``code`` instead of forwarding."""

    status: int
    code: str
    message: str
    remaining: int | None  # None: no limit
    probability: float
    operation: str | None  # None: every operation

    def matches(self, operation: str) -> bool:
        if self.operation is None:
            return True
        # A bare name matches the full target: "GetAuthorizationToken" matches
        # "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken".
        return operation == self.operation or operation.endswith("." + self.operation)


class FaultProxy:
    """Reverse proxy on 127.0.0.1 with switchable faults and request counts."""

    def __init__(self, upstream: str, seed: int | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise StandinError(
                f"fault proxy needs an http://host:port upstream, not {upstream!r}", "faults"
            )
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._counts: Counter[str] = Counter()
        # (operation, access key id, region) of each signed request, from
        # its SigV4 credential scope: which principal asked, and where.
        self._signed: list[tuple[str, str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise StandinError("the fault proxy has not been started", "faults")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="ecr-standin-faults", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- switching faults -------------------------------------------------

    def throttle(
        self, count: int | None = None, *, probability: float = 1.0, operation: str | None = None
    ) -> None:
        """Answer HTTP 400 ThrottlingException ("Rate exceeded").

        ``count``: for the next N matching requests (None: until ``clear()``);
        ``probability``: the chance that a matching request is hit;
        ``operation``: only this one, e.g. ``"GetAuthorizationToken"``.
        """
        self._add(Fault(400, "ThrottlingException", "Rate exceeded", count, probability, operation))

    def fail(
        self,
        count: int | None = None,
        *,
        status: int = 500,
        probability: float = 1.0,
        operation: str | None = None,
        code: str = "ServerException",
        message: str = "Injected server error",
    ) -> None:
        """Answer an error (``status`` with error ``code``); other arguments as ``throttle``.

        The default is a server error; ``status=400, code="AccessDeniedException"``
        plays an IAM policy that refuses the call.
        """
        self._add(Fault(status, code, message, count, probability, operation))

    def clear(self) -> None:
        """Forward everything again."""
        with self._lock:
            self._faults.clear()

    def _add(self, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise StandinError("a fault's count must be at least 1", "faults")
        if not 0.0 <= fault.probability <= 1.0:
            raise StandinError("a fault's probability must be between 0 and 1", "faults")
        with self._lock:
            self._faults.append(fault)

    # -- counting -----------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        """Requests seen (faulted or not) per operation, e.g.
        ``{"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken": 2}``."""
        with self._lock:
            return dict(self._counts)

    def count(self, operation: str) -> int:
        """Requests seen for one operation, by full target or bare name."""
        probe = Fault(0, "", "", None, 1.0, operation)
        return sum(n for op, n in self.counts.items() if probe.matches(op))

    def signers(self, operation: str) -> list[tuple[str, str]]:
        """(access key id, region) of each request for ``operation``, in order."""
        probe = Fault(0, "", "", None, 1.0, operation)
        with self._lock:
            return [(key, region) for op, key, region in self._signed if probe.matches(op)]

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self._signed.clear()

    # -- used by the request handler ---------------------------------------

    def _record(self, operation: str, authorization: str = "") -> Fault | None:
        """Count one request and pick the fault it meets, if any."""
        scope = re.search(r"Credential=([^/,\s]+)/[0-9]+/([^/]+)/", authorization)
        with self._lock:
            self._counts[operation] += 1
            if scope:
                self._signed.append((operation, scope[1], scope[2]))
            for fault in self._faults:
                if not fault.matches(operation) or self._random.random() >= fault.probability:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault
        return None


def _operation(method: str, headers: Message[str, str], path: str, body: bytes) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return target
    fields = parse_qs(urlsplit(path).query)
    if "form-urlencoded" in headers.get("Content-Type", ""):
        fields.update(parse_qs(body.decode(errors="replace")))
    if "Action" in fields:
        return fields["Action"][0]
    return f"{method} {urlsplit(path).path}"


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # botocore keeps connections alive
        timeout = IDLE_TIMEOUT

        def log_message(self, format: str, *args: object) -> None:
            pass  # a test's output is no place for an access log

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            operation = _operation(self.command, self.headers, self.path, body)
            fault = proxy._record(operation, self.headers.get("Authorization", ""))
            if fault is not None:
                self._send_fault(fault)
            else:
                self._forward(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        def _forward(self, body: bytes) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn = http.client.HTTPConnection(
                proxy.upstream_host, proxy.upstream_port, timeout=UPSTREAM_TIMEOUT
            )
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                reply_headers = [
                    (k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP
                ]
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                # Upstream down: say so the way a gateway does, which botocore retries.
                message = f"upstream unreachable: {exc}".encode()
                self._send(502, [("Content-Type", "text/plain")], message)
                return
            finally:
                conn.close()
            self._send(status, reply_headers, payload)

        def _send_fault(self, fault: Fault) -> None:
            if self.headers.get("X-Amz-Target"):
                content_type = "application/x-amz-json-1.1"
                payload = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            else:  # query protocol (STS): an XML error document
                content_type = "text/xml"
                payload = (
                    "<ErrorResponse><Error><Type>Sender</Type>"
                    f"<Code>{fault.code}</Code><Message>{fault.message}</Message>"
                    "</Error><RequestId>ecr-standin-fault</RequestId></ErrorResponse>"
                ).encode()
            headers = [("Content-Type", content_type), ("x-amzn-ErrorType", fault.code)]
            self._send(fault.status, headers, payload)

        def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response_only(status)
            for key, value in headers:
                if key.lower() not in ("content-length", "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    return Handler
