"""End-to-end checks of the local ECR stand-in (``ecr_tasks.standin``).

Real processes: moto, the distribution registry, dockerd and the docker
client. Where a part cannot start these tests skip with the reason, except
under CI=true, where a missing part is a failure.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_tasks.standin import Stack, StandinError
from ecr_tasks.standin.process import http_request

pytestmark = pytest.mark.e2e

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO_ROOT = Path(__file__).resolve().parents[1]
TWELVE_HOURS = 12 * 3600
ECR_TOKEN_OP = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"

# Why the module's stand-in has no engine; empty while it has one.
_engine_problem: list[str] = []


def unavailable(reason: str) -> None:
    """Skip, or fail under CI, where every part must start."""
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def standin() -> Iterator[Stack]:
    """This module's own stand-in, with a fault proxy (conftest's has none)."""
    started = Stack(fault_proxy=True)
    try:
        started.start()
    except StandinError as exc:
        if exc.part != "engine" or IN_CI:
            unavailable(f"ECR stand-in unavailable: {exc}")
        # Without an engine, login and the API can still be checked.
        _engine_problem.append(str(exc))
        started = Stack(fault_proxy=True, start_engine=False)
        try:
            started.start()
        except StandinError as exc2:
            unavailable(f"ECR stand-in unavailable: {exc2}")
    yield started
    started.stop()


@pytest.fixture
def engine(standin: Stack) -> Stack:
    if _engine_problem:
        unavailable(f"no Docker engine: {_engine_problem[0]}")
    return standin


@pytest.fixture
def docker_cli() -> None:
    if shutil.which("docker") is None:
        unavailable("docker client not found: apt-get install docker.io")


@pytest.fixture
def client_env(standin: Stack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process environment a client of the stand-in gets: only ``env()``."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "INVOKE_", "DOCKER_")):
            monkeypatch.delenv(key)
    for key, value in standin.env().items():
        monkeypatch.setenv(key, value)
    return {**os.environ}


def aws(service: str, attempts: int = 1) -> Any:
    """A boto3 client configured by the environment alone."""
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return boto3.session.Session().client(service, config=config)


def seconds_left(expires_at: datetime) -> float:
    return (expires_at - datetime.now(timezone.utc)).total_seconds()


def docker(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["docker", *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr.strip()}"
    return result.stdout


def login_with_api_token(env: dict[str, str], registry: str) -> None:
    data = aws("ecr").get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    docker(env, "login", "--username", user, "--password-stdin", registry, stdin=password)


def assert_ecr_sized_token(standin: Stack, token: str) -> None:
    """Base64 of ``AWS:<password>``, 2,000-3,000 characters as ECR's are, with
    a password of about 2 KB that is itself base64 of a JSON document."""
    assert 2000 <= len(token) <= 3000, len(token)
    user, password = base64.b64decode(token).decode().split(":", 1)
    assert user == "AWS"
    assert 1500 <= len(password) <= 2500, len(password)
    document = json.loads(base64.b64decode(password))
    assert set(document) == {"payload", "datakey", "version", "type", "expiration"}
    assert password in standin.issued_passwords()


# -- the API -------------------------------------------------------------------


def test_ecr_token_lasts_twelve_hours_like_ecr(standin: Stack, client_env: dict[str, str]) -> None:
    data = aws("ecr").get_authorization_token()["authorizationData"][0]

    assert_ecr_sized_token(standin, data["authorizationToken"])
    assert TWELVE_HOURS - 120 < seconds_left(data["expiresAt"]) <= TWELVE_HOURS


def test_ecr_public_token_is_shaped_like_ecrs(
    standin: Stack, client_env: dict[str, str]
) -> None:
    data = aws("ecr-public").get_authorization_token()["authorizationData"]

    assert_ecr_sized_token(standin, data["authorizationToken"])
    assert TWELVE_HOURS - 120 < seconds_left(data["expiresAt"]) <= TWELVE_HOURS


def test_sts_names_the_stack_account(standin: Stack, client_env: dict[str, str]) -> None:
    assert aws("sts").get_caller_identity()["Account"] == standin.account


def test_token_lifetime_can_be_shortened(standin: Stack, client_env: dict[str, str]) -> None:
    standin.set_token_ttl(60)
    try:
        data = aws("ecr").get_authorization_token()["authorizationData"][0]
    finally:
        standin.set_token_ttl(TWELVE_HOURS)

    assert 0 < seconds_left(data["expiresAt"]) <= 60


# -- the registry and the engine ----------------------------------------------------


@pytest.mark.usefixtures("docker_cli")
def test_registry_accepts_the_api_token_and_nothing_else(
    standin: Stack, client_env: dict[str, str]
) -> None:
    login_with_api_token(client_env, standin.registry)
    auths = json.loads(Path(standin.docker_config, "config.json").read_text())["auths"]
    assert standin.registry in auths

    wrong = subprocess.run(
        ["docker", "login", "--username", "AWS", "--password-stdin", standin.registry],
        input="not-the-token", env=client_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert wrong.returncode != 0


@pytest.mark.usefixtures("docker_cli")
def test_push_and_pull_a_long_ecr_style_name(
    engine: Stack, client_env: dict[str, str], tmp_path: Path
) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    (rootfs / "hello.txt").write_text("hello from the stand-in\n")
    tar_path = tmp_path / "rootfs.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(rootfs / "hello.txt", arcname="hello.txt")
    image = f"{engine.registry}/{engine.account}/platform-team/a-rather-long-service-name:v1.2.3"

    login_with_api_token(client_env, engine.registry)
    aws("ecr").create_repository(
        repositoryName=f"{engine.account}/platform-team/a-rather-long-service-name"
    )
    docker(client_env, "import", str(tar_path), image)
    docker(client_env, "push", image)
    docker(client_env, "rmi", image)
    docker(client_env, "pull", image)

    assert docker(client_env, "image", "inspect", "--format", "{{.Id}}", image).startswith(
        "sha256:"
    )


# -- faults --------------------------------------------------------------------


def test_fault_proxy_throttles_the_next_calls(standin: Stack, client_env: dict[str, str]) -> None:
    faults = standin.faults
    assert faults is not None
    faults.reset_counts()
    faults.throttle(2, operation="GetAuthorizationToken")
    try:
        ecr = aws("ecr", attempts=1)
        for _ in range(2):
            with pytest.raises(ClientError) as caught:
                ecr.get_authorization_token()
            assert caught.value.response["Error"]["Code"] == "ThrottlingException"
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert ecr.get_authorization_token()["authorizationData"]
    finally:
        faults.clear()

    assert faults.counts[ECR_TOKEN_OP] == 3
    assert faults.count("GetAuthorizationToken") == 3


def test_fault_proxy_throttling_is_retried_by_botocore(
    standin: Stack, client_env: dict[str, str]
) -> None:
    faults = standin.faults
    assert faults is not None
    faults.reset_counts()
    faults.throttle(2)
    try:
        assert aws("ecr", attempts=3).get_authorization_token()["authorizationData"]
    finally:
        faults.clear()

    assert faults.count("GetAuthorizationToken") == 3


def test_fault_proxy_answers_server_errors(standin: Stack, client_env: dict[str, str]) -> None:
    faults = standin.faults
    assert faults is not None
    faults.fail(1, status=503)
    try:
        with pytest.raises(ClientError) as caught:
            aws("sts").get_caller_identity()
    finally:
        faults.clear()

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert aws("sts").get_caller_identity()["Account"] == standin.account


# -- stopping and restarting ----------------------------------------------------------


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        if text in argv:
            found.append(argv)
    return found


def port_of(url_or_host: str) -> int:
    return int(url_or_host.rsplit(":", 1)[1])


def test_parts_restart_on_their_ports_and_stop_leaves_nothing(tmp_path: Path) -> None:
    own = Stack(tmp_path / "work", start_engine=False)
    try:
        own.start()
    except StandinError as exc:
        unavailable(f"ECR stand-in unavailable: {exc}")
    with own:
        registry_port, api_url = port_of(own.registry), own.api_url

        own.stop_registry()
        assert http_request(registry_port, "GET", "/v2/") is None
        own.start_registry()
        answer = http_request(registry_port, "GET", "/v2/")
        assert answer is not None and answer[0] == 401

        own.stop_api()
        assert http_request(port_of(api_url), "GET", "/") is None
        own.start_api()
        assert own.api_url == api_url
        pids = own.pids

    assert set(pids) == {"api", "registry"}
    assert processes_mentioning(str(tmp_path)) == []
    assert (tmp_path / "work" / "registry.yml").exists()  # a given work dir stays


@pytest.mark.usefixtures("docker_cli")
def test_engine_restarts_on_its_socket(engine: Stack, client_env: dict[str, str]) -> None:
    if engine.docker_host is None:
        pytest.skip("the engine is not ours: an existing one answered")
    engine.stop_engine()
    engine.start_engine()

    assert docker(client_env, "version", "--format", "{{.Server.Version}}").strip()


# -- the command line -------------------------------------------------------------------


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_cli_prints_settings_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "ecr_tasks.standin", "--no-engine", "--workdir", str(tmp_path)]
    with subprocess.Popen(
        argv, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not lines or lines[-1].strip() != "" or "# shell\n" not in lines:
            line = proc.stdout.readline()
            if not line or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                unavailable(f"the stand-in CLI did not start: {err.strip()}")
            lines.append(line)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)

    text = "".join(lines)
    assert proc.returncode == 0, err
    assert "ecr:\n  registry: 127.0.0.1:" in text
    assert 'account: "123456789012"' in text
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in text
    registry = text.split("export INVOKE_ECR_REGISTRY=", 1)[1].split()[0]
    assert http_request(port_of(registry), "GET", "/v2/") is None  # stopped


def test_cli_fails_with_one_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "ecr_tasks.standin", "--no-engine", "--workdir", str(not_a_dir)],
        env=cli_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ecr-standin: cannot use work dir")


def test_a_missing_part_is_one_clear_line_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker-registry on it
    own = Stack(tmp_path / "work", start_engine=False)

    with pytest.raises(
        StandinError, match=r"^docker-registry not found: apt-get install"
    ) as caught:
        own.start()

    assert caught.value.part == "registry"
    assert processes_mentioning(str(tmp_path)) == []  # the API it had launched is gone
    assert "\n" not in str(caught.value)
