"""The token cache: registry tokens on disk, reused while they are fresh.

One rule decides validity: a token is reused until half of its lifetime has
passed and never once it has expired. Entries are keyed by registry (account
or the caller's own), region, API endpoint and the AWS principal as local
facts name it, so a cached login makes no AWS call at all and two principals
never share one. Files are written atomically (temp file, then rename) with
mode 0600 in a 0700 directory; anything unreadable is ignored with a warning
and rewritten.

The credential helper answers every pull from here (:func:`cached`), so this
module and what it imports load nothing but ``os``, ``sys`` and ``time``:
``json``, ``pathlib``, ``hashlib``, ``collections`` and ``contextlib`` would
each add 5 to 25 ms to a pull. Hence the entry's plain ``name=value`` lines
and CPython's own SHA-256.
"""

from __future__ import annotations

import os
import sys
import time

from ecr_tasks import atomic, awsconfig, hostnames

TYPE_CHECKING = False  # typing, collections and pathlib stay off the helper's cached path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Literal

    from filelock import FileLock

#: The first line of an entry; another reads as unreadable.
HEADER = "ecr-tasks token cache 2"
#: Entries end in this. Version 0.1 kept JSON in ``<key>.json``: never read,
#: and removed when the entry is written or dropped.
SUFFIX = ".token"
FIELDS = ("host", "user", "password", "expires_at", "issued_at")


class Token:
    """A registry credential from GetAuthorizationToken, as the cache keeps it.

    The password is left out of ``repr``, so that no log line, debug dump
    or traceback can show it.
    """

    __slots__ = FIELDS

    def __init__(
        self, host: str, user: str, password: str, expires_at: float, issued_at: float
    ) -> None:
        self.host, self.user, self.password = host, user, password
        self.expires_at, self.issued_at = expires_at, issued_at

    def _values(self) -> tuple[str, str, str, float, float]:
        return (self.host, self.user, self.password, self.expires_at, self.issued_at)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

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


def _find_sha256() -> Callable[[bytes], object]:
    # CPython's built-in SHA-256 (_sha2 from 3.12): hashlib loads OpenSSL first.
    for name in ("_sha2", "_sha256", "hashlib"):
        try:
            return __import__(name).sha256  # type: ignore[no-any-return]
        except ImportError:
            continue
    raise ImportError("no SHA-256 in this Python")


# Found once: a failed import is not remembered, and would search the path
# again on every key.
_sha256 = _find_sha256()


def entry_key(
    region: str, account: str | None, public: bool, principal: str, environ: Mapping[str, str]
) -> str:
    """The cache entry of a registry's token for one principal.

    ``account`` None is the caller's own registry (a login that named no
    account); the API endpoint override is part of the key, so a stand-in's
    tokens never answer for AWS.
    """
    service = "ECR_PUBLIC" if public else "ECR"
    endpoint = environ.get(f"AWS_ENDPOINT_URL_{service}") or environ.get("AWS_ENDPOINT_URL") or ""
    registry_id = "public" if public else (account or "caller")
    material = "\n".join((registry_id, region, endpoint, principal)).encode("utf-8")
    return _sha256(material).hexdigest()  # type: ignore[attr-defined, no-any-return]


def _directory(environ: Mapping[str, str]) -> str:
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ecr-tasks")


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    from pathlib import Path

    return Path(_directory(environ))


def is_fresh(token: Token, now: float | None = None) -> bool:
    """True while less than half of the token's life has passed."""
    return (time.time() if now is None else now) < token.renew_at


def entry_text(key: str, token: Token) -> str:
    """An entry as the file holds it: the header, then ``name=value`` lines."""
    values = [str(value) for value in token._values()]
    if not all(value.isprintable() for value in values):  # no line break of any kind
        raise ValueError("a token field holds a control character")
    lines = [HEADER, f"key={key}", *(f"{n}={v}" for n, v in zip(FIELDS, values, strict=True))]
    return "\n".join(lines) + "\n"


