"""registry_api against a small HTTP server of the test's own: each answer a
registry can give to the digest question, and the one line each ends in."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecr_tasks.errors import AuthRejected, EngineError
from ecr_tasks.registry_api import manifest_digest, scheme
from tests.conftest import serving

DIGEST = "sha256:" + "ab" * 32
PASSWORD = "registry-password-that-must-not-leak"
# The repository name picks the answer; "ok" answers with the digest.
STATUS = {"ok": 200, "missing": 404, "denied": 401, "forbidden": 403, "broken": 500}


class _Registry(BaseHTTPRequestHandler):
    seen_auth: list[str] = []  # noqa: RUF012 - filled by the server thread, read by the test

    def do_HEAD(self) -> None:
        self.seen_auth.append(self.headers.get("Authorization", ""))
        repo = self.path.split("/")[2]
        self.send_response(STATUS[repo])
        if repo == "ok":
            self.send_header("Docker-Content-Digest", DIGEST)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # no access log in the test output


@pytest.fixture
def registry() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Registry)) as port:
        yield f"127.0.0.1:{port}"


def test_a_tag_answers_with_its_digest_to_basic_credentials(registry: str) -> None:
    _Registry.seen_auth.clear()
    assert manifest_digest(registry, "ok", "v1", "AWS", PASSWORD) == DIGEST
    expected = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
    assert _Registry.seen_auth == [f"Basic {expected}"]


def test_a_missing_tag_is_none(registry: str) -> None:
    assert manifest_digest(registry, "missing", "v1", "AWS", PASSWORD) is None


@pytest.mark.parametrize("repo", ["denied", "forbidden"])
def test_rejected_credentials_raise_auth_rejected(registry: str, repo: str) -> None:
    with pytest.raises(AuthRejected, match=rf"registry {registry} rejected the credentials"):
        manifest_digest(registry, repo, "v1", "AWS", PASSWORD)


def test_another_http_error_names_the_code_and_the_reference(registry: str) -> None:
    with pytest.raises(EngineError) as caught:
        manifest_digest(registry, "broken", "v1", "AWS", PASSWORD)
    assert str(caught.value) == f"registry {registry} answered HTTP 500 for broken:v1"


def test_an_unreachable_registry_ends_in_one_line_without_the_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and closed again before the call
    with pytest.raises(EngineError) as caught:
        manifest_digest(f"127.0.0.1:{port}", "ok", "v1", "AWS", PASSWORD, timeout=5)
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
