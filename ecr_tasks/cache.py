"""The token cache: registry tokens on disk, reused while they are fresh.

One rule decides validity: a token is reused until half of its lifetime has
passed and never once it has expired. Entries are keyed by registry (account
or the caller's own), region, API endpoint and the AWS principal as local
facts name it, so a cached login makes no AWS call at all and two principals
never share one. Files are written atomically (temp file, then rename) with
mode 0600 in a 0700 directory; anything unreadable is ignored with a warning
and rewritten. The fetch lock comes from ``filelock``, imported only when a
token has to be fetched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections import namedtuple
from collections.abc import Iterator, Mapping
from pathlib import Path

from ecr_tasks import atomic

TYPE_CHECKING = False  # typing is not loaded when the cache answers
if TYPE_CHECKING:
    from typing import Literal, NamedTuple

FORMAT = 1


if TYPE_CHECKING:

    class _TokenFields(NamedTuple):
        host: str
        user: str
        password: str
        expires_at: float
        issued_at: float

else:  # the same record, without loading typing (the helper's cached path)
    _TokenFields = namedtuple("Token", "host user password expires_at issued_at")


class Token(_TokenFields):
    """A registry credential from GetAuthorizationToken, as the cache keeps it.

    The password is left out of ``repr``, so that no log line, debug dump
    or traceback can show it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return (
            f"Token(host={self.host!r}, user={self.user!r}, "
            f"expires_at={self.expires_at!r}, issued_at={self.issued_at!r})"
        )

    @property
    def account(self) -> str | None:
        from ecr_tasks.naming import account_of_host  # not on the helper's cached path

        return account_of_host(self.host)

    @property
    def renew_at(self) -> float:
        """When the cache stops handing it out: half of its life, never past expiry."""
        return min(self.issued_at + (self.expires_at - self.issued_at) / 2, self.expires_at)


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ecr-tasks"


def cache_key(host: str, region: str, principal: str, endpoint: str = "") -> str:
    material = "\n".join((host, region, endpoint, principal)).encode("utf-8")
    return hashlib.sha256(material).hexdigest()


def is_fresh(token: Token, now: float | None = None) -> bool:
    """True while less than half of the token's life has passed."""
    return (time.time() if now is None else now) < token.renew_at


def valid(token: Token, now: float | None = None) -> bool:
    """True until the token expires."""
    return (time.time() if now is None else now) < token.expires_at


class NullCache:
    """The cache when it is turned off: never hits, never writes."""

    enabled: Literal[False] = False

    def get(self, key: str, quiet: bool = False) -> Token | None:
        return None

    def peek(self, key: str) -> Token | None:
        return None

    def put(self, key: str, token: Token) -> None:
        return None

    def drop(self, key: str) -> None:
        return None

    @contextlib.contextmanager
    def fetch_lock(self, key: str, wait: float = 0) -> Iterator[bool]:
        yield False


#: How long a login waits for another process that is fetching the same token.
FETCH_WAIT = 30.0


class TokenCache:
    """Tokens as one JSON file per key under ``directory``."""

    enabled: Literal[True] = True

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir()

    def path(self, key: str) -> Path:
        """The file that holds the entry for ``key``."""
        return self.directory / f"{key}.json"

    def get(self, key: str, quiet: bool = False) -> Token | None:
        """The fresh token under ``key``; ``quiet`` when asking a second time,
        so that an unreadable file is warned about once."""
        token = self.peek(key, quiet)
        return token if token is not None and is_fresh(token) else None

    def peek(self, key: str, quiet: bool = True) -> Token | None:
        """The token under ``key`` whether fresh or not (``doctor`` shows its times)."""
        path = self.path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or data.get("key") != key:
                raise ValueError("not one of ours")
            token = Token(
                host=str(data["host"]),
                user=str(data["user"]),
                password=str(data["password"]),
                expires_at=float(data["expires_at"]),
                issued_at=float(data["issued_at"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            if not quiet:
                warn(f"ignoring unreadable token cache file {path.name} ({type(error).__name__})")
            return None
        return token

    def put(self, key: str, token: Token) -> None:
        record = {
            "format": FORMAT,
            "key": key,
            "host": token.host,
            "user": token.user,
            "password": token.password,
            "expires_at": token.expires_at,
            "issued_at": token.issued_at,
        }
        path = self.path(key)
        try:
            self._ensure_dir()
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # an empty directory where the entry goes: make room
            atomic.replace(path, json.dumps(record), 0o600)
        except OSError as error:
            # A cache that cannot be written costs speed, not correctness.
            warn(f"could not write the token cache in {self.directory} ({error.strerror})")

    def drop(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    @contextlib.contextmanager
    def fetch_lock(self, key: str, wait: float = FETCH_WAIT) -> Iterator[bool]:
        """Be the one process that fetches ``key``'s token; yields whether it is.

        Logins that start together with an empty cache would each ask AWS,
        and GetAuthorizationToken is rate limited per account and region.
        The first takes this lock and fetches; the others wait for it, then
        find the token in the cache. The wait is bounded: after ``wait``
        seconds (a stuck holder) a process goes ahead on its own.
        """
        from filelock import FileLock, Timeout

        try:
            self._ensure_dir()
            lock = FileLock(self.directory / f"{key}.lock", timeout=wait, mode=0o600)
            lock.acquire(poll_interval=0.02)
        except Timeout:
            yield False
            return
        except OSError:
            yield False  # no lock is better than no login
            return
        try:
            yield True
        finally:
            lock.release()

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o077:
            self.directory.chmod(0o700)


def warn(message: str) -> None:
    print(f"ecr-tasks: warning: {message}", file=sys.stderr)


def open_cache(enabled: bool, environ: Mapping[str, str] = os.environ) -> TokenCache | NullCache:
    return TokenCache(cache_dir(environ)) if enabled else NullCache()
