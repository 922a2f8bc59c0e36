"""The image registry: Debian's ``docker-registry`` behind our gate.

The distribution registry stores images under the stand-in's work dir and
checks nothing; it listens on a loopback port only the gate knows. The gate
(``gate.py``) is what clients reach: it checks each password in full, and
asks the API emulator about repositories and immutable tags, as ECR does.
In real-hosts mode the gate serves HTTPS on port 443 of a loopback address
that the private ``/etc/hosts`` names as the ECR registry host.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import StandinError
from .process import Service, child_env, free_port, http_request
from .registry_rules import REGISTRY_DATA_DIR


@dataclass(frozen=True)
class Listener:
    """Where a gate listens and, for HTTPS, its certificate and key."""

    address: str = "127.0.0.1"
    port: int = 0
    cert: Path | None = None
    key: Path | None = None


class GateProcess:
    """One ``python -m ecr_tasks.standin.gate`` child; keeps its port across restarts."""

    def __init__(
        self, name: str, workdir: Path, listener: Listener, upstream_port: int,
        options: list[str], env: dict[str, str], timeout: float = 15.0,
    ) -> None:  # fmt: skip
        self.name = name
        self.workdir = workdir
        self.listener = listener
        self.upstream_port = upstream_port
        self.options = options
        self.env = env
        self.timeout = timeout
        self.port: int | None = listener.port or None
        self.service: Service | None = None

    def launch(self) -> None:
        port_file = self.workdir / f"{self.name}.port"
        port_file.unlink(missing_ok=True)
        argv = [
            sys.executable, "-m", "ecr_tasks.standin.gate",
            "--listen", self.listener.address, "--port", str(self.port or 0),
            "--port-file", str(port_file), "--upstream-port", str(self.upstream_port),
            *self.options,
        ]  # fmt: skip
        if self.listener.cert is not None:
            argv += ["--cert", str(self.listener.cert), "--key", str(self.listener.key)]
        self.service = Service(
            f"{self.name} (ecr_tasks.standin.gate)", "registry", argv,
            self.workdir / f"{self.name}.log", child_env(self.env),
        )  # fmt: skip
        self.service.start()

    def wait_ready(self) -> None:
        assert self.service is not None, "launch() first"
        port_file = self.workdir / f"{self.name}.port"

        def ready() -> bool:
            if port_file.exists():
                self.port = int(port_file.read_text())
                return True
            return False

        self.service.wait_until(ready, self.timeout)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=5)

    def running(self) -> bool:
        return self.service is not None and self.service.running()


class Registry:
    """The distribution registry plus the gate in front of it, as one part."""

    def __init__(
        self, workdir: Path, account: str, region: str, key: str,
        listener: Listener | None = None, timeout: float = 15.0,
    ) -> None:  # fmt: skip
        self.workdir = workdir
        self.account = account
        self.region = region
        self.key = key
        self.listener = listener or Listener()
        self.timeout = timeout
        self.backend_port: int | None = None
        self.api_port: int | None = None
        self.service: Service | None = None
        self.gate: GateProcess | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the gate: the registry part of image names."""
        if self.gate is None or self.gate.port is None:
            raise StandinError("the registry has not been started", "registry")
        return f"{self.listener.address}:{self.gate.port}"

    @property
    def pid(self) -> int | None:
        return self.service.pid if self.service else None

    def launch(self, api_port: int) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise StandinError(
                "docker-registry not found: apt-get install docker-registry", "registry"
            )
        if self.backend_port is None:
            self.backend_port = free_port()
        self.api_port = api_port
        config = self.workdir / "registry.yml"
        config.write_text(self._config_text())
        # REGISTRY_* variables override the config file: a user's must not leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self.service = Service(
            "registry (docker-registry)", "registry",
            [binary, "serve", str(config)], self.workdir / "registry.log", env,
        )  # fmt: skip
        self.service.start()
        if self.gate is None:
            self.gate = GateProcess(
                "gate", self.workdir, self.listener, self.backend_port,
                ["--api-port", str(api_port), "--account", self.account,
                 "--region", self.region],
                {"ECR_STANDIN_TOKEN_KEY": self.key},
            )  # fmt: skip
        self.gate.launch()

    def wait_ready(self) -> None:
        assert self.service is not None and self.gate is not None, "launch() first"
        port = self.backend_port
        assert port is not None

        def ready() -> bool:
            answer = http_request(port, "GET", "/v2/", timeout=1)
            return answer is not None and answer[0] == 200

        self.service.wait_until(ready, self.timeout)
        self.gate.wait_ready()

    def start(self) -> None:
        assert self.api_port is not None, "launch() once first"
        self.launch(self.api_port)
        self.wait_ready()

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.stop()
        if self.service is not None:
            self.service.stop(timeout=5)

    def running(self) -> bool:
        return self.service is not None and self.service.running()

    def _config_text(self) -> str:
        # JSON is valid YAML, and json.dumps quotes paths correctly.
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.workdir / REGISTRY_DATA_DIR)},
                "delete": {"enabled": True},
            },
            # Relative Location headers: the registry cannot know the name
            # and scheme (HTTPS in real-hosts mode) the gate serves it under.
            "http": {
                "addr": f"127.0.0.1:{self.backend_port}",
                "secret": "ecr-standin",
                "relativeurls": True,
            },
        }
        return json.dumps(config, indent=2) + "\n"
