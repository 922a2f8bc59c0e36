"""The whole local ECR: API emulator, registry, engine and optional fault proxy.

``Stack`` starts the parts side by side (their start-up overlaps), hands out
the settings a client needs, lets fault tests stop and restart each part on
its own port, and stops everything it started, even after a failed start.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from .api import registry_password
from .emulator import ApiEmulator
from .engine import Engine, EngineMode
from .errors import StandinError
from .faults import FaultProxy
from .registry import Registry

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
    ) -> None:
        self.region = region
        self._given_workdir = Path(workdir) if workdir is not None else None
        self._engine_mode = start_engine
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
            self._api = ApiEmulator(workdir, self._token_ttl)
            self._registry = Registry(workdir, self.account)
            self._engine = Engine(workdir, self._engine_mode)
            # Launch all, then wait for all: moto's import, dockerd's
            # start-up and the registry's overlap instead of adding up.
            for part in (self._api, self._registry, self._engine):
                part.launch()
            for part in (self._api, self._registry, self._engine):
                part.wait_ready()
            if self._want_faults:
                self.faults = FaultProxy(self._api.url).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop whatever runs, in any state; safe to call twice."""
        errors: list[Exception] = []
        for part in (self.faults, self._engine, self._registry, self._api):
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
        """Endpoint for AWS clients: the fault proxy if there is one, else moto."""
        return self.faults.url if self.faults else self.direct_api_url

    @property
    def direct_api_url(self) -> str:
        """moto itself, bypassing any fault proxy."""
        return self._started(self._api).url

    @property
    def registry(self) -> str:
        """``127.0.0.1:PORT``, the registry part of image names."""
        return self._started(self._registry).host

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
        """The registry password inside the API's tokens for ``account``."""
        return registry_password(self.account)

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the running parts we started, by part name."""
        parts = {"api": self._api, "registry": self._registry, "engine": self._engine}
        return {name: p.pid for name, p in parts.items() if p and p.running() and p.pid}

    def env(self) -> dict[str, str]:
        """Environment variables that point AWS, Docker and invoke clients here."""
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

    def settings_text(self) -> str:
        """What the CLI prints: where things run, invoke.yaml and shell exports."""
        if self.docker_host:
            engine = f"{self.docker_host} (ours)"
        elif self._engine_mode is False:
            engine = "none started (docker login still works; push and pull need an engine)"
        else:
            engine = "the one already running"
        exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in self.env().items())
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
            f"{exports}\n"
        )

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
