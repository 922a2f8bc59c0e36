"""Asking a registry itself: which digest a tag resolves to right now.

A HEAD of ``/v2/<repo>/manifests/<reference>`` answers with the
``Docker-Content-Digest`` header. ECR and the distribution registry both
accept the login token as HTTP basic credentials there.
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.error
import urllib.request

from ecr_tasks.errors import AuthRejected, EngineError, redact, secret_forms, tls_problem

_MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


def scheme(host: str) -> str:
    """``http`` for loopback registries, as Docker itself treats them; else ``https``."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return "http"
    try:
        return "http" if ipaddress.ip_address(name).is_loopback else "https"
    except ValueError:
        return "https"


def manifest_digest(
    host: str, repo: str, reference: str, user: str, password: str, timeout: float = 15
) -> str | None:
    """The digest ``repo:reference`` resolves to, or None if the registry has no such tag."""
    url = f"{scheme(host)}://{host}/v2/{repo}/manifests/{reference}"
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is http(s), set above
        url,
        method="HEAD",
        headers={
            "Accept": _MANIFEST_TYPES,
            "Authorization": f"Basic {basic}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            digest: str | None = answer.headers.get("Docker-Content-Digest")
            return digest
    except urllib.error.HTTPError as error:
        error.close()  # it holds the open response, left to the collector otherwise
        if error.code == 404:
            return None
        if error.code in (401, 403):
            raise AuthRejected(
                f"registry {host} rejected the credentials (HTTP {error.code})"
            ) from None
        raise EngineError(
            f"registry {host} answered HTTP {error.code} for {repo}:{reference}"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = redact(str(getattr(error, "reason", error)), secret_forms(user, password))
        problem = tls_problem(reason)
        if problem is not None:
            raise EngineError(
                f"TLS check of registry {host} failed: {problem}; if it signs with its own CA,"
                " point SSL_CERT_FILE at a bundle that holds it"
            ) from None
        raise EngineError(f"registry {host} is unreachable: {reason}") from None
