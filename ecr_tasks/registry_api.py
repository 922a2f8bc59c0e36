"""Asking a registry itself: which digest a tag resolves to right now.

A HEAD of ``/v2/<repo>/manifests/<reference>`` answers with the
``Docker-Content-Digest`` header and the manifest's type; a GET of an
image index lists the platforms it holds. ECR and the distribution registry both
accept the login token as HTTP basic credentials there.

ECR answers some requests with a redirect to S3. Like docker, the password
goes only to the host that was asked: a redirect elsewhere is followed
without it, and one from https down to plain http is not followed at all.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, TYPE_CHECKING, NamedTuple

from ecr_tasks.errors import AuthRejected, EngineError, redact, secret_forms, tls_problem

if TYPE_CHECKING:
    from ecr_tasks.cache import Token

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
_MANIFEST_TYPES = ", ".join(
    (
        *INDEX_TYPES,
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


def scheme(host: str) -> str:
    """``http`` for loopback registries, as Docker itself treats them; else ``https``."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        return "http" if name == "localhost" or ipaddress.ip_address(name).is_loopback else "https"
    except ValueError:
        return "https"


class Manifest(NamedTuple):
    """What a tag resolves to: its digest, and whether it is a multi-platform
    image index (or Docker manifest list)."""

    digest: str | None
    is_index: bool


def manifest(host: str, repo: str, ref: str, token: Token, timeout: float = 15) -> Manifest | None:
    """What ``repo:ref`` resolves to (one HEAD request), or None if nothing."""
    answer = _ask("HEAD", host, repo, ref, token, timeout)
    if answer is None:
        return None
    digest, media_type, _ = answer
    return Manifest(digest, media_type.split(";", 1)[0].strip() in INDEX_TYPES)


def manifest_digest(
    host: str, repo: str, ref: str, token: Token, timeout: float = 15
) -> str | None:
    """The digest ``repo:ref`` resolves to, or None if the registry has no such tag."""
    found = manifest(host, repo, ref, token, timeout)
    return found.digest if found else None


def index_entries(
    host: str, repo: str, ref: str, token: Token, timeout: float = 15
) -> list[tuple[str, object]]:
    """``(os/architecture[/variant], digest as given)`` of each image in the index
    ``repo:ref`` (one GET); [] if none."""
    answer = _ask("GET", host, repo, ref, token, timeout)
    try:
        entries = json.loads(answer[2]).get("manifests") or [] if answer else []
    except (ValueError, AttributeError):
        return []
    found = []
    for entry in entries:
        platform = (entry.get("platform") if isinstance(entry, dict) else None) or {}
        parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
        name = "/".join(str(p) for p in parts if p)
        # Attestations and other entries with no platform are not images to lose.
        if name and name != "unknown/unknown":
            found.append((name, entry.get("digest")))
    return found


class RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects as urllib does, but never https to http, nor the password elsewhere."""

    def __init__(self, registry: str) -> None:
        super().__init__()
        self.registry = registry  # named in the refusal: the host the user asked

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if old.scheme.lower() == "https" and new.scheme.lower() != "https":
            fp.close()
            # The target's host only: its query may hold a presigned signature.
            raise EngineError(
                f"registry {self.registry} redirected from https to plain http"
                f" ({new.hostname or '?'}); not followed"
            )
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        assert redirected is not None  # urllib's own raises HTTPError instead
        if _origin(old) != _origin(new):
            redirected.remove_header("Authorization")
        # Before Python 3.13 a redirected HEAD turns into a GET, which could
        # fetch a whole body where only the headers were wanted.
        if req.get_method() == "HEAD":
            redirected.method = "HEAD"
        return redirected


def _origin(url: urllib.parse.SplitResult) -> tuple[str, str]:
    """Scheme and host:port, as written (no default port filled in), lower-cased."""
    return url.scheme.lower(), url.netloc.rpartition("@")[2].lower()


def _ask(
    method: str, host: str, repo: str, ref: str, token: Token, timeout: float
) -> tuple[str | None, str, bytes] | None:
    url = f"{scheme(host)}://{host}/v2/{repo}/manifests/{ref}"
    basic = base64.b64encode(f"{token.user}:{token.password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is http(s), set above
        url, method=method, headers={"Accept": _MANIFEST_TYPES, "Authorization": f"Basic {basic}"}
    )
    opener = urllib.request.build_opener(RedirectHandler(host))
    try:
        with opener.open(request, timeout=timeout) as answer:
            headers = answer.headers
            body = answer.read(4 * 1024 * 1024) if method == "GET" else b""
            return headers.get("Docker-Content-Digest"), headers.get("Content-Type", ""), body
    except urllib.error.HTTPError as error:
        error.close()  # it holds the open response, left to the collector otherwise
        if error.code == 404:
            return None
        if error.code in (401, 403):
            raise AuthRejected(
                f"registry {host} rejected the credentials (HTTP {error.code})"
            ) from None
        raise EngineError(f"registry {host} answered HTTP {error.code} for {repo}:{ref}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = redact(
            str(getattr(error, "reason", error)), secret_forms(token.user, token.password)
        )
        problem = tls_problem(reason)
        if problem is not None:
            raise EngineError(
                f"TLS check of registry {host} failed: {problem}; if it signs with its own CA,"
                " point SSL_CERT_FILE at a bundle that holds it"
            ) from None
        # Worded as the engine's own failure is, naming the image, so that a
        # registry that is down reads the same before and after a push.
        raise EngineError(f"registry for {host}/{repo}:{ref} is unreachable: {reason}") from None
