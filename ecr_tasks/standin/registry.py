"""The image registry: Debian's ``docker-registry`` (the distribution registry).

It stores images under the stand-in's work dir and accepts, through htpasswd,
user ``AWS`` with password ``<account>-auth-token``: the very credentials
the API emulator's tokens hold, so a real login works.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .api import registry_password
from .errors import StandinError
from .process import Service, free_port, http_request

REGISTRY_USER = "AWS"
# Low on purpose: the registry checks the bcrypt hash on every request, and a
# cost of 12 would add about 0.25 s to each one of a push.
BCRYPT_ROUNDS = 5


class Registry:
    """One ``docker-registry serve`` on 127.0.0.1; keeps its port across restarts."""

    def __init__(self, workdir: Path, account: str, timeout: float = 15.0) -> None:
        self.workdir = workdir
        # One account only: every ECR login uses user AWS, and htpasswd holds
        # one password per user.
        self.password = registry_password(account)
        self.timeout = timeout
        self.port: int | None = None
        self.service: Service | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry part of image names."""
        if self.port is None:
            raise StandinError("the registry has not been started", "registry")
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.service.pid if self.service else None

    def launch(self) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise StandinError(
                "docker-registry not found: apt-get install docker-registry", "registry"
            )
        if self.port is None:
            self.port = free_port()
        self.write_htpasswd()
        config = self.workdir / "registry.yml"
        config.write_text(self._config_text())
        # REGISTRY_* variables override the config file: a user's must not leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self.service = Service(
            "registry (docker-registry)", "registry",
            [binary, "serve", str(config)], self.workdir / "registry.log", env,
        )  # fmt: skip
        self.service.start()

    def wait_ready(self) -> None:
        assert self.service is not None, "launch() first"
        port = self.port
        assert port is not None

        def ready() -> bool:
            answer = http_request(port, "GET", "/v2/", timeout=1)
            return answer is not None and answer[0] in (200, 401)

        self.service.wait_until(ready, self.timeout)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=5)

    def running(self) -> bool:
        return self.service is not None and self.service.running()

    def write_htpasswd(self) -> None:
        try:
            import bcrypt
        except ImportError:
            raise StandinError("bcrypt not installed: pip install bcrypt", "registry") from None
        hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS, b"2a"))
        (self.workdir / "htpasswd").write_text(f"{REGISTRY_USER}:{hashed.decode()}\n")

    def _config_text(self) -> str:
        # JSON is valid YAML, and json.dumps quotes paths correctly.
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.workdir / "registry-data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": "ecr-standin"},
            "auth": {"htpasswd": {"realm": "ecr-standin", "path": str(self.workdir / "htpasswd")}},
        }
        return json.dumps(config, indent=2) + "\n"
