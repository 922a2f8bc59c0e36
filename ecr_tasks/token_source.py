"""Registry tokens: the cache first, then one fetch per crowd, then the API.

The tasks and the credential helper both get their tokens here, so they
share one cache, one key scheme and one API call for a crowd of concurrent
callers. The helper's cache hit is :func:`ecr_tasks.cache.cached` and never
comes here; :mod:`ecr_tasks.aws` (and botocore with it) is loaded only when
a token has to be fetched, which is where its 0.3 s go.

:meth:`TokenSource.retrying` is the one place that retries with a fresh
token when a registry turns down a cached one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from ecr_tasks import awsconfig, naming
from ecr_tasks.cache import NullCache, Token, TokenCache, cache_dir, entry_key
from ecr_tasks.errors import AuthRejected, EcrTasksError

if TYPE_CHECKING:  # botocore and the settings' dataclass, only where they are used
    from ecr_tasks.aws import Aws
    from ecr_tasks.settings import Settings

T = TypeVar("T")


class Target(NamedTuple):
    """One registry to get a token for.

    ``host`` is set when the user named the registry by its host (a full
    image reference, ``--registry``): that exact name is used, not one
    built from the settings.
    """

    region: str
    account: str | None = None
    public: bool = False
    host: str | None = None


#: Accounts learnt in this process from a token or STS, by (profile, region),
#: so that a chain of tasks asks AWS for the account at most once.
_known_accounts: dict[tuple[str | None, str], str] = {}


class TokenSource:
    """Tokens for the registries one task call (or one helper call) works with."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        self.cache: TokenCache | NullCache = (
            TokenCache(cache_dir(self.environ)) if settings.cache else NullCache()
        )
        self.principal = awsconfig.principal_hint(settings.profile, self.environ)
        self._aws: Aws | None = None
        self._fetched: set[Target] = set()  # targets whose token came from AWS just now
        # Tokens this call already holds: with the cache off, a push that asks
        # the registry before and after still makes one API call.
        self._held: dict[Target, Token] = {}

    @property
    def aws(self) -> Aws:
        if self._aws is None:
            from ecr_tasks.aws import Aws  # botocore: only when AWS must be asked

            self._aws = Aws(self.settings.profile)
        return self._aws

    def key(self, target: Target) -> str:
        """The cache entry that holds ``target``'s token."""
        return entry_key(target.region, target.account, target.public, self.principal, self.environ)

    # -- accounts -----------------------------------------------------------

    def local_account(self, region: str) -> str | None:
        """The caller's account as far as settings, this process and the cache tell."""
        account = self.settings.account or _known_accounts.get((self.settings.profile, region))
        if account is None:
            cached = self.cache.get(self.key(Target(region)))
            account = cached.account if cached else None
        return account

    def account(self, region: str) -> str:
        """The caller's account: configured, learnt, cached, or asked of STS."""
        account = self.local_account(region) or self.aws.caller_account(region)
        _known_accounts[(self.settings.profile, region)] = account
        return account

    # -- tokens -------------------------------------------------------------

    def token(self, target: Target, refresh: bool = False) -> Token:
        found = self.tokens([target], refresh).get(target)
        if found is None:
            raise EcrTasksError(f"no token for account {target.account} in {target.region}")
        return found

    def tokens(self, targets: list[Target], refresh: bool = False) -> dict[Target, Token]:
        """A token for every target: cached where fresh, else one API call per region."""
        found: dict[Target, Token] = {}
        missing: dict[tuple[str, bool], list[Target]] = {}
        for target in targets:
            token = None if refresh else self._held.get(target) or self.cache.get(self.key(target))
            if token is not None:
                found[target] = token
            else:
                missing.setdefault((target.region, target.public), []).append(target)
        groups = list(missing.items())

        def fetch(group: tuple[tuple[str, bool], list[Target]]) -> dict[Target, Token]:
            return self._fetch_once(group[0], group[1], recheck=not refresh)

        if len(groups) == 1:
            found.update(fetch(groups[0]))
        elif groups:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(8, len(groups))) as pool:
                for fetched in pool.map(fetch, groups):
                    found.update(fetched)
        self._held.update(found)
        for target, token in found.items():
            # Only a token for the caller's own registry tells the default
            # account; one asked for with --account says nothing about it.
            if token.account and not target.public and target.account is None:
                _known_accounts[(self.settings.profile, target.region)] = token.account
        return found

    def forget(self, target: Target) -> None:
        self._held.pop(target, None)
        self.cache.drop(self.key(target))

    def retrying(self, target: Target, attempt: Callable[[Token], T]) -> T:
        """``attempt(token)``; if the registry turns the token down, once more
        with a new one. A token fresh from AWS is not retried: a second
        would fare no better."""
        try:
            return attempt(self.token(target))
        except AuthRejected:
            if target in self._fetched:
                raise
            self.forget(target)
            return attempt(self.token(target, refresh=True))

    def _fetch_once(
        self, group: tuple[str, bool], targets: list[Target], recheck: bool
    ) -> dict[Target, Token]:
        """Fetch by one process at a time per region and principal.

        Whoever waited for the lock looks in the cache again first: the
        process that held it has most likely just put the token there.
        """
        region, public = group
        with self.cache.fetch_lock(self.key(Target(region, public=public))):
            found = {}
            if recheck:
                for target in targets:
                    token = self.cache.get(self.key(target), quiet=True)
                    if token is not None:
                        found[target] = token
            rest = [t for t in targets if t not in found]
            if rest:
                found.update(self._fetch(region, public, rest))
            return found

    def _fetch(self, region: str, public: bool, targets: list[Target]) -> dict[Target, Token]:
        if public:
            fetched = dict.fromkeys(targets, self.aws.public_token(self.settings.public_registry))
        else:
            accounts = [t.account for t in targets if t.account]
            tokens = self.aws.registry_tokens(region, accounts)
            if accounts:
                by_account = {t.account: t for t in tokens}
                fetched = {t: by_account[t.account] for t in targets if t.account in by_account}
            else:
                fetched = dict.fromkeys(targets, tokens[0])
        for target, token in fetched.items():
            self.cache.put(self.key(target), token)
        self._fetched.update(fetched)
        return fetched


def source_for(host: str, environ: Mapping[str, str] = os.environ) -> tuple[TokenSource, Target]:
    """The token source and target of the registry ``host`` names, as the
    credential helper sees it (the environment's principal, the cache on).

    A host that is not one of ECR's raises :class:`~ecr_tasks.errors.NotEcrHost`.
    """
    from ecr_tasks.settings import Settings

    found = naming.parse_registry_host(host)
    settings = Settings(
        regions=[found.region],
        fips=found.fips,
        dualstack=found.dualstack,
        public_registry=found.host if found.public else naming.PUBLIC_REGISTRY,
    )
    target = Target(found.region, account=found.account, public=found.public, host=found.host)
    return TokenSource(settings, environ), target


def token_for(host: str, environ: Mapping[str, str] = os.environ) -> Token:
    """``host``'s registry token, for callers whose :func:`~ecr_tasks.cache.cached`
    found none: the registry's own fresh entry if another process has just
    written it, else fetched (and cached)."""
    tokens, target = source_for(host, environ)
    return tokens.token(target)
