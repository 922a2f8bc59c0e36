"""The errors a user can cause, and how they reach the terminal.

Every failure that is not a bug is an :class:`EcrTasksError`: one line of
text that names the value or the part at fault and what to do about it.
Tasks turn it into :class:`invoke.exceptions.Exit` at their boundary, so the
user sees that line and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

# typing is left out at run time: the credential helper imports this module
# on every pull, and only the annotations need it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


class EcrTasksError(Exception):
    """A failure the user can act on; its text is a single line."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # Keep the promise of one line even when a wrapped error spans several.
        super().__init__(" ".join(str(message).split()))


class BadValue(EcrTasksError):
    """A flag or setting that does not follow its rule."""

    def __init__(self, what: str, value: object, rule: str) -> None:
        self.what = what
        self.value = value
        super().__init__(f"invalid {what} {value!r}: {rule}")


class NotEcrHost(BadValue):
    """A registry host that is not one of ECR's, where only ECR's will do."""

    def __init__(self, host: object) -> None:
        self.what = "registry"
        self.value = host
        EcrTasksError.__init__(
            self,
            f"invalid registry {host!r}: expected an ECR registry host such as "
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com or public.ecr.aws; "
            "for a proxy or stand-in set ecr.registry",
        )


class UnknownRegion(BadValue):
    """A region name of the right shape that botocore's partition table does not list."""

    def __init__(self, region: object, near: str | None) -> None:
        self.what = "region"
        self.value = region
        guess = f" (did you mean {near}?)" if near else ""
        EcrTasksError.__init__(
            self,
            f"invalid region {region!r}: not a region botocore's data lists{guess}; for a region"
            " newer than the installed botocore, set ECR_TASKS_ALLOW_UNKNOWN_REGION=1",
        )


class ConfigError(EcrTasksError):
    """Something needed is not set: a region, credentials, a profile."""


class AwsError(EcrTasksError):
    """The AWS API refused or could not be reached."""


class EngineError(EcrTasksError):
    """The container engine is missing, stopped, or failed a command."""


class AuthRejected(EngineError):
    """The registry turned down the credentials the engine sent."""


class RepositoryNotFound(AwsError):
    """The repository does not exist in the registry."""


class ImageNotFound(EngineError):
    """The registry holds no image under the tag or digest asked for."""


# How TLS failures read in Python's ssl module and in Go (docker, podman),
# most precise first: Go wraps the x509 reason in a "tls: ..." sentence.
# Kept as text: ``re`` compiles them on first use, which a cached answer never reaches.
_TLS_FAILURES = (
    r"x509: (?P<problem>[^\n\"]+)",
    r"(?i)(?P<problem>certificate verify failed: [^(\]\n]+)",
    r"tls: (?P<problem>[^\n\"]+)",
)


def tls_problem(text: str) -> str | None:
    """The certificate problem a TLS failure names (e.g. ``certificate
    signed by unknown authority``), or None if ``text`` is no TLS failure."""
    for pattern in _TLS_FAILURES:
        match = re.search(pattern, text)
        if match:
            return " ".join(match["problem"].split()).rstrip(" .:")
    return None


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def secret_forms(user: str, password: str) -> tuple[str, ...]:
    """The password as an engine may repeat it: plain, and base64-encoded
    alone or as ``user:password`` (what a Basic auth header and config.json
    hold); longest first, so that no form is cut up before it is replaced."""
    if not password:
        return ()
    import base64  # only where a password's encoded forms are made

    encoded = (f"{user}:{password}".encode(), password.encode())
    forms = {password, *(base64.b64encode(e).decode() for e in encoded)}
    return tuple(sorted(forms, key=len, reverse=True))


def exits_cleanly(func: F) -> F:
    """Turn :class:`EcrTasksError` raised by ``func`` into a one-line exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EcrTasksError as error:
            # Imported here: naming (and so this module) must import without invoke.
            from invoke.exceptions import Exit

            raise Exit(f"ecr-tasks: {error}", code=error.exit_code) from None

    return wrapper  # type: ignore[return-value]
