"""The whole local ECR: API emulator, registry, engine and optional fault proxy.

``Stack`` starts the parts side by side (their start-up overlaps), hands out
the settings a client needs, lets fault tests stop and restart each part on
its own port, and stops everything it started, even after a failed start.

Two modes: the default serves everything on 127.0.0.1 ports over plain HTTP
(clients point at it with ``AWS_ENDPOINT_URL`` and ``ecr.registry``);
``real_hosts=True`` serves ECR's real names over HTTPS inside a private mount
namespace (see ``realhosts.py``), so clients run with no override at all.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .emulator import ApiEmulator, issued_passwords
from .engine import Engine, EngineMode
from .errors import StandinError
from .faults import FaultProxy
from .process import free_port
from .realhosts import HTTPS_PORT, RealHosts
from .registry import GateProcess, Listener, Registry
from .tokens import new_key

DEFAULT_ACCOUNT = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
DUMMY_KEY = "testing"  # moto accepts any credentials

_T = TypeVar("_T")

class Stack:
    """A running local ECR stand-in; use as a context manager or start()/stop().

    ``workdir``: where images, logs and configs go; a temporary dir, removed
    on ``stop()``, when None. ``start_engine``: ``"auto"`` (use a reachable
    Docker engine, else start dockerd), ``True`` (always a private dockerd) or
    ``False`` (none). ``fault_proxy``: route ``api_url`` through a
    ``FaultProxy``, reachable as ``faults``. ``token_ttl``: lifetime of tokens
    in seconds (default: ``$ECR_STANDIN_TOKEN_TTL``, else 12 h as in ECR).
    ``real_hosts``: serve ECR's own host names over HTTPS; the caller must
    be in a private mount namespace (``python -m ecr_tasks.standin
    --real-hosts`` makes one), and the engine is always a private dockerd,
    since only a process inside the namespace sees those names.
    """

    account = DEFAULT_ACCOUNT

    def __init__(
        self,
        workdir: str | Path | None = None,
        *,
        start_engine: EngineMode = "auto",
        fault_proxy: bool = False,
        token_ttl: float | None = None,
        region: str = DEFAULT_REGION,
        real_hosts: bool = False,
    ) -> None:
        self.region = region
        self.real_hosts = real_hosts
        self._given_workdir = Path(workdir) if workdir is not None else None
        self._engine_mode: EngineMode = True if real_hosts else start_engine
        # Signs every password the API hands out; the gate checks with it.
        self._token_key = new_key()
        self._hosts: RealHosts | None = None
        self._api_front: GateProcess | None = None
        self._want_faults = fault_proxy
        self._token_ttl = token_ttl
        self.workdir: Path | None = None
        self.faults: FaultProxy | None = None
        self._api: ApiEmulator | None = None
        self._registry: Registry | None = None
        self._engine: Engine | None = None

    # -- whole stack ------------------------------------------------------------

    def start(self) -> Stack:
        if self.workdir is not None:
            raise StandinError("this stack is already started")
        try:
            workdir = self._make_workdir()
            listener = Listener()
            if self.real_hosts:
                # Files and mounts first: dockerd must see the names and the CA.
                self._hosts = RealHosts(workdir, self.account, self.region)
                self._hosts.prepare()
                tls = self._hosts.authority
                listener = Listener(self._hosts.registry_address, HTTPS_PORT, tls.cert, tls.key)
            self._api = ApiEmulator(workdir, self._token_ttl, key=self._token_key)
            self._api.port = free_port()  # the gate needs it before moto is up
            self._registry = Registry(
                workdir, self.account, self.region, self._token_key, listener
            )
            self._engine = Engine(workdir, self._engine_mode)
            # Launch all, then wait for all: moto's import, dockerd's
            # start-up and the registry's overlap instead of adding up.
            self._api.launch()
            self._registry.launch(self._api.port)
            self._engine.launch()
            for part in (self._api, self._registry, self._engine):
                part.wait_ready()
            if self._want_faults:
                self.faults = FaultProxy(self._api.url).start()
            if self._hosts is not None:
                self._start_api_front(self._hosts)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop whatever runs, in any state; safe to call twice."""
        errors: list[Exception] = []
        for part in (self._api_front, self.faults, self._engine, self._registry, self._api):
            if part is None:
                continue
            try:
                # The engine's cleanup also removes its runtime dir; its
                # plain stop() keeps that for a restart on the same socket.
                if isinstance(part, Engine):
                    part.cleanup()
                else:
                    part.stop()
            except Exception as exc:  # keep stopping the other parts
                errors.append(exc)
        self.faults = None
        if self.workdir is not None and self._given_workdir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None
        if errors:
            raise errors[0]

    def __enter__(self) -> Stack:
        # ``with Stack(...).start() as s`` and ``with Stack(...) as s`` both work.
        return self if self.workdir is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self.workdir is None:
            return "<Stack stopped>"
        return f"<Stack api={self.api_url} registry={self.registry} engine={self.docker_host}>"

    # -- what clients need ----------------------------------------------------

    @property
    def api_url(self) -> str:
        """Endpoint for AWS clients: the fault proxy if there is one, else moto.

        In real-hosts mode clients use the real endpoint names instead; this
        stays the plain loopback address that the TLS front forwards to.
        """
        return self.faults.url if self.faults else self.direct_api_url

    @property
    def direct_api_url(self) -> str:
        """moto itself, bypassing any fault proxy."""
        return self._started(self._api).url

    @property
    def registry(self) -> str:
        """The registry part of image names: ``127.0.0.1:PORT``, or in
        real-hosts mode ``<account>.dkr.ecr.<region>.amazonaws.com``."""
        if self._hosts is not None:
            return self._hosts.registry
        return self._started(self._registry).host

    @property
    def api_hosts(self) -> list[str]:
        """The API endpoint names real-hosts mode answers (empty otherwise)."""
        return list(self._hosts.api_names) if self._hosts else []

    @property
    def docker_host(self) -> str | None:
        """``unix://...`` of the dockerd we started; None if we use another or none."""
        return self._engine.docker_host if self._engine else None

    @property
    def docker_config(self) -> str:
        """A DOCKER_CONFIG dir of our own, so logins never touch ~/.docker."""
        return str(self._started(self.workdir) / "docker-config")

    @property
    def password(self) -> str:
        """A registry password the API has just issued (each call, a new one)."""
        data = self._started(self._api).fresh_authorization(timeout=10)
        if data is None:
            raise StandinError("the API emulator did not issue a token", "api")
        return base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]

    def create_repository(self, name: str, **settings: Any) -> None:
        """Make a repository through the ECR API, as ``aws ecr create-repository``
        does: the registry refuses pushes to any repository that does not exist."""
        import boto3

        ecr = boto3.client(
            "ecr", region_name=self.region, endpoint_url=self.direct_api_url,
            aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_KEY,
        )  # fmt: skip
        ecr.create_repository(repositoryName=name, **settings)

    def extra_registry(self, workdir: str | Path, account: str | None = None) -> Registry:
        """One more registry, on a port and storage of its own, that accepts this
        stack's tokens; launched, so call ``wait_ready()`` and, after, ``stop()``."""
        registry = Registry(Path(workdir), account or self.account, self.region, self._token_key)
        registry.launch(self._started(self._api).port or 0)
        return registry

    def issued_passwords(self) -> list[str]:
        """Every registry password the API has issued so far, oldest first."""
        return issued_passwords(self._started(self._api).workdir)

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the running parts we started, by part name."""
        parts = {"api": self._api, "registry": self._registry, "engine": self._engine}
        return {name: p.pid for name, p in parts.items() if p and p.running() and p.pid}

    def env(self) -> dict[str, str]:
        """Environment variables that point AWS, Docker and invoke clients here."""
        if self._hosts is not None:
            return self._real_hosts_env(self._hosts)
        env = {
            "AWS_ENDPOINT_URL": self.api_url,
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,  # the one botocore reads
            "DOCKER_CONFIG": self.docker_config,
            "INVOKE_ECR_REGISTRY": self.registry,
            "INVOKE_ECR_REGION": self.region,
            "INVOKE_ECR_ACCOUNT": self.account,
        }
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        return env

    def _real_hosts_env(self, hosts: RealHosts) -> dict[str, str]:
        # No endpoint and no registry override: the real names resolve here.
        # Dummy keys, so no real credential is ever sent to the emulator.
        env = {
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CA_BUNDLE": str(hosts.bundle),
            "SSL_CERT_FILE": str(hosts.bundle),
            "DOCKER_CONFIG": self.docker_config,
        }
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        return env

    def settings_text(self) -> str:
        """What the CLI prints: where things run, invoke.yaml and shell exports."""
        if self._hosts is not None:
            return self._real_hosts_text(self._hosts)
        if self.docker_host:
            engine = f"{self.docker_host} (ours)"
        elif self._engine_mode is False:
            engine = "none started (docker login still works; push and pull need an engine)"
        else:
            engine = "the one already running"
        return (
            f"ECR stand-in running (work dir {self.workdir})\n"
            f"  API emulator: {self.api_url}\n"
            f"  registry:     {self.registry} (user AWS, the password inside the API's tokens)\n"
            f"  engine:       {engine}\n"
            "\n"
            "# invoke.yaml\n"
            "ecr:\n"
            f"  registry: {self.registry}\n"
            f"  region: {self.region}\n"
            f'  account: "{self.account}"\n'
            "\n"
            "# shell\n"
            f"{self._exports()}\n"
        )

    def _exports(self) -> str:
        return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in self.env().items())

    def _real_hosts_text(self, hosts: RealHosts) -> str:
        ecr_api = next(name for name in hosts.api_names if name.startswith("api.ecr."))
        return (
            f"ECR stand-in running with real host names (work dir {self.workdir})\n"
            f"  registry:     https://{hosts.registry} -> {hosts.registry_address}:443\n"
            f"  API:          https://{ecr_api} and the other AWS endpoints"
            f" -> {hosts.api_address}:443\n"
            f"  engine:       {self.docker_host} (ours, inside the namespace)\n"
            f"  trust:        {hosts.bundle}\n"
            "\n"
            "# invoke.yaml: no registry, no endpoint; as on AWS\n"
            "ecr:\n"
            "  repo: my-app\n"
            f"  region: {self.region}\n"
            "\n"
            "# only processes inside this stand-in's mount namespace see these names\n"
            f"# shell, inside it: nsenter --target {os.getpid()} --mount\n"
            f"{self._exports()}\n"
        )

    def _start_api_front(self, hosts: RealHosts) -> None:
        """HTTPS on the real API names, forwarded to the fault proxy or moto."""
        upstream = urlsplit(self.api_url).port
        assert upstream is not None and self.workdir is not None
        tls = hosts.authority
        self._api_front = GateProcess(
            "api-front", self.workdir,
            Listener(hosts.api_address, HTTPS_PORT, tls.cert, tls.key), upstream, [], {},
        )  # fmt: skip
        self._api_front.launch()
        self._api_front.wait_ready()

    # -- one part at a time, for fault tests -------------------------------------

    def stop_api(self) -> None:
        self._started(self._api).stop()

    def start_api(self) -> None:
        """Restart moto on its old port; it comes back with an empty state."""
        self._started(self._api).start()

    def set_token_ttl(self, seconds: float) -> None:
        """Tokens issued from now on expire after ``seconds``."""
        self._started(self._api).set_token_ttl(seconds)

    def stop_registry(self) -> None:
        self._started(self._registry).stop()

    def start_registry(self) -> None:
        """Restart the registry on its old port, with the images it held."""
        self._started(self._registry).start()

    def stop_engine(self) -> None:
        engine = self._started(self._engine)
        if not engine.ours:
            raise StandinError("the Docker engine is not ours to stop", "engine")
        engine.stop()

    def start_engine(self) -> None:
        """(Re)start our private dockerd on its old socket."""
        engine = self._started(self._engine)
        engine.launch_dockerd()
        engine.wait_ready()

    # -- helpers ---------------------------------------------------------------

    def _make_workdir(self) -> Path:
        try:
            if self._given_workdir is not None:
                workdir = self._given_workdir.resolve()
                workdir.mkdir(parents=True, exist_ok=True)
            else:
                workdir = Path(tempfile.mkdtemp(prefix="ecr-standin-"))
            self.workdir = workdir
            (workdir / "docker-config").mkdir(exist_ok=True)
        except OSError as exc:
            raise StandinError(
                f"cannot use work dir {self._given_workdir or tempfile.gettempdir()}: {exc}"
            ) from None
        return workdir

    def _started(self, part: _T | None) -> _T:
        if part is None or self.workdir is None:
            raise StandinError("the stack is not started")
        return part
