"""The parent's handle on the API emulator process (see ``api.py`` for the child)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from .api import TTL_ENV, TTL_PATH
from .errors import StandinError
from .process import Service, child_env, http_request
from .registry_rules import REGISTRY_DATA_DIR, REGISTRY_DATA_ENV
from .tokens import ISSUED_LOG_ENV, KEY_ENV, new_key

ISSUED_LOG_NAME = "issued-passwords"


def issued_passwords(workdir: Path) -> list[str]:
    """Every registry password the API emulator of ``workdir`` issued, oldest first."""
    log = Path(workdir) / ISSUED_LOG_NAME
    return log.read_text().split() if log.exists() else []


# A request shaped like botocore's: moto picks service and region out of the
# credential scope. Moto does not check signatures.
TOKEN_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/ecr/aws4_request,"
        " SignedHeaders=host, Signature=0"
    ),
}


class ApiEmulator:
    """moto in server mode on 127.0.0.1; keeps its port across restarts."""

    def __init__(
        self, workdir: Path, token_ttl: float | None = None, timeout: float = 30.0,
        key: str | None = None,
    ) -> None:  # fmt: skip
        self.workdir = workdir
        self.token_ttl = token_ttl
        self.key = key or new_key()
        # Every password issued, for tests that look for leaks; private, and
        # kept across restarts like the key, so old tokens stay checkable.
        self.issued_log = workdir / ISSUED_LOG_NAME
        self.timeout = timeout
        self.port: int | None = None
        self.service: Service | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise StandinError("the API emulator has not been started", "api")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.service.pid if self.service else None

    def launch(self) -> None:
        """Start the child without waiting; ``wait_ready`` finishes the job."""
        port_file = self.workdir / "api.port"
        port_file.unlink(missing_ok=True)
        env = child_env()
        if self.token_ttl is not None:
            env[TTL_ENV] = str(self.token_ttl)
        env[KEY_ENV] = self.key
        env[ISSUED_LOG_ENV] = str(self.issued_log)
        # The registry's storage, beside ours: deletes through the API reach it.
        env[REGISTRY_DATA_ENV] = str(self.workdir / REGISTRY_DATA_DIR)
        argv = [
            sys.executable, "-m", "ecr_tasks.standin.api",
            "--port", str(self.port or 0), "--port-file", str(port_file),
        ]  # fmt: skip
        self.service = Service("API emulator (moto)", "api", argv, self.workdir / "api.log", env)
        self.service.start()

    def wait_ready(self) -> None:
        assert self.service is not None, "launch() first"
        port_file = self.workdir / "api.port"

        def ready() -> bool:
            if self.port is None:
                if not port_file.exists():
                    return False
                self.port = int(port_file.read_text())
            return self._token_expiry() is not None

        self.service.wait_until(ready, self.timeout)
        expiry = self._token_expiry()
        if expiry is not None and expiry < time.time():
            raise StandinError(
                "the API emulator still hands out expired ECR tokens:"
                " moto's GetAuthorizationToken changed, update ecr_tasks/standin/api.py",
                "api",
            )

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=5)

    def running(self) -> bool:
        return self.service is not None and self.service.running()

    def set_token_ttl(self, seconds: float) -> None:
        """Change how long tokens issued from now on stay valid (no restart)."""
        answer = http_request(self._port(), "PUT", TTL_PATH, body=str(float(seconds)).encode())
        if answer is None or answer[0] != 200:
            raise StandinError("the API emulator did not accept the token lifetime", "api")
        self.token_ttl = float(seconds)

    def _port(self) -> int:
        if self.port is None:
            raise StandinError("the API emulator has not been started", "api")
        return self.port

    def fresh_authorization(self, timeout: float = 2.0) -> dict[str, Any] | None:
        """One ``authorizationData`` entry just issued, or None if moto cannot answer."""
        answer = http_request(
            self._port(), "POST", "/", body=b"{}", headers=TOKEN_HEADERS, timeout=timeout
        )
        if answer is None or answer[0] != 200:
            return None
        data: dict[str, Any] = json.loads(answer[1])["authorizationData"][0]
        return data

    def _token_expiry(self) -> float | None:
        """expiresAt of a fresh ECR token, or None while moto cannot answer yet."""
        data = self.fresh_authorization()
        return None if data is None else float(data["expiresAt"])
