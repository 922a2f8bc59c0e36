"""registry_api against a small HTTP server of the test's own: each answer a
registry can give to the digest question, and the one line each ends in."""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecr_tasks.cache import Token
from ecr_tasks.errors import AuthRejected, EngineError
from ecr_tasks.registry_api import RedirectHandler, index_entries, manifest, manifest_digest, scheme
from tests.conftest import serving

DIGEST = "sha256:" + "ab" * 32
PASSWORD = "registry-password-that-must-not-leak"
BASIC = "Basic " + base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
TOKEN = Token("registry", "AWS", PASSWORD, 0.0, 0.0)
INDEX = {"manifests": [{"platform": {"os": "linux", "architecture": "arm64"}, "digest": DIGEST}]}
# The repository name picks the answer; "ok" answers with the digest.
STATUS = {"ok": 200, "missing": 404, "denied": 401, "forbidden": 403, "broken": 500}


class _Registry(BaseHTTPRequestHandler):
    seen_auth: list[str] = []  # noqa: RUF012 - filled by the server thread, read by the test
    elsewhere = ""  # base URL of another server, where "elsewhere" redirects

    def do_HEAD(self) -> None:
        self.seen_auth.append(self.headers.get("Authorization", ""))
        repo = self.path.split("/")[2]
        # Redirects as ECR gives them, either to itself or (as to S3) to another host.
        if repo in ("moved", "elsewhere"):
            path = self.path.replace(f"/{repo}/", "/ok/", 1)
            self.send_response(307)
            self.send_header("Location", path if repo == "moved" else self.elsewhere + path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(STATUS[repo])
        if repo == "ok":
            self.send_header("Docker-Content-Digest", DIGEST)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, format: str, *args: object) -> None:
        pass  # no access log in the test output


class _OtherHost(BaseHTTPRequestHandler):
    """Where a registry redirects to: records what it was sent, answers as a registry."""

    seen: list[tuple[str, dict[str, str]]] = []  # noqa: RUF012 - (method, headers) per request

    def do_HEAD(self) -> None:
        self.seen.append((self.command, dict(self.headers.items())))
        body = json.dumps(INDEX).encode() if self.command == "GET" else b""
        self.send_response(200)
        self.send_header("Docker-Content-Digest", DIGEST)
        self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[str]:
    _Registry.seen_auth.clear()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Registry)) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def other_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A second server (another port, so another host:port) the registry redirects to."""
    _OtherHost.seen.clear()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _OtherHost)) as port:
        monkeypatch.setattr(_Registry, "elsewhere", f"http://127.0.0.1:{port}")
        yield f"127.0.0.1:{port}"


def test_a_tag_answers_with_its_digest_to_basic_credentials(registry: str) -> None:
    _Registry.seen_auth.clear()
    assert manifest_digest(registry, "ok", "v1", TOKEN) == DIGEST
    expected = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
    assert _Registry.seen_auth == [f"Basic {expected}"]


def test_a_missing_tag_is_none(registry: str) -> None:
    assert manifest_digest(registry, "missing", "v1", TOKEN) is None


@pytest.mark.parametrize("repo", ["denied", "forbidden"])
def test_rejected_credentials_raise_auth_rejected(registry: str, repo: str) -> None:
    with pytest.raises(AuthRejected, match=rf"registry {registry} rejected the credentials"):
        manifest_digest(registry, repo, "v1", TOKEN)


def test_another_http_error_names_the_code_and_the_reference(registry: str) -> None:
    with pytest.raises(EngineError) as caught:
        manifest_digest(registry, "broken", "v1", TOKEN)
    assert str(caught.value) == f"registry {registry} answered HTTP 500 for broken:v1"


def test_an_unreachable_registry_ends_in_one_line_without_the_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and closed again before the call
    with pytest.raises(EngineError) as caught:
        manifest_digest(f"127.0.0.1:{port}", "ok", "v1", TOKEN, timeout=5)
    message = str(caught.value)
    assert message.startswith(f"registry for 127.0.0.1:{port}/ok:v1 is unreachable: ")
    assert "\n" not in message
    assert PASSWORD not in message


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost:5000", "http"),
        ("127.0.0.1:5000", "http"),
        ("::1", "http"),
        ("10.0.0.5:5000", "https"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "https"),
    ],
)
def test_loopback_registries_use_plain_http(host: str, expected: str) -> None:
    assert scheme(host) == expected


def test_a_redirect_to_another_host_is_followed_without_the_password(
    registry: str, other_host: str
) -> None:
    found = manifest(registry, "elsewhere", "v1", TOKEN)
    assert found is not None and found.digest == DIGEST and found.is_index
    assert index_entries(registry, "elsewhere", "v1", TOKEN) == [("linux/arm64", DIGEST)]
    assert _Registry.seen_auth == [BASIC, BASIC]
    for _, headers in _OtherHost.seen:
        assert "authorization" not in {name.lower() for name in headers}, headers
        assert PASSWORD not in repr(headers)
    # A HEAD stays a HEAD (urllib before 3.13 turns it into a GET).
    assert [method for method, _ in _OtherHost.seen] == ["HEAD", "GET"]


def test_a_redirect_within_the_registry_keeps_the_password(registry: str) -> None:
    assert manifest_digest(registry, "moved", "v1", TOKEN) == DIGEST
    # The redirect, then the manifest it points at: both with the credentials.
    assert _Registry.seen_auth == [BASIC, BASIC]


def _redirect(handler: RedirectHandler, old: str, new: str) -> urllib.request.Request | None:
    request = urllib.request.Request(  # noqa: S310 - never opened
        old, method="HEAD", headers={"Authorization": BASIC}
    )
    headers = http.client.HTTPMessage()
    return handler.redirect_request(request, io.BytesIO(), 307, "Temporary Redirect", headers, new)


def test_a_redirect_from_https_to_http_is_refused_in_one_line() -> None:
    handler = RedirectHandler("reg.example.com")
    with pytest.raises(EngineError) as caught:
        _redirect(
            handler,
            "https://reg.example.com/v2/app/manifests/v1",
            "http://bucket.example.net/blob?X-Amz-Signature=secret-signature",
        )
    message = str(caught.value)
    assert message == (
        "registry reg.example.com redirected from https to plain http"
        " (bucket.example.net); not followed"
    )
    for leak in (PASSWORD, BASIC, "secret-signature", "?"):
        assert leak not in message


@pytest.mark.parametrize(
    ("new", "kept"),
    [
        ("https://REG.example.com/v2/app/blobs/x", True),  # host names ignore case
        ("https://reg.example.com:8443/v2/app/blobs/x", False),  # another port
        ("https://bucket.example.net/blob", False),  # another host
    ],
)
def test_the_password_follows_only_to_the_same_scheme_and_host_and_port(
    new: str, kept: bool
) -> None:
    redirected = _redirect(RedirectHandler("reg.example.com"),
                           "https://reg.example.com/v2/app/manifests/v1", new)  # fmt: skip
    assert redirected is not None and redirected.get_method() == "HEAD"
    assert redirected.has_header("Authorization") is kept


def test_a_redirect_from_http_up_to_https_is_followed_without_the_password() -> None:
    redirected = _redirect(RedirectHandler("localhost:5000"),
                           "http://localhost:5000/v2/app/manifests/v1",
                           "https://localhost:5000/v2/app/manifests/v1")  # fmt: skip
    assert redirected is not None and not redirected.has_header("Authorization")
