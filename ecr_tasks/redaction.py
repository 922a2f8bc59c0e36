"""Keep registry tokens out of log output.

``inv --debug`` turns on DEBUG for the root logger, and botocore then logs
every response body: for GetAuthorizationToken that body is the token.
A filter on the loggers that can carry it rewrites any record that holds a
token before a handler sees it.
"""

from __future__ import annotations

import logging

# Loggers whose DEBUG records can hold response bodies or request details.
_LOGGERS = (
    "botocore.parsers",
    "botocore.endpoint",
    "botocore.hooks",
    "botocore.retryhandler",
    "urllib3.connectionpool",
)
_MARKERS = ("authorizationToken", "authorizationData")
_secrets: set[str] = set()


class TokenFilter(logging.Filter):
    """Replace a record's text when it holds a token or a known secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        if any(marker in text for marker in _MARKERS) or any(s in text for s in _secrets):
            record.msg = "[ecr-tasks: record withheld, it holds a registry token]"
            record.args = ()
        return True


_FILTER = TokenFilter()


def protect_logs() -> None:
    """Attach the filter once to every logger that could leak a token."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def remember_secret(secret: str) -> None:
    """Withhold any later record that contains ``secret`` (and not an empty one)."""
    if secret:
        _secrets.add(secret)