def read_entry(path: str | Path, key: str, quiet: bool = True) -> Token | None:
    """The token in the entry file ``path`` (fresh or not), None when there is
    none; an unreadable file is warned about unless ``quiet``."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        if not text.endswith("\n"):
            raise ValueError("cut short")
        header, *lines = text[:-1].split("\n")
        fields = dict(line.split("=", 1) for line in lines)
        if header != HEADER or fields.get("key") != key:
            raise ValueError("not one of ours")
        host, user, password, expires_at, issued_at = (fields[name] for name in FIELDS)
        return Token(host, user, password, float(expires_at), float(issued_at))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as error:
        if not quiet:
            name = os.path.basename(path)
            warn(f"ignoring unreadable token cache file {name} ({type(error).__name__})")
        return None


def cached(host: str, environ: Mapping[str, str] = os.environ, stale: bool = False) -> Token | None:
    """A fresh cached token for the registry ``host`` names, if there is one;
    with ``stale``, one past half of its life also does while it is valid.

    The credential helper's fast path, which runs once per pull: the host's
    labels give the account and region of the cache entry, and the entry
    answers only if AWS gave its token for this very host. No host parser,
    no partition table: a look-alike host finds no entry, and a name AWS did
    not give (a FIPS or dual-stack one) goes the full way. The profile is
    the environment's (AWS_PROFILE), as for any AWS tool the engine starts.
    """
    labels = host.split(".")
    if len(labels) > 4 and len(labels[0]) == 12 and labels[0].isdigit():
        region = labels[2] if labels[1].startswith("dkr-ecr") else labels[3]
        account, public = labels[0], False
    elif host in (hostnames.PUBLIC_REGISTRY, hostnames.PUBLIC_REGISTRY_DUALSTACK):
        account, region, public = None, hostnames.PUBLIC_REGION, True
    else:
        return None
    directory = _directory(environ)
    principal = awsconfig.principal_hint(None, environ)
    # Its own entry first, then the caller's (a login that named no account).
    for registry in (account, None) if account else (None,):
        key = entry_key(region, registry, public, principal, environ)
        token = read_entry(os.path.join(directory, key + SUFFIX), key)
        if token is None or token.host != host:
            continue
        if is_fresh(token) or (stale and time.time() < token.expires_at):
            return token
    return None


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

    def fetch_lock(self, key: str, wait: float = 0) -> FetchLock:
        return FetchLock(None, wait)


#: How long a login waits for another process that is fetching the same token.
FETCH_WAIT = 30.0


class TokenCache:
    """Tokens as one file per key under ``directory``."""

    enabled: Literal[True] = True

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir()

    def path(self, key: str) -> Path:
        """The file that holds the entry for ``key``."""
        return self.directory / f"{key}{SUFFIX}"

    def entry_keys(self) -> list[str]:
        """The keys of every entry, sorted."""
        return sorted(path.stem for path in self.directory.glob(f"*{SUFFIX}"))

    def get(self, key: str, quiet: bool = False) -> Token | None:
        """The fresh token under ``key``; ``quiet`` when asking a second time,
        so that an unreadable file is warned about once."""
        token = read_entry(self.path(key), key, quiet)
        return token if token is not None and is_fresh(token) else None

    def peek(self, key: str) -> Token | None:
        """The token under ``key`` whether fresh or not (``doctor`` shows its times)."""
        return read_entry(self.path(key), key)

    def put(self, key: str, token: Token) -> None:
        path = self.path(key)
        try:
            self._ensure_dir()
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # an empty directory where the entry goes: make room
            atomic.replace(path, entry_text(key, token), 0o600)
            self._remove(f"{key}.json")
        except (OSError, ValueError) as error:
            # A cache that cannot be written costs speed, not correctness.
            why = getattr(error, "strerror", None) or error
            warn(f"could not write the token cache in {self.directory} ({why})")

    def drop(self, key: str) -> None:
        self._remove(f"{key}{SUFFIX}", f"{key}.json")

    def _remove(self, *names: str) -> None:
        for name in names:
            try:  # noqa: SIM105 - contextlib would load collections (see the module's text)
                (self.directory / name).unlink()
            except FileNotFoundError:
                pass

    def fetch_lock(self, key: str, wait: float = FETCH_WAIT) -> FetchLock:
        """Be the one process that fetches ``key``'s token: ``with`` gives whether it is.

        Logins that start together with an empty cache would each ask AWS,
        and GetAuthorizationToken is rate limited per account and region.
        The first takes this lock and fetches; the others wait for it, then
        find the token in the cache. The wait is bounded: after ``wait``
        seconds (a stuck holder) a process goes ahead on its own.
        """
        try:
            self._ensure_dir()
        except OSError:
            return FetchLock(None, wait)  # no lock is better than no login
        return FetchLock(self.directory / f"{key}.lock", wait)

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.directory.stat().st_mode & 0o077:
            self.directory.chmod(0o700)


class FetchLock:
    """A ``filelock`` lock whose ``with`` gives whether it was taken in time
    (never, without a path); filelock is imported only to fetch a token."""

    def __init__(self, path: Path | None, wait: float) -> None:
        self.path, self.wait = path, wait
        self.held: FileLock | None = None

    def __enter__(self) -> bool:
        if self.path is None:
            return False
        from filelock import FileLock, Timeout

        lock = FileLock(self.path, timeout=self.wait, mode=0o600)
        try:
            lock.acquire(poll_interval=0.02)
        except (Timeout, OSError):
            return False
        self.held = lock
        return True

    def __exit__(self, *exc: object) -> None:
        if self.held is not None:
            self.held.release()


def warn(message: str) -> None:
    print(f"ecr-tasks: warning: {message}", file=sys.stderr)
