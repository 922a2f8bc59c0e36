"""Registry tokens by host: the cache first, the API only when it must.

The credential helper answers an engine that names a registry host, and it
runs once per pull, so the path where the cache answers imports neither
invoke nor botocore: this module needs only the cache, the host parser and
the local AWS configuration. A miss hands over to :class:`~ecr_tasks.login.Registries`,
the same code ``inv login`` uses, so both share one cache, one key scheme
and one API call for a crowd of concurrent callers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ecr_tasks import awsconfig, naming
from ecr_tasks.cache import TokenCache, cache_dir, cache_key

TYPE_CHECKING = False  # typing itself costs the helper time on every pull

if TYPE_CHECKING:
    from ecr_tasks.aws import Token


def entry_key(
    region: str,
    account: str | None,
    public: bool,
    principal: str,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """The cache entry of a registry's token for one principal.

    ``account`` None is the caller's own registry (a login that named no
    account); the API endpoint override is part of the key, so a stand-in's
    tokens never answer for AWS.
    """
    service = "ECR_PUBLIC" if public else "ECR"
    endpoint = environ.get(f"AWS_ENDPOINT_URL_{service}") or environ.get("AWS_ENDPOINT_URL") or ""
    registry_id = "public" if public else (account or "caller")
    return cache_key(registry_id, region, principal, endpoint)


def cached(
    host: naming.RegistryHost,
    cache: TokenCache,
    principal: str,
    environ: Mapping[str, str] = os.environ,
) -> Token | None:
    """A fresh cached token that opens ``host``'s registry, if there is one.

    A login that named no account keeps its token under the caller's own
    entry; that token opens this registry too when it is for the same account.
    """
    token = cache.get(entry_key(host.region, host.account, host.public, principal, environ))
    if token is None and host.account is not None:
        own = cache.get(entry_key(host.region, None, False, principal, environ), quiet=True)
        if own is not None and own.account == host.account:
            token = own
    return token


def token_for(host: naming.RegistryHost, environ: Mapping[str, str] = os.environ) -> Token:
    """``host``'s registry token: cached when fresh, else fetched (and cached).

    The profile is the environment's (AWS_PROFILE), as for any AWS tool the
    engine starts. Errors are :class:`~ecr_tasks.errors.EcrTasksError` lines.
    """
    principal = awsconfig.principal_hint(None, environ)
    token = cached(host, TokenCache(cache_dir(environ)), principal, environ)
    if token is not None:
        return token
    # Only now the rest of the package (and, inside it, botocore).
    from ecr_tasks.login import Registries, Target
    from ecr_tasks.settings import Settings

    settings = Settings(
        regions=[host.region],
        fips=host.fips,
        dualstack=host.dualstack,
        public_registry=host.host if host.public else naming.PUBLIC_REGISTRY,
    )
    target = Target(host.region, account=host.account, public=host.public, host=host.host)
    return Registries(settings, environ).tokens([target])[target]
