"""Getting a registry token (from the cache or the API) and logging in.

This is where the pieces meet: settings say which registries, the cache is
asked first, the API is called once per region for whatever the cache
missed, and the engine receives each password on its stdin.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_tasks import awsconfig, cred_helpers, engine, engine_auth, naming, token_source
from ecr_tasks.cache import cache_dir, open_cache
from ecr_tasks.errors import AuthRejected, BadValue, ConfigError, EcrTasksError, EngineError
from ecr_tasks.settings import Settings

if TYPE_CHECKING:
    from ecr_tasks.aws import Aws, Token

#: Accounts learnt in this process from a token's proxyEndpoint or STS, so
#: that ``inv login push`` asks AWS for the account at most once.
_known_accounts: dict[tuple[str | None, str], str] = {}
#: Registries whose login ``inv --dry`` has shown in this process, so that
#: ``inv --dry login push`` shows it once, as the real run would do it once.
_shown_logins: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Target:
    """One registry to log in to.

    ``host`` is set when the user named the registry by its host (a full
    image reference, ``--registry``): that exact name is used, not one built
    from the settings.
    """

    region: str
    account: str | None = None
    public: bool = False
    host: str | None = None


@dataclass
class Outcome:
    target: Target
    host: str
    error: EcrTasksError | None = None


class Registries:
    """Tokens and logins for the registries that one task call works with."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        self.cache = open_cache(settings.cache, self.environ)
        self._aws: Aws | None = None
        self._principal: str | None = None
        self._fetched: set[Target] = set()  # targets whose token came from AWS just now
        # Tokens this task call already holds: with the cache off, a push
        # that asks the registry before and after still makes one API call.
        self._held: dict[Target, Token] = {}

    @property
    def aws(self) -> Aws:
        if self._aws is None:
            from ecr_tasks.aws import Aws

            self._aws = Aws(self.settings.profile)
        return self._aws

    # -- naming -------------------------------------------------------------

    def host(self, target: Target, token: Token | None = None) -> str | None:
        """The host to log in to and to name images with, if it is known."""
        if target.host:
            return target.host
        if target.public:
            return self.settings.public_registry
        if self.settings.registry:
            return self.settings.registry
        account = (
            target.account
            or (token.account if token else None)
            or self.local_account(target.region)
        )
        if account is None:
            return None
        return naming.registry_host(
            account, target.region, fips=self.settings.fips, dualstack=self.settings.dualstack
        )

    def known_account(self, region: str) -> str | None:
        return self.settings.account or _known_accounts.get((self.settings.profile, region))

    def local_account(self, region: str) -> str | None:
        """The registry's account as far as settings, this process and the cache tell."""
        account = self.known_account(region)
        if account is None:
            cached = self.cache.get(self.cache_key(Target(region)))
            account = cached.account if cached else None
        return account

    def account(self, region: str) -> str:
        """The registry's account: configured, learnt, cached, or asked of STS."""
        account = self.local_account(region) or self.aws.caller_account(region)
        _known_accounts[(self.settings.profile, region)] = account
        return account

    def registry(self, region: str, dry: bool = False) -> str:
        """The registry host for single-registry tasks (tag, push, pull, uri).

        With ``dry`` (``inv --dry``) an account only STS could tell shows as
        ``<account>``: a dry run makes no AWS call.
        """
        if self.settings.registry:
            return self.settings.registry
        account = self.local_account(region) if dry else self.account(region)
        host = naming.registry_host(
            account or "0" * 12, region, fips=self.settings.fips, dualstack=self.settings.dualstack
        )
        return host if account else "<account>" + host[12:]

    # -- tokens -------------------------------------------------------------

    def cache_key(self, target: Target) -> str:
        """The token cache entry that holds ``target``'s token."""
        if self._principal is None:
            self._principal = awsconfig.principal_hint(self.settings.profile, self.environ)
        return token_source.entry_key(
            target.region, target.account, target.public, self._principal, self.environ
        )

    def tokens(self, targets: list[Target], refresh: bool = False) -> dict[Target, Token]:
        """A token for every target: cached where fresh, else one API call per region."""
        found: dict[Target, Token] = {}
        missing: dict[tuple[str, bool], list[Target]] = {}
        for target in targets:
            token = None if refresh else self._held.get(target)
            if token is None and not refresh:
                token = self.cache.get(self.cache_key(target))
            if token is not None:
                found[target] = token
            else:
                missing.setdefault((target.region, target.public), []).append(target)
        if missing:
            groups = list(missing.items())
            if len(groups) == 1:
                # Each group is (region and public, targets); mypy cannot spread it with *.
                results = [self._fetch_once(groups[0][0], groups[0][1], recheck=not refresh)]
            else:
                with ThreadPoolExecutor(max_workers=min(8, len(groups))) as pool:
                    results = list(
                        pool.map(
                            lambda g: self._fetch_once(g[0], g[1], recheck=not refresh), groups
                        )
                    )
            for fetched in results:
                found.update(fetched)
        self._held.update(found)
        for target, token in found.items():
            # Only a token for the caller's own registry tells the default
            # account; one asked for with --account says nothing about it.
            if token.account and not target.public and target.account is None:
                _known_accounts[(self.settings.profile, target.region)] = token.account
        return found

    def _fetch_once(
        self, group: tuple[str, bool], targets: list[Target], recheck: bool
    ) -> dict[Target, Token]:
        """``_fetch``, by one process at a time per region and principal.

        Whoever waited for the lock looks in the cache again first: the
        process that held it has most likely just put the token there.
        """
        region, public = group
        with self.cache.fetch_lock(self.cache_key(Target(region, public=public))):
            found: dict[Target, Token] = {}
            if recheck:
                for target in targets:
                    token = self.cache.get(self.cache_key(target), quiet=True)
                    if token is not None:
                        found[target] = token
            rest = [t for t in targets if t not in found]
            if rest:
                found.update(self._fetch(group, rest))
            return found

    def _fetch(self, group: tuple[str, bool], targets: list[Target]) -> dict[Target, Token]:
        region, public = group
        if public:
            token = self.aws.public_token(self.settings.public_registry)
            fetched = dict.fromkeys(targets, token)
        else:
            accounts = [t.account for t in targets if t.account]
            tokens = self.aws.registry_tokens(region, accounts)
            if accounts:
                by_account = {t.account: t for t in tokens}
                fetched = {t: by_account[t.account] for t in targets if t.account in by_account}
            else:
                fetched = dict.fromkeys(targets, tokens[0])
        for target, token in fetched.items():
            self.cache.put(self.cache_key(target), token)
        self._fetched.update(fetched)
        return fetched

    def forget(self, target: Target) -> None:
        self._held.pop(target, None)
        self.cache.drop(self.cache_key(target))

    # -- login --------------------------------------------------------------

    def token_and_host(self, target: Target) -> tuple[str, Token]:
        """``target``'s host and token, the account taken from the token."""
        token = self.tokens([target]).get(target)
        if token is None:
            raise EcrTasksError(f"no token for account {target.account} in {target.region}")
        return self.host(target, token) or self.registry(target.region), token

    def ensure_login(self, c: Any, target: Target) -> str:
        """Make sure the engine can use ``target``; the registry host.

        The token comes from the cache while it is fresh (no API call), and
        it names the account, so no STS call is needed either. The engine
        logs in only when its stored login is not this very token, so a
        task that logs in by itself costs nothing when nothing changed.
        """
        if c.config.run.dry:
            host = self.host(target) or self.registry(target.region, dry=True)
            if (self.settings.engine, host) not in _shown_logins:
                engine.login(c, self.settings.engine, host, "AWS", "", self.cache_dir)
                _shown_logins.add((self.settings.engine, host))
            return host
        host, token = self.token_and_host(target)
        helper = cred_helpers.helper_of(self.auth_file, host)
        if helper == cred_helpers.HELPER:
            return host  # the engine asks our helper, which answers from the same cache
        if self.settings.helper:
            self._use_helper(c, [host])
        elif not engine_auth.holds(
            self.settings.engine, host, token.user, token.password, self.environ
        ):
            self._engine_login(c, target, host, token, fresh=False)
        return host

    def login(self, c: Any, targets: list[Target], refresh: bool = False) -> list[Outcome]:
        """Log the engine in to every target; one outcome per target."""
        if c.config.run.dry:
            # No AWS call and no engine call: show what would run.
            for target in targets:
                host = self.host(target) or f"<account>.dkr.ecr.{target.region}.<suffix>"
                if self.settings.helper:
                    print(f"# credHelpers[{host}] = {cred_helpers.HELPER} in {self.auth_file}")
                else:
                    engine.login(c, self.settings.engine, host, "AWS", "", self.cache_dir)
                _shown_logins.add((self.settings.engine, host))
            return [Outcome(t, self.host(t) or "") for t in targets]
        try:
            tokens = self.tokens(targets, refresh)
        except EcrTasksError:
            if len(targets) == 1:
                raise
            tokens = self._tokens_one_by_one(targets, refresh)
        outcomes = []
        for target in targets:
            token = tokens.get(target)
            host = self.host(target, token) or f"registry in {target.region}"
            if isinstance(token, EcrTasksError) or token is None:
                error = (
                    token
                    if isinstance(token, EcrTasksError)
                    else EcrTasksError(f"no token for account {target.account} in {target.region}")
                )
                outcomes.append(Outcome(target, host, error))
                continue
            try:
                if self.settings.helper:
                    self._use_helper(c, [host])
                else:
                    self._engine_login(c, target, host, token, refresh)
                outcomes.append(Outcome(target, host))
            except EcrTasksError as error:
                outcomes.append(Outcome(target, host, error))
        return outcomes

    def logout(self, c: Any, target: Target) -> str:
        """Log the engine out of ``target`` and drop its cached tokens; the host.

        Under ``--dry`` only the engine command is shown: no AWS call, and
        the cache is left as it is.
        """
        dry = c.config.run.dry
        host = (
            self.host(target)
            or (self.registry(target.region, dry=True) if dry else None)
            or self.host(Target(target.region, self.account(target.region)))
        )
        assert host is not None  # an account is known by now
        if not dry:
            cred_helpers.drop_helper(self.auth_file, [host], self.cache_dir)
        engine.logout(c, self.settings.engine, host, self.cache_dir)
        if not dry:
            self._drop_tokens(target, host)
        return host

    def _drop_tokens(self, target: Target, host: str) -> None:
        # A login with --account and one without keep separate entries for
        # the same registry: the caller's own entry goes too when its token
        # is for this registry's account (or ecr.registry makes them one).
        self.forget(target)
        if target.public:
            return
        account = target.account or naming.account_of_host(host)
        if account:
            self.forget(Target(target.region, account))
        own = self.cache.get(self.cache_key(Target(target.region)))
        if own is not None and (self.settings.registry or own.account == account):
            self.forget(Target(target.region))

    def _use_helper(self, c: Any, hosts: list[str]) -> None:
        """Point the engine's credHelpers at ``docker-credential-ecr-tasks`` for ``hosts``.

        Only ECR's own host names: the helper finds the region and account in
        the name, so an ``ecr.registry`` override (a proxy, a stand-in) cannot
        be served. The program must be where the engine can run it.
        """
        for host in hosts:
            try:
                naming.parse_registry_host(host)
            except BadValue:
                raise ConfigError(
                    f"--helper needs an ECR registry host, and {host} (ecr.registry) is not"
                    " one: log in without --helper"
                ) from None
        if shutil.which(cred_helpers.PROGRAM, path=self.environ.get("PATH")) is None:
            raise EngineError(
                "docker-credential-ecr-tasks not found on PATH: install ecr-tasks where the"
                " engine runs, or log in without --helper"
            )
        path = self.auth_file
        if c.config.run.echo or c.config.run.dry:
            for host in hosts:
                print(f"# credHelpers[{host}] = {cred_helpers.HELPER} in {path}")
        if c.config.run.dry:
            return
        cred_helpers.use_helper(path, hosts, self.cache_dir)

    @property
    def auth_file(self) -> Path:
        """The engine's config file, where logins and credHelpers live."""
        return engine_auth.auth_file(self.settings.engine, self.environ)

    def _engine_login(self, c: Any, target: Target, host: str, token: Token, fresh: bool) -> None:
        try:
            engine.login(c, self.settings.engine, host, token.user, token.password, self.cache_dir)
        except AuthRejected:
            if fresh or target in self._fetched:
                raise
            # The registry turned down a cached token (revoked, or the role
            # lost access): forget it and try once more with a new one.
            self.forget(target)
            token = self.tokens([target], refresh=True)[target]
            engine.login(c, self.settings.engine, host, token.user, token.password, self.cache_dir)

    def _tokens_one_by_one(self, targets: list[Target], refresh: bool) -> dict[Target, Any]:
        """After a grouped failure, find out which registries actually fail."""
        results: dict[Target, Any] = {}
        for target in targets:
            try:
                results.update(self.tokens([target], refresh))
            except EcrTasksError as error:
                results[target] = error
        return results

    @property
    def cache_dir(self) -> Path:
        return cache_dir(self.environ)
