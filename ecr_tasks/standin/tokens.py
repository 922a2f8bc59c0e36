"""Registry passwords shaped like ECR's, that the stand-in can check in full.

A real ECR password is about 2 KB: base64 of a JSON document holding an
encrypted payload, a data key, a version, a type and the expiry. Ours has
the same shape and size. Its payload starts with an HMAC, made with the
stand-in's own key, over everything else in the document, so the registry's
gate can tell a password the API issued from one it did not (any changed
character breaks the HMAC or the JSON) and a live one from an expired one,
with no shared state and across restarts of the API emulator.

Standard library only: the gate and the API emulator both import this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from dataclasses import dataclass

KEY_ENV = "ECR_STANDIN_TOKEN_KEY"
ISSUED_LOG_ENV = "ECR_STANDIN_ISSUED_LOG"

# Sizes picked so the password is about 1.9 KB and the API's
# authorizationToken (base64 of "AWS:<password>") about 2.5 KB, as ECR's are.
_PAYLOAD_BYTES = 800
_DATAKEY_BYTES = 180
_MAC_BYTES = 32


@dataclass(frozen=True)
class Verdict:
    """What a password is: ``valid``, ``expired`` or ``unknown`` (never issued)."""

    state: str
    expires_at: float = 0.0

    @property
    def valid(self) -> bool:
        return self.state == "valid"


def new_key() -> str:
    """A fresh signing key, as text for an environment variable."""
    return secrets.token_hex(32)


def key_from_env() -> bytes:
    raw = os.environ.get(KEY_ENV, "")
    if not raw:
        raise RuntimeError(f"{KEY_ENV} is not set: the stand-in passes it to its parts")
    return raw.encode()


def _mac(key: bytes, body: bytes, datakey: str, expiration: int) -> bytes:
    message = b"|".join((body, datakey.encode(), b"2", b"DATA_KEY", str(expiration).encode()))
    return hmac.new(key, message, hashlib.sha256).digest()


def issue(key: bytes, lifetime: float, now: float | None = None) -> tuple[str, float]:
    """A new password and the time it expires (seconds since the epoch)."""
    exact = (time.time() if now is None else now) + lifetime
    # The document holds whole seconds, rounded up so that a short life is
    # never cut; the API reports the exact time, as ECR does.
    expires_at = math.ceil(exact)
    body = os.urandom(_PAYLOAD_BYTES - _MAC_BYTES)
    datakey = base64.b64encode(os.urandom(_DATAKEY_BYTES)).decode()
    payload = _mac(key, body, datakey, expires_at) + body
    document = {
        "payload": base64.b64encode(payload).decode(),
        "datakey": datakey,
        "version": "2",
        "type": "DATA_KEY",
        "expiration": expires_at,
    }
    password = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    return password, exact


def verify(key: bytes, password: str, now: float | None = None) -> Verdict:
    """Check every byte of ``password`` against ``key`` and the clock."""
    try:
        document = json.loads(base64.b64decode(password.encode(), validate=True))
        payload = base64.b64decode(document["payload"].encode(), validate=True)
        datakey = document["datakey"]
        expiration = document["expiration"]
        shape_ok = (
            isinstance(datakey, str)
            and type(expiration) is int
            and document.get("version") == "2"
            and document.get("type") == "DATA_KEY"
            and len(document) == 5
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return Verdict("unknown")
    if not shape_ok or len(payload) <= _MAC_BYTES:
        return Verdict("unknown")
    mac, body = payload[:_MAC_BYTES], payload[_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, body, datakey, expiration)):
        return Verdict("unknown")
    # The JSON must be the one we wrote, byte for byte: a re-encoding with the
    # same fields (extra spaces, reordered keys) is a password we never issued.
    canonical = {
        "payload": document["payload"],
        "datakey": datakey,
        "version": "2",
        "type": "DATA_KEY",
        "expiration": expiration,
    }
    encoded = base64.b64encode(json.dumps(canonical, separators=(",", ":")).encode()).decode()
    if not hmac.compare_digest(encoded, password):
        return Verdict("unknown")
    if expiration <= (time.time() if now is None else now):
        return Verdict("expired", float(expiration))
    return Verdict("valid", float(expiration))


def record_issued(password: str) -> None:
    """Append to the stand-in's log of issued passwords, where tests look.

    The log lives in the stand-in's private work dir; it lets tests check
    that no password the API ever handed out shows up where it must not.
    """
    path = os.environ.get(ISSUED_LOG_ENV)
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as log:
        log.write(password + "\n")
