"""Engine logins and logouts, over the token source and the engine's auth file.

Tokens come from :mod:`ecr_tasks.token_source`; the engine receives each
password on its stdin (:mod:`ecr_tasks.engine`), or, with ``--helper``, the
auth file names our credential helper instead (:mod:`ecr_tasks.authfile`).
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ecr_tasks import authfile, engine, naming
from ecr_tasks.cache import Token
from ecr_tasks.errors import AuthRejected, BadValue, ConfigError, EcrTasksError, EngineError
from ecr_tasks.settings import Settings
from ecr_tasks.token_source import Target, TokenSource

T = TypeVar("T")

#: Registries whose login ``inv --dry`` has shown in this process, so that
#: ``inv --dry login push`` shows it once, as the real run would do it once.
_shown_logins: set[tuple[str, str]] = set()


@dataclass
class Outcome:
    target: Target
    host: str
    error: EcrTasksError | None = None


def host_for(
    s: Settings, tokens: TokenSource, target: Target, token: Token | None = None
) -> str | None:
    """The host to log in to and to name images with, if it is known."""
    if target.host:
        return target.host
    if target.public:
        return s.public_registry
    if s.registry:
        return s.registry
    account = target.account or (token.account if token else None)
    account = account or tokens.local_account(target.region)
    if account is None:
        return None
    return naming.registry_host(account, target.region, fips=s.fips, dualstack=s.dualstack)


class Logins:
    """The engine's logins for the registries one task call works with."""

    def __init__(self, c: Any, settings: Settings, tokens: TokenSource | None = None) -> None:
        self.c = c
        self.settings = settings
        self.tokens = tokens or TokenSource(settings)
        self.auth_file = authfile.path(settings.engine, self.tokens.environ)
        self.dry = bool(c.config.run.dry)
        # (host, password) pairs the engine was given or found holding in this
        # call: with a credsStore the file cannot tell, and one check per token
        # is enough.
        self._given: set[tuple[str, str]] = set()

    def host(self, target: Target, token: Token | None = None) -> str | None:
        return host_for(self.settings, self.tokens, target, token)

    def registry(self, region: str) -> str:
        """The registry host for single-registry tasks; under ``--dry``, which makes
        no AWS call, an account only STS could tell shows as ``<account>``."""
        if self.settings.registry:
            return self.settings.registry
        tokens = self.tokens
        account = tokens.local_account(region) if self.dry else tokens.account(region)
        s = self.settings
        host = naming.registry_host(account or "0" * 12, region, fips=s.fips, dualstack=s.dualstack)
        return host if account else "<account>" + host[12:]

    def token_and_host(self, target: Target) -> tuple[str, Token]:
        """``target``'s host and token, the account taken from the token."""
        token = self.tokens.token(target)
        return self.host(target, token) or self.registry(target.region), token

    def ensure(self, target: Target) -> str:
        """Make sure the engine can use ``target``; the registry host. The engine
        logs in only when its stored login is not this very token."""
        self.refuse_helper_for(target)
        if self.dry:
            host = self.host(target) or self.registry(target.region)
            self._show_login(host)
        else:
            host, token = self.token_and_host(target)
            self._ensure_with(host, token)
        return host

    def run(self, target: Target, host: str, action: Callable[[], T]) -> T:
        """``action()`` with the engine logged in; once more with a fresh
        token if the registry turns the first down."""
        if self.dry:
            return action()

        def attempt(token: Token) -> T:
            self._ensure_with(host, token)
            try:
                return action()
            except AuthRejected:
                self._given.discard((host, token.password))  # refused: log in again next time
                raise

        return self.tokens.retrying(target, attempt)

    def login(self, targets: list[Target]) -> list[Outcome]:
        """Log the engine in to every target; one outcome per target, none under ``--dry``."""
        for target in targets:  # refused before any token is fetched or cached
            self.refuse_helper_for(target)
        if self.dry:  # no AWS call and no engine call: show what would run
            for target in targets:
                self._show_login(self.host(target) or f"<account>.dkr.ecr.{target.region}.<suffix>")
            return []
        try:
            found: dict[Target, Any] = self.tokens.tokens(targets)
        except EcrTasksError:
            if len(targets) == 1:
                raise
            found = {}
            for target in targets:  # after a grouped failure: which ones fail?
                try:
                    found[target] = self.tokens.token(target)
                except EcrTasksError as failed:
                    found[target] = failed
        outcomes = []
        for target in targets:
            token = found.get(target)
            error = token if isinstance(token, EcrTasksError) else None
            host = self.host(target, None if error else token) or f"registry in {target.region}"
            if token is None:
                error = EcrTasksError(f"no token for account {target.account} in {target.region}")
            if error is None:
                try:
                    if self.settings.helper:
                        self._use_helper(host)
                    else:
                        # As push does, no engine command when it holds this very
                        # token; with the cache off (--no-cache), a login afresh.
                        log_in = self._ensure_with if self.settings.cache else self._login
                        self.tokens.retrying(target, functools.partial(log_in, host))
                except EcrTasksError as failure:
                    error = failure
            outcomes.append(Outcome(target, host, error))
        return outcomes

    def logout(self, target: Target) -> str:
        """Log the engine out of ``target`` and drop its cached tokens; the host.
        Under ``--dry`` only the engine command is shown: no AWS call, cache untouched."""
        host = self.host(target) or self.registry(target.region)
        if not self.dry:
            authfile.drop_helper(self.auth_file, [host])
        engine.logout(self.c, self.settings.engine, host, self.auth_file)
        if not self.dry:
            self._drop_tokens(target, host)
        return host

    def _drop_tokens(self, target: Target, host: str) -> None:
        # A login with --account and one without keep separate entries for
        # the same registry: the caller's own entry goes too when its token
        # is for this registry's account (or ecr.registry makes them one).
        self.tokens.forget(target)
        if target.public:
            return
        account = target.account or naming.account_of_host(host)
        if account:
            self.tokens.forget(Target(target.region, account))
        own = self.tokens.cache.get(self.tokens.key(Target(target.region)))
        if own is not None and (self.settings.registry or own.account == account):
            self.tokens.forget(Target(target.region))

    def _ensure_with(self, host: str, token: Token) -> None:
        if (host, token.password) in self._given:
            return
        try:
            data = authfile.read(self.auth_file)
        except ConfigError:
            data = {}  # the engine's own login says what is wrong with the file
        if authfile.helper_for(data, host) == naming.HELPER:
            return  # the engine asks our helper, which answers from the same cache
        if self.settings.helper:
            self._use_helper(host)
        elif not authfile.holds(data, host, token.user, token.password):
            self._login(host, token)
        else:
            self._given.add((host, token.password))  # held already: read the file once

    def _login(self, host: str, token: Token) -> None:
        engine.login(self.c, self.settings.engine, host, token.user, token.password, self.auth_file)
        self._given.add((host, token.password))

    def _show_login(self, host: str) -> None:
        if (self.settings.engine, host) in _shown_logins:
            return
        _shown_logins.add((self.settings.engine, host))
        if self.settings.helper:
            print(f"# credHelpers[{host}] = {naming.HELPER} in {self.auth_file}")
        else:
            engine.login(self.c, self.settings.engine, host, "AWS", "", self.auth_file)

    def refuse_helper_for(self, target: Target) -> None:
        """Under ``--helper``, stop a target whose host an override names
        (``ecr.registry``, ``ecr.public_registry``) when that host is not an ECR name."""
        if not self.settings.helper or target.host:
            return  # no helper, or parsed as an ECR host already
        host = self.settings.public_registry if target.public else self.settings.registry
        if host:
            _need_ecr_host(host)

    def _use_helper(self, host: str) -> None:
        """Point ``host``'s credHelpers entry at our helper, which must be on PATH.
        Only ECR's own host names: the helper reads region and account from the name."""
        _need_ecr_host(host)
        if shutil.which(naming.HELPER_PROGRAM, path=self.tokens.environ.get("PATH")) is None:
            raise EngineError(
                f"{naming.HELPER_PROGRAM} not found on PATH: install ecr-tasks where the"
                " engine runs, or log in without --helper"
            )
        if self.c.config.run.echo:
            print(f"# credHelpers[{host}] = {naming.HELPER} in {self.auth_file}")
        authfile.set_helper(self.auth_file, [host])


def _need_ecr_host(host: str) -> None:
    """Refuse ``--helper`` for ``host`` unless it is one of ECR's own names."""
    try:
        naming.parse_registry_host(host)
    except BadValue:
        raise ConfigError(
            f"--helper needs ECR's real registry host names, and {host} (ecr.registry) is not"
            " one: log in without --helper, or run the stand-in with --real-hosts"
        ) from None
