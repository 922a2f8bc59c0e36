"""``inv doctor``: each check with fakes and files in tmp_path, the output and
the exit code; then end to end against the local stack."""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_no_issued_password, docker, inv, make_image, project_dir, token_files
from helpers import ACCOUNT, REGION, make_context, write_aws_files
from invoke.exceptions import Exit

from ecr_tasks import doctor as doctor_module
from ecr_tasks import ns
from ecr_tasks.authfile import path as auth_file
from ecr_tasks.cache import NullCache, Token, TokenCache
from ecr_tasks.doctor import (
    ASCII_MARKS,
    FAIL,
    MARKS,
    OK,
    SKIP,
    Check,
    account_of_arn,
    check_credentials,
    check_engine,
    check_logins,
    check_region,
    check_registry,
    check_repository,
    check_token_cache,
    diagnose,
    exit_code,
    format_checks,
    marks_for,
    password_expiry,
    password_of,
    region_source,
)
from ecr_tasks.errors import AwsError, ConfigError, RepositoryNotFound
from ecr_tasks.settings import Settings
from tests.helpers import read_cache_entry

ARN = f"arn:aws:iam::{ACCOUNT}:user/dev"
HOST = "127.0.0.1:5000"
SECRET = "pw-s3cret-never-shown"
DASH = MARKS[SKIP]  # an en dash, which ruff would flag in a literal


# -- fakes ---------------------------------------------------------------------


class FakeRun:
    """Answers engine commands from a table ``{argv[1]: CompletedProcess or exception}``;
    ``installed`` answers ``--version``, by default as an engine that is there."""

    def __init__(self, **answers: Any) -> None:
        self.answers = {"installed": done("Docker version 27.5.1, build 9f9e405\n"), **answers}
        self.calls: list[list[str]] = []

    def __call__(self, argv: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        answer = self.answers["installed" if argv[1] == "--version" else argv[1]]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def done(stdout: str = "", stderr: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, stdout, stderr)


HEALTHY = FakeRun(version=done("27.5.1\n"), info=done("27.5.1\n"))


class FakeAws:
    """The two calls doctor makes, answering or failing as told."""

    def __init__(self, arn: str | Exception = ARN, repo: dict | Exception | None = None) -> None:
        self.arn = arn
        self.repo = {"repositoryName": "my-app"} if repo is None else repo
        self.calls: list[tuple] = []

    def caller_arn(self, region: str) -> str:
        self.calls.append(("caller_arn", region))
        if isinstance(self.arn, Exception):
            raise self.arn
        return self.arn

    def describe_repository(self, region: str, account: str | None, repo: str) -> dict:
        self.calls.append(("describe_repository", region, account, repo))
        if isinstance(self.repo, Exception):
            raise self.repo
        return self.repo


class Registry(http.server.BaseHTTPRequestHandler):
    """Answers GET /v2/ with the status the server was given."""

    def do_GET(self) -> None:
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry_stub() -> Iterator[Any]:
    """A loopback HTTP server; set ``.status`` to what /v2/ answers."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    server.status = 401  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def stub_host(server: Any) -> str:
    return f"127.0.0.1:{server.server_address[1]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- output ------------------------------------------------------------------


def test_lines_align_labels_and_show_hints_and_warnings() -> None:
    lines = format_checks(
        [
            Check("engine", OK, "Docker version 27"),
            Check("engine daemon", FAIL, "not reachable", "start it"),
            Check("repository", SKIP, "no repository set"),
            Check("credential store", OK, "plain base64 in config.json", "use a helper"),
        ]
    )
    assert lines == [
        "✓ engine            Docker version 27",
        "✗ engine daemon     not reachable  hint: start it",
        f"{DASH} repository        no repository set",
        "✓ credential store  plain base64 in config.json  warning: use a helper",
    ]


def test_ascii_marks() -> None:
    lines = format_checks([Check("a", OK, "x"), Check("b", FAIL, "y"), Check("c", SKIP, "z")],
                          ASCII_MARKS)  # fmt: skip
    assert [line[0] for line in lines] == ["+", "x", "-"]
    assert all(line.isascii() for line in lines)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        pytest.param("utf-8", MARKS, id="utf-8"),
        pytest.param("ascii", ASCII_MARKS, id="ascii"),
        pytest.param("latin-1", ASCII_MARKS, id="latin-1-has-no-check-mark"),
        pytest.param("cp1252", ASCII_MARKS, id="cp1252"),
    ],
)
def test_marks_follow_what_the_stream_can_encode(encoding: str, expected: dict) -> None:
    assert marks_for(io.TextIOWrapper(io.BytesIO(), encoding=encoding)) == expected


def test_marks_for_a_stream_without_encoding_are_ascii() -> None:
    assert marks_for(object()) == ASCII_MARKS


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        pytest.param([OK, OK], 0, id="all-pass"),
        pytest.param([OK, SKIP, SKIP], 0, id="skips-do-not-fail"),
        pytest.param([OK, FAIL, SKIP], 1, id="one-failure"),
        pytest.param([], 0, id="nothing"),
    ],
)
def test_exit_code(statuses: list, code: int) -> None:
    assert exit_code([Check("c", status, "") for status in statuses]) == code


# -- the engine --------------------------------------------------------------


def test_engine_installed() -> None:
    run = FakeRun(installed=done("Docker version 27.5.1, build 9f9e405\n"), version=done("27\n"))
    check, _ = check_engine("docker", run, {})
    assert check == Check("engine", OK, "Docker version 27.5.1, build 9f9e405")
    assert run.calls[0] == ["docker", "--version"]


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        pytest.param(FileNotFoundError(), "podman not found on PATH", id="missing"),
        pytest.param(subprocess.TimeoutExpired("podman", 8), "in 8 s", id="hangs"),
        pytest.param(PermissionError(13, "Permission denied"), "Permission denied", id="no-exec"),
        pytest.param(done(stderr="boom\n", code=2), "failed: boom", id="fails"),
    ],
)
def test_engine_not_installed(answer: Any, detail: str) -> None:
    run = FakeRun(installed=answer)
    check, daemon = check_engine("podman", run, {})
    assert check.status == FAIL
    assert detail in check.detail
    assert "ecr.engine" in check.hint
    assert daemon == Check("engine daemon", SKIP, "needs podman installed")
    assert len(run.calls) == 1


def test_daemon_reachable_names_where() -> None:
    run = FakeRun(version=done("24.0.7\n"))
    _, check = check_engine("docker", run, {"DOCKER_HOST": "unix:///run/d.sock"})
    assert check == Check(
        "engine daemon", OK, "docker server 24.0.7 at DOCKER_HOST=unix:///run/d.sock"
    )
    assert run.calls[1:] == [["docker", "version", "--format", "{{.Server.Version}}"]]


def test_daemon_down_fails_with_hint() -> None:
    stderr = (
        "Client: Docker Engine\n"
        "Cannot connect to the Docker daemon at unix:///nope.sock. Is the docker daemon running?\n"
    )
    _, check = check_engine("docker", FakeRun(version=done(stderr=stderr, code=1)),
                            {"DOCKER_HOST": "unix:///nope.sock"})  # fmt: skip
    assert check.status == FAIL
    assert "DOCKER_HOST=unix:///nope.sock" in check.detail
    assert "Cannot connect to the Docker daemon" in check.detail
    assert "start the docker daemon" in check.hint


def test_daemon_that_hangs_is_cut_short() -> None:
    run = FakeRun(version=subprocess.TimeoutExpired("docker", 8))
    _, check = check_engine("docker", run, {"DOCKER_HOST": "tcp://10.0.0.1:2375"})
    assert check.status == FAIL
    assert "no answer from DOCKER_HOST=tcp://10.0.0.1:2375" in check.detail


def test_podman_daemon_probe() -> None:
    run = FakeRun(info=done("5.0.2\n"))
    _, check = check_engine("podman", run, {})
    assert check.status == OK
    assert run.calls[1:] == [["podman", "info", "--format", "{{.Version.Version}}"]]


def test_subprocess_probe_has_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.update(kwargs)
        return done()

    monkeypatch.setattr(doctor_module.subprocess, "run", fake_run)
    doctor_module.run_probe(["docker", "info"])
    assert seen["timeout"] == doctor_module.PROBE_TIMEOUT
    assert seen["capture_output"] is True


# -- region and AWS ----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "flag", "environ", "expected"),
    [
        pytest.param({"region": "eu-west-1"}, "us-east-1", {}, "--region", id="flag"),
        pytest.param(
            {"region": "eu-west-1"}, None, {"INVOKE_ECR_REGION": "eu-west-1"},
            "INVOKE_ECR_REGION", id="invoke-env",
        ),
        pytest.param(
            {"region": "eu-west-1"}, None, {"AWS_REGION": "us-east-1"},
            "ecr.region in the invoke config", id="invoke-yaml",
        ),
        pytest.param(
            {}, None, {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "x"},
            "AWS_REGION", id="AWS_REGION",
        ),
        pytest.param({}, None, {"AWS_DEFAULT_REGION": "x"}, "AWS_DEFAULT_REGION", id="default"),
        pytest.param(
            {}, None, {"AWS_PROFILE": "dev", "AWS_CONFIG_FILE": "/cfg"},
            "profile dev in /cfg", id="profile",
        ),
    ],
)  # fmt: skip
def test_region_source(config: dict, flag: Any, environ: dict, expected: str) -> None:
    assert region_source(config, flag, None, environ) == expected


def test_region_set_and_missing() -> None:
    assert check_region(Settings(regions=["eu-west-1"]), "AWS_REGION") == Check(
        "region", OK, "eu-west-1 (from AWS_REGION)"
    )
    missing = check_region(Settings(), "")
    assert missing.status == FAIL
    assert "--region" in missing.hint


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        pytest.param(ARN, ACCOUNT, id="user"),
        pytest.param(f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", ACCOUNT, id="role"),
        pytest.param("not-an-arn", None, id="junk"),
    ],
)
def test_account_of_arn(arn: str, account: str | None) -> None:
    assert account_of_arn(arn) == account


def test_credentials_name_the_principal() -> None:
    aws = FakeAws()
    check, account = check_credentials(aws, REGION, "dev")
    assert check == Check("AWS credentials", OK, f"{ARN} (profile dev)")
    assert account == ACCOUNT
    assert aws.calls == [("caller_arn", REGION)]


@pytest.mark.parametrize(
    ("error", "hinted"),
    [
        pytest.param(ConfigError("no AWS credentials found: run `aws configure`"), False,
                     id="none-says-what-to-do"),
        pytest.param(AwsError("access denied to GetCallerIdentity"), True, id="denied"),
    ],
)  # fmt: skip
def test_credentials_failing(error: Exception, hinted: bool) -> None:
    check, account = check_credentials(FakeAws(arn=error), REGION, None)
    assert check.status == FAIL
    assert check.detail == str(error)
    assert bool(check.hint) is hinted
    assert account is None


def test_repository_exists() -> None:
    aws = FakeAws(repo={"repositoryName": "my-app", "imageTagMutability": "IMMUTABLE"})
    check = check_repository(aws, REGION, ACCOUNT, "my-app")
    assert check == Check("repository", OK, "my-app exists (immutable tags)")
    assert aws.calls == [("describe_repository", REGION, ACCOUNT, "my-app")]


def test_repository_missing_suggests_create() -> None:
    aws = FakeAws(repo=RepositoryNotFound("repository 'my-app' not found"))
    check = check_repository(aws, REGION, None, "my-app")
    assert check.status == FAIL
    assert "--create" in check.hint


def test_repository_other_failure() -> None:
    aws = FakeAws(repo=AwsError("access denied to DescribeRepositories"))
    check = check_repository(aws, REGION, None, "my-app")
    assert check.status == FAIL
    assert check.detail == "access denied to DescribeRepositories"


# -- the registry ------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 200])
def test_registry_reachable(registry_stub: Any, status: int) -> None:
    registry_stub.status = status
    check = check_registry(stub_host(registry_stub), "ecr.registry")
    assert check.status == OK
    assert f"(ecr.registry) answers GET /v2/ (HTTP {status})" in check.detail


def test_registry_that_is_not_one(registry_stub: Any) -> None:
    registry_stub.status = 404
    check = check_registry(stub_host(registry_stub))
    assert check.status == FAIL
    assert "HTTP 404" in check.detail


def test_registry_unreachable() -> None:
    check = check_registry(f"127.0.0.1:{free_port()}", "ecr.registry", timeout=2)
    assert check.status == FAIL
    assert "unreachable" in check.detail
    assert "ecr.registry" in check.hint


# -- the token cache ---------------------------------------------------------

NOW = 1_700_000_000.0
KEY = "k" * 64


def cached(tmp_path: Path, issued: float, expires: float) -> TokenCache:
    cache = TokenCache(tmp_path / "cache")
    cache.put(KEY, Token(HOST, "AWS", SECRET, expires_at=expires, issued_at=issued))
    return cache


@pytest.mark.parametrize(
    ("issued", "expires", "state"),
    [
        pytest.param(NOW - 3600, NOW + 39600, "fresh until", id="fresh"),
        pytest.param(NOW - 30000, NOW + 13200, "stale since", id="stale-past-half-life"),
        pytest.param(NOW - 50000, NOW - 6800, "expired at", id="expired"),
    ],
)
def test_token_cache_states(tmp_path: Path, issued: float, expires: float, state: str) -> None:
    check = check_token_cache(cached(tmp_path, issued, expires), KEY, now=NOW)
    assert check.status == OK
    assert check.detail.startswith(state)
    assert SECRET not in check.detail


def test_fresh_until_is_half_the_token_life(tmp_path: Path) -> None:
    check = check_token_cache(cached(tmp_path, NOW, NOW + 43200), KEY, now=NOW)
    assert time.strftime("%Y-%m-%d %H:%M", time.localtime(NOW + 21600)) in check.detail


def test_token_cache_empty(tmp_path: Path) -> None:
    check = check_token_cache(TokenCache(tmp_path / "cache"), KEY, now=NOW)
    assert check.status == OK
    assert check.detail.startswith("no token cached")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="junk"),
        pytest.param(f"ecr-tasks token cache 99\nkey={KEY}\nissued_at=1\nexpires_at=2\n",
                     id="other-format"),
    ],
)  # fmt: skip
def test_token_cache_unreadable(tmp_path: Path, content: str) -> None:
    cache = TokenCache(tmp_path)
    (tmp_path / f"{KEY}.token").write_text(content)
    check = check_token_cache(cache, KEY, now=NOW)
    assert check.status == OK
    assert check.detail.startswith("unreadable")


def test_token_cache_disabled() -> None:
    check = check_token_cache(NullCache(), KEY)
    assert check.status == SKIP
    assert "disabled" in check.detail


# -- where credentials are stored --------------------------------------------


@pytest.mark.parametrize(
    ("engine", "environ", "expected"),
    [
        pytest.param("docker", {"DOCKER_CONFIG": "/d"}, "/d/config.json", id="DOCKER_CONFIG"),
        pytest.param("nerdctl", {"DOCKER_CONFIG": "/d"}, "/d/config.json", id="nerdctl"),
        pytest.param("podman", {"REGISTRY_AUTH_FILE": "/a.json", "XDG_RUNTIME_DIR": "/r"},
                     "/a.json", id="REGISTRY_AUTH_FILE"),
        pytest.param("podman", {"XDG_RUNTIME_DIR": "/r"}, "/r/containers/auth.json",
                     id="XDG_RUNTIME_DIR"),
        # podman 4 logs in to $DOCKER_CONFIG/config.json when DOCKER_CONFIG is set.
        pytest.param("podman", {"DOCKER_CONFIG": "/d", "XDG_RUNTIME_DIR": "/r"},
                     "/d/config.json", id="podman-DOCKER_CONFIG"),
        pytest.param("podman", {"DOCKER_CONFIG": "/d", "REGISTRY_AUTH_FILE": "/a.json"},
                     "/a.json", id="podman-REGISTRY_AUTH_FILE-first"),
    ],
)  # fmt: skip
def test_auth_file(engine: str, environ: dict, expected: str) -> None:
    assert auth_file(engine, environ) == Path(expected)


def test_podman_auth_file_without_a_runtime_dir() -> None:
    assert auth_file("podman", {}) == Path(f"/run/containers/{os.getuid()}/auth.json")


def test_auth_file_default_is_in_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert auth_file("docker", {}) == tmp_path / ".docker" / "config.json"


def write_config(directory: Path, data: dict, mode: int = 0o600) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(data))
    path.chmod(mode)
    return {"DOCKER_CONFIG": str(directory)}


def plain(host: str = HOST) -> dict:
    return {host: {"auth": base64.b64encode(f"AWS:{SECRET}".encode()).decode()}}


def have(*helpers: str) -> Any:
    return lambda name: f"/usr/bin/{name}" if name in helpers else None


def shown(check: Check) -> str:
    return format_checks([check])[0]


def login_lines(engine: str, host: str | None, environ: dict, which: Any, **kw: Any) -> list[Check]:
    """check_logins with a token cache of the test's own (an empty one unless told)."""
    environ = {"XDG_CACHE_HOME": str(Path(environ.get("DOCKER_CONFIG", "/nonexistent")) / "cache"),
               **environ}  # fmt: skip
    return check_logins(engine, host, environ, which, **kw)


def store_line(engine: str, host: str, environ: dict, which: Any) -> Check:
    """The ``credential store`` line: where ``host``'s login lives."""
    return next(
        c for c in login_lines(engine, host, environ, which) if c.label == "credential store"
    )


def logins_line(engine: str, environ: dict, which: Any) -> Check:
    """The ``engine logins`` line: every registry in the file."""
    [line] = [c for c in login_lines(engine, None, environ, which) if c.label == "engine logins"]
    return line


def test_plain_file_is_a_warning_that_never_shows_the_secret(tmp_path: Path) -> None:
    environ = write_config(tmp_path / "docker", {"auths": plain()})
    check = store_line("docker", HOST, environ, have())
    assert check.status == OK
    assert check.detail.startswith("plain base64 in ")
    assert "anyone who can read that file can use the token" in check.hint
    line = shown(check)
    assert SECRET not in line
    assert base64.b64encode(f"AWS:{SECRET}".encode()).decode() not in line


def test_plain_file_readable_by_others_says_so(tmp_path: Path) -> None:
    environ = write_config(tmp_path / "docker", {"auths": plain()}, mode=0o644)
    check = store_line("docker", HOST, environ, have())
    assert "mode 644: other users can read it" in check.detail


@pytest.mark.parametrize("key", [f"https://{HOST}", f"http://{HOST}/v1/", HOST.upper()])
def test_auths_keys_in_any_spelling(tmp_path: Path, key: str) -> None:
    environ = write_config(tmp_path / "docker", {"auths": plain(key)})
    assert store_line("docker", HOST, environ, have()).detail.startswith("plain")


def test_creds_store_with_its_helper(tmp_path: Path) -> None:
    # Docker leaves an empty {} under auths when a helper holds the secret.
    environ = write_config(tmp_path / "docker", {"auths": {HOST: {}}, "credsStore": "pass"})
    check = store_line("docker", HOST, environ, have("docker-credential-pass"))
    assert check.status == OK
    assert check.detail.startswith("docker-credential-pass (credsStore in ")
    assert not check.hint


def test_cred_helpers_entry_for_this_registry_wins(tmp_path: Path) -> None:
    data = {"credsStore": "desktop", "credHelpers": {HOST: "ecr-login", "other.io": "gcr"}}
    environ = write_config(tmp_path / "docker", data)
    check = store_line("docker", HOST, environ, have("docker-credential-ecr-login"))
    assert check.status == OK
    assert check.detail.startswith("docker-credential-ecr-login (credHelpers")


def test_helper_not_installed_fails(tmp_path: Path) -> None:
    environ = write_config(tmp_path / "docker", {"credsStore": "secretservice"})
    check = store_line("docker", HOST, environ, have())
    assert check.status == FAIL
    assert "docker-credential-secretservice is not on PATH" in check.detail
    assert "install docker-credential-secretservice" in check.hint


def test_helper_with_a_plain_entry_left_over(tmp_path: Path) -> None:
    environ = write_config(tmp_path / "docker", {"auths": plain(), "credsStore": "pass"})
    lines = login_lines("docker", HOST, environ, have("docker-credential-pass"))
    assert [c.label for c in lines] == ["credential store", "engine logins", "stored login"]
    assert lines[0] == Check("credential store", OK, f"docker-credential-pass (credsStore in "
                             f"{tmp_path / 'docker' / 'config.json'})")  # fmt: skip
    assert lines[2].status == OK
    assert lines[2].detail.startswith(f"auths[{HOST}] holds a password the engine ignores")
    assert f"delete auths[{HOST}]" in lines[2].hint
    assert SECRET not in "\n".join(format_checks(lines))


def test_other_registries_do_not_count(tmp_path: Path) -> None:
    environ = write_config(tmp_path / "docker", {"auths": plain("ghcr.io")})
    check = store_line("docker", HOST, environ, have())
    assert check.status == OK
    assert check.detail.startswith(f"no login for {HOST}")


def test_engine_logins_lists_helpers_and_plain_passwords(tmp_path: Path) -> None:
    data = {
        "auths": {**plain(), **plain("ghcr.io"), **plain(ECR_HOST), "quay.io": {}},
        "credHelpers": {HOST: "ecr-tasks", "gcr.io": "gcloud"},
    }
    environ = write_config(tmp_path / "docker", data)
    programs = have("docker-credential-ecr-tasks", "docker-credential-gcloud")
    check = logins_line("docker", environ, programs)
    assert check.status == OK
    # The helper answers for HOST, so its leftover auths entry is not in use.
    assert check.detail.startswith(
        f"ecr-tasks helper for {HOST}; gcloud helper for gcr.io; "
        f"plain passwords for {ECR_HOST}, ghcr.io ("
    )
    assert "inv login --helper" in check.hint
    assert SECRET not in shown(check)


def test_engine_logins_recommends_no_helper_where_it_cannot_answer(tmp_path: Path) -> None:
    # The stand-in's default mode (ecr.registry 127.0.0.1:...) and other
    # registries: plain passwords, but --helper serves ECR's own names only.
    environ = write_config(tmp_path / "docker", {"auths": {**plain(), **plain("ghcr.io")}})
    check = logins_line("docker", environ, have())
    assert check.status == OK
    assert "--helper" not in check.hint
    assert "--helper" not in " ".join(c.hint for c in login_lines("docker", HOST, environ, have()))


def test_engine_logins_fails_on_a_helper_program_that_is_missing(tmp_path: Path) -> None:
    data = {"credsStore": "desktop", "credHelpers": {HOST: "ecr-tasks"}}
    environ = write_config(tmp_path / "docker", data)
    check = logins_line("docker", environ, have("docker-credential-ecr-tasks"))
    assert check.status == FAIL
    assert "docker-credential-desktop (for every other registry)" in check.detail
    assert "executable file not found" in check.hint
    broken = logins_line("docker", environ, have("docker-credential-desktop"))
    assert f"docker-credential-ecr-tasks (for {HOST})" in broken.detail


def test_engine_logins_with_nothing_stored(tmp_path: Path) -> None:
    check = logins_line("docker", {"DOCKER_CONFIG": str(tmp_path)}, have())
    nothing = f"no {tmp_path / 'config.json'} yet: a login writes it, in plain base64 unless "
    assert (check.status, check.detail) == (OK, nothing + "credsStore is set")
    environ = write_config(tmp_path / "docker", {"auths": {}})
    assert logins_line("docker", environ, have()).detail.startswith("nothing stored (")


def test_no_config_file_yet(tmp_path: Path) -> None:
    check = store_line("docker", HOST, {"DOCKER_CONFIG": str(tmp_path)}, have())
    assert check.status == OK
    assert check.detail.startswith("no ")


@pytest.mark.parametrize("content", ["{broken", "[1, 2]"])
def test_config_file_that_is_not_json(tmp_path: Path, content: str) -> None:
    (tmp_path / "config.json").write_text(content)
    check = store_line("docker", HOST, {"DOCKER_CONFIG": str(tmp_path)}, have())
    assert check.status == FAIL
    assert "fix or remove" in check.hint


def test_podman_auth_file(tmp_path: Path) -> None:
    auth = tmp_path / "auth.json"
    # Podman scopes entries by repository as well as by host.
    auth.write_text(json.dumps({"auths": plain(f"{HOST}/team/app")}))
    auth.chmod(0o600)
    check = store_line("podman", HOST, {"REGISTRY_AUTH_FILE": str(auth)}, have())
    assert check.detail == f"plain base64 in {auth}"


# -- all checks together -------------------------------------------------------


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """An environment of our own: AWS files, a cache and a Docker config in tmp_path."""
    env = write_aws_files(tmp_path / "aws")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.update(write_config(tmp_path / "docker", {"auths": plain()}))
    return env


def labels(checks: list[Check]) -> list[tuple[str, str]]:
    return [(c.label, c.status) for c in checks]


def test_diagnose_all_passing(environ: dict, registry_stub: Any) -> None:
    host = stub_host(registry_stub)
    environ.update(write_config(Path(environ["DOCKER_CONFIG"]), {"auths": plain(host)}))
    aws = FakeAws()
    checks = diagnose(
        {"registry": host, "region": REGION}, repo="my-app", environ=environ, run=HEALTHY, aws=aws
    )
    assert labels(checks) == [
        ("settings", OK),
        ("engine", OK),
        ("engine daemon", OK),
        ("region", OK),
        ("AWS credentials", OK),
        ("registry", OK),
        ("repository", OK),
        ("token cache", OK),
        ("credential store", OK),
        ("engine logins", OK),
    ]
    assert exit_code(checks) == 0
    assert aws.calls == [("caller_arn", REGION), ("describe_repository", REGION, None, "my-app")]


def test_diagnose_names_the_computed_registry_from_the_callers_account(environ: dict) -> None:
    checks = diagnose({"region": REGION}, environ=environ, run=HEALTHY, aws=FakeAws(),
                      )  # fmt: skip
    host = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    store = next(c for c in checks if c.label == "credential store")
    assert host in store.detail
    registry = next(c for c in checks if c.label == "registry")
    assert host in registry.detail


def test_diagnose_without_credentials_skips_what_needs_them(environ: dict) -> None:
    aws = FakeAws(arn=ConfigError("no AWS credentials found"))
    checks = diagnose({"region": REGION, "registry": f"127.0.0.1:{free_port()}"}, repo="my-app",
                      environ=environ, run=HEALTHY, aws=aws)  # fmt: skip
    assert ("AWS credentials", FAIL) in labels(checks)
    assert ("repository", SKIP) in labels(checks)
    assert exit_code(checks) == 1


def test_diagnose_without_region(environ: dict) -> None:
    environ["AWS_PROFILE"] = "noregion"
    checks = diagnose({}, environ=environ, run=HEALTHY, aws=FakeAws())
    assert labels(checks)[3:] == [
        ("region", FAIL),
        ("AWS credentials", SKIP),
        ("registry", SKIP),
        ("repository", SKIP),
        ("token cache", SKIP),
        ("credential store", SKIP),
        ("engine logins", OK),
    ]


def test_diagnose_with_bad_settings_still_checks_the_engine(environ: dict) -> None:
    checks = diagnose({"region": "mars-1"}, environ=environ, run=HEALTHY, aws=FakeAws(),
                      )  # fmt: skip
    assert checks[0].status == FAIL
    assert "mars-1" in checks[0].detail
    assert labels(checks)[1:3] == [("engine", OK), ("engine daemon", OK)]
    assert {status for _, status in labels(checks)[3:-1]} == {SKIP}
    assert labels(checks)[-1] == ("engine logins", OK)  # needs only the engine


def test_diagnose_without_the_engine_skips_the_daemon(environ: dict) -> None:
    run = FakeRun(installed=FileNotFoundError())
    checks = diagnose({"region": REGION}, environ=environ, run=run, aws=FakeAws(),
                      )  # fmt: skip
    assert labels(checks)[1:3] == [("engine", FAIL), ("engine daemon", SKIP)]
    assert len(run.calls) == 1


# -- stored logins: expiry, region and shadowed passwords --------------------

ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def ecr_password(expiration: float) -> str:
    """A password shaped like ECR's: base64 of a JSON document with its expiry."""
    document = {
        "payload": base64.b64encode(os.urandom(600)).decode(),
        "datakey": base64.b64encode(os.urandom(120)).decode(),
        "version": "2",
        "type": "DATA_KEY",
        "expiration": int(expiration),
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def login_of(host: str, password: str) -> dict:
    return {host: {"auth": base64.b64encode(f"AWS:{password}".encode()).decode()}}


def assert_no_part_of(password: str, lines: list[Check]) -> None:
    """Neither the password, nor its ``auth`` form, nor any 12 characters of either."""
    text = "\n".join(format_checks(lines))
    for form in (password, base64.b64encode(f"AWS:{password}".encode()).decode()):
        for start in range(0, len(form) - 12, 6):
            assert form[start : start + 12] not in text, "a part of the password is shown"


def stored(lines: list[Check]) -> list[Check]:
    return [c for c in lines if c.label == "stored login"]


def naming_the(host: str, lines: list[Check]) -> list[str]:
    return [line for line in format_checks(lines) if host in line]


def test_expired_stored_ecr_login_is_one_line_with_the_command(tmp_path: Path) -> None:
    password = ecr_password(NOW - 3600)
    environ = write_config(tmp_path / "docker", {"auths": login_of(ECR_HOST, password)})
    lines = login_lines("docker", None, environ, have(), now=NOW)
    [check] = stored(lines)
    assert naming_the(ECR_HOST, [check])
    assert check.status == FAIL
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(NOW - 3600))
    assert check.detail.startswith(f"stored login for {ECR_HOST} expired at {when}")
    assert check.hint == f"`inv login --registry {ECR_HOST}` renews it"
    assert exit_code(lines) == 1
    assert_no_part_of(password, lines)


def test_stored_login_that_expires_soon_is_a_warning(tmp_path: Path) -> None:
    password = ecr_password(NOW + 25 * 60 + 30)
    environ = write_config(
        tmp_path / "docker", {"auths": login_of(f"https://{ECR_HOST}", password)}
    )
    [check] = stored(login_lines("docker", ECR_HOST, environ, have(), now=NOW))
    assert (check.status, check.detail) == (OK, f"stored login for {ECR_HOST} expires in 25 min")
    assert check.hint == "`inv login` renews it"  # this registry: the plain login
    assert shown(check).endswith("warning: `inv login` renews it")


def test_a_clean_config_gives_no_new_lines(tmp_path: Path) -> None:
    password = ecr_password(NOW + 11 * 3600)
    data = {"auths": {**login_of(ECR_HOST, password), **plain("ghcr.io")}}
    environ = write_config(tmp_path / "docker", data)
    lines = login_lines("docker", ECR_HOST, environ, have(), now=NOW)
    assert [c.label for c in lines] == ["credential store", "engine logins"]
    assert exit_code(lines) == 0


def test_expiry_comes_from_our_token_cache_when_the_login_was_ours(tmp_path: Path) -> None:
    # Not shaped like ECR's: only the cache can tell when it expires.
    environ = write_config(tmp_path / "docker", {"auths": plain()})
    environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    cache = TokenCache(tmp_path / "xdg" / "ecr-tasks")
    cache.put(KEY, Token(ECR_HOST, "AWS", SECRET, expires_at=NOW - 60, issued_at=NOW - 43260))
    [check] = stored(login_lines("docker", HOST, environ, have(), now=NOW))
    assert check.status == FAIL
    assert check.detail.startswith(f"stored login for {HOST} expired at ")
    assert check.hint == "`inv login` renews it"
    assert_no_part_of(SECRET, [check])


def test_the_token_cache_wins_over_the_password(tmp_path: Path) -> None:
    password = ecr_password(NOW - 10)  # the document says expired...
    environ = write_config(tmp_path / "docker", {"auths": login_of(ECR_HOST, password)})
    environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    cache = TokenCache(tmp_path / "xdg" / "ecr-tasks")
    # ...but the login was ours, and our cache holds when AWS said it expires.
    cache.put(KEY, Token(ECR_HOST, "AWS", password, expires_at=NOW + 9000, issued_at=NOW - 100))
    assert stored(login_lines("docker", None, environ, have(), now=NOW)) == []


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(SECRET, id="opaque"),
        pytest.param(base64.b64encode(b'{"expiration": "soon"}').decode(), id="not-a-number"),
        pytest.param(base64.b64encode(b'["expiration"]').decode(), id="not-an-object"),
        pytest.param(base64.b64encode(b'{"expiration": true}').decode(), id="a-boolean"),
    ],
)
def test_a_password_that_does_not_say_gives_no_line(tmp_path: Path, password: str) -> None:
    environ = write_config(tmp_path / "docker", {"auths": login_of(ECR_HOST, password)})
    assert stored(login_lines("docker", None, environ, have(), now=NOW)) == []


def test_other_registries_logins_are_not_read(tmp_path: Path) -> None:
    data = {"auths": {**login_of("ghcr.io", ecr_password(NOW - 5)), **plain("quay.io")}}
    environ = write_config(tmp_path / "docker", data)
    assert stored(login_lines("docker", ECR_HOST, environ, have(), now=NOW)) == []


def test_a_token_for_another_region(tmp_path: Path) -> None:
    other = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    environ = write_config(tmp_path / "docker", {"auths": login_of(ECR_HOST, SECRET)})
    environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    cache = TokenCache(tmp_path / "xdg" / "ecr-tasks")
    cache.put(KEY, Token(other, "AWS", SECRET, expires_at=NOW + 40000, issued_at=NOW - 3000))
    lines = login_lines("docker", None, environ, have(), now=NOW)
    [check] = stored(lines)
    assert check.status == FAIL
    assert check.detail == f"stored login for {ECR_HOST} holds a token for us-east-1, not {REGION}"
    assert check.hint == f"`inv login --registry {ECR_HOST}` renews it"
    assert_no_part_of(SECRET, lines)


@pytest.mark.parametrize(
    ("helpers", "program"),
    [
        pytest.param({"credHelpers": {ECR_HOST: "ecr-login"}}, "ecr-login", id="credHelpers"),
        pytest.param({"credsStore": "pass"}, "pass", id="credsStore"),
    ],
)
def test_an_auths_password_shadowed_by_a_helper(
    tmp_path: Path, helpers: dict, program: str
) -> None:
    password = ecr_password(NOW - 7200)  # expired too, but the engine never sends it
    environ = write_config(tmp_path / "docker", {"auths": login_of(ECR_HOST, password), **helpers})
    lines = login_lines("docker", None, environ, have(f"docker-credential-{program}"), now=NOW)
    [check] = stored(lines)
    assert naming_the(ECR_HOST, [check])
    assert check.status == OK
    assert check.detail == (
        f"auths[{ECR_HOST}] holds a password the engine ignores: it asks {program} instead"
    )
    assert check.hint == f"delete auths[{ECR_HOST}] from {tmp_path / 'docker' / 'config.json'}"
    assert exit_code(lines) == 0
    assert_no_part_of(password, lines)


def test_creds_store_naming_a_missing_program(tmp_path: Path) -> None:
    # As Docker leaves it after a login with credsStore: the host, no secret.
    environ = write_config(tmp_path / "docker", {"auths": {ECR_HOST: {}}, "credsStore": "desktop"})
    lines = login_lines("docker", ECR_HOST, environ, have(), now=NOW)
    [line] = naming_the(ECR_HOST, lines)
    assert line.startswith("✗ credential store")
    assert "docker-credential-desktop is not on PATH" in line
    assert "hint: install docker-credential-desktop or remove credsStore" in line
    logins = next(c for c in lines if c.label == "engine logins")
    assert logins.status == FAIL
    assert "docker-credential-desktop (for every other registry)" in logins.detail


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param({"auth": base64.b64encode(b"AWS:p:w").decode()}, "p:w", id="colon-in-it"),
        pytest.param({"auth": "%%%"}, "", id="not-base64"),
        pytest.param({"auth": base64.b64encode(b"\xff\xfe").decode()}, "", id="not-utf-8"),
        pytest.param({}, "", id="helper-entry"),
        pytest.param("junk", "", id="not-an-object"),
    ],
)
def test_password_of(entry: object, expected: str) -> None:
    assert password_of(entry) == expected


def test_password_expiry() -> None:
    assert password_expiry(ecr_password(NOW)) == NOW
    assert password_expiry(base64.b64encode(b'{"expiration": 1.5}').decode()) == 1.5
    assert password_expiry("not base64!") is None
    assert password_expiry(base64.b64encode(b"\xff").decode()) is None


def test_diagnose_reports_an_expired_login_for_the_computed_registry(environ: dict) -> None:
    data = {"auths": login_of(ECR_HOST, ecr_password(time.time() - 600))}
    environ.update(write_config(Path(environ["DOCKER_CONFIG"]), data))
    checks = diagnose({"region": REGION}, environ=environ, run=HEALTHY, aws=FakeAws())
    assert labels(checks)[-3:] == [
        ("credential store", OK), ("engine logins", OK), ("stored login", FAIL),
    ]  # fmt: skip
    assert checks[-1].hint == "`inv login` renews it"
    assert exit_code(checks) == 1


# -- the task ------------------------------------------------------------------


def test_doctor_is_in_the_collection() -> None:
    assert "doctor" in ns.task_names


def test_task_prints_one_line_per_check_and_exits_1_on_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def fake_diagnose(config: dict, **flags: Any) -> list[Check]:
        seen.update(config=config, flags=flags)
        return [Check("engine", OK, "fine"), Check("engine daemon", FAIL, "down", "start it")]

    monkeypatch.setattr(doctor_module, "diagnose", fake_diagnose)
    with pytest.raises(Exit) as raised:
        ns["doctor"](make_context(region=REGION), repo="my-app")
    assert raised.value.code == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[1].endswith("down  hint: start it")
    assert seen["config"]["region"] == REGION
    assert seen["flags"] == {"repo": "my-app", "region": None, "profile": None, "account": None}


def test_task_exits_0_when_nothing_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        doctor_module, "diagnose", lambda config, **flags: [Check("repository", SKIP, "no repo")]
    )
    ns["doctor"](make_context())
    assert capsys.readouterr().out == f"{DASH} repository  no repo\n"


def test_task_runs_nothing_under_dry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("doctor ran checks under --dry")

    monkeypatch.setattr(doctor_module, "diagnose", boom)
    ns["doctor"](make_context(dry=True))
    assert "--dry" in capsys.readouterr().out


# -- end to end ----------------------------------------------------------------


def ecr_tasks(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecr_tasks.cli", *args], cwd=cwd, env=env, text=True,
        capture_output=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.fixture
def doctor_env(stack: Any, user_env: dict[str, str]) -> dict[str, str]:
    env = dict(user_env)
    env["INVOKE_ECR_REGISTRY"] = stack.registry
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def create_repository(stack: Any, name: str) -> None:
    import boto3

    client = boto3.client(
        "ecr", region_name=stack.region, endpoint_url=stack.direct_api_url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    with contextlib.suppress(client.exceptions.RepositoryAlreadyExistsException):
        client.create_repository(repositoryName=name)


@pytest.mark.e2e
def test_doctor_after_login_is_all_green(
    stack: Any, doctor_env: dict[str, str], tmp_path: Path
) -> None:
    create_repository(stack, "doctor-app")
    logged_in = ecr_tasks(["login"], doctor_env, tmp_path)
    assert logged_in.returncode == 0, logged_in.stderr

    result = ecr_tasks(["doctor", "--repo", "doctor-app"], doctor_env, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [
        "settings", "engine", "engine", "region", "AWS", "registry", "repository", "token",
        "credential", "engine",
    ]  # fmt: skip
    assert all(line.startswith("✓ ") for line in lines), result.stdout
    by_label = {line[2:19].strip(): line for line in lines}
    assert f"arn:aws:sts::{stack.account}:" in by_label["AWS credentials"]
    assert f"{stack.registry} (ecr.registry) answers GET /v2/ (HTTP 401)" in by_label["registry"]
    assert "doctor-app exists" in by_label["repository"]
    assert "fresh until" in by_label["token cache"]
    assert "plain base64 in" in by_label["credential store"]
    assert stack.docker_config in by_label["credential store"]
    assert_no_issued_password(stack, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_doctor_with_the_engine_unreachable(
    stack: Any, doctor_env: dict[str, str], tmp_path: Path
) -> None:
    doctor_env["DOCKER_HOST"] = f"unix://{tmp_path}/missing/docker.sock"

    result = ecr_tasks(["doctor"], doctor_env, tmp_path)

    assert result.returncode == 1
    daemon = next(line for line in result.stdout.splitlines() if "engine daemon" in line)
    assert daemon.startswith("✗ engine daemon")
    assert f"DOCKER_HOST=unix://{tmp_path}/missing/docker.sock" in daemon
    assert "hint: start the docker daemon" in daemon
    assert not any(line.startswith("✗") for line in result.stdout.splitlines() if line != daemon)
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_doctor_with_a_missing_repository(
    stack: Any, doctor_env: dict[str, str], tmp_path: Path
) -> None:
    result = ecr_tasks(["doctor", "--repo", "never-created"], doctor_env, tmp_path)
    assert result.returncode == 1
    repository = next(line for line in result.stdout.splitlines() if " repository " in line)
    assert repository.startswith("✗ repository")
    assert "hint: push with --create" in repository


@pytest.mark.e2e
def test_doctor_on_an_ascii_terminal(
    stack: Any, doctor_env: dict[str, str], tmp_path: Path
) -> None:
    doctor_env["PYTHONIOENCODING"] = "ascii"
    result = ecr_tasks(["doctor"], doctor_env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.isascii()
    assert {line[0] for line in result.stdout.splitlines()} <= {"+", "-"}


@pytest.mark.e2e
def test_inv_doctor_from_a_project(stack: Any, user_env: dict[str, str], tmp_path: Path) -> None:
    project = project_dir(tmp_path, stack.registry)
    result = inv(["doctor"], project, {**user_env, "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"✓ registry          {stack.registry} (ecr.registry)" in result.stdout


@pytest.fixture
def own_config(doctor_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``doctor_env`` with a Docker config of the test's own, for logins it may spoil."""
    (tmp_path / "docker-config").mkdir()
    return {**doctor_env, "DOCKER_CONFIG": str(tmp_path / "docker-config")}


@pytest.mark.e2e
def test_doctor_finds_a_stored_login_that_expired(
    stack: Any, own_config: dict[str, str], tmp_path: Path
) -> None:
    create_repository(stack, "doctor-expiry")
    stack.set_token_ttl(3)
    try:
        logged_in = ecr_tasks(["login"], own_config, tmp_path)
    finally:
        stack.set_token_ttl(12 * 3600)
    assert logged_in.returncode == 0, logged_in.stderr
    [entry] = token_files(own_config)
    time.sleep(max(0.0, read_cache_entry(entry)["expires_at"] + 0.5 - time.time()))

    result = ecr_tasks(["doctor"], own_config, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    [failed] = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert failed.startswith(f"✗ stored login      stored login for {stack.registry} expired at ")
    assert failed.endswith("hint: `inv login` renews it")
    assert_no_issued_password(stack, result.stdout, result.stderr)

    # What the engine says meanwhile: the words the docs page quotes.
    image = f"{stack.registry}/doctor-expiry:v1"
    make_image(image, own_config, tmp_path)
    pushed = docker(["push", image], own_config, check=False)
    assert pushed.returncode != 0
    assert "denied: Your authorization token has expired. Reauthenticate and try again." in (
        pushed.stdout + pushed.stderr
    )

    renewed = ecr_tasks(["login"], own_config, tmp_path)
    assert renewed.returncode == 0, renewed.stderr
    again = ecr_tasks(["doctor"], own_config, tmp_path)
    assert again.returncode == 0, again.stdout
    assert "stored login" not in again.stdout


@pytest.mark.e2e
def test_doctor_finds_a_password_the_engine_ignores_for_a_helper(
    stack: Any, own_config: dict[str, str], tmp_path: Path
) -> None:
    create_repository(stack, "doctor-shadow")
    logged_in = ecr_tasks(["login"], own_config, tmp_path)
    assert logged_in.returncode == 0, logged_in.stderr
    # A helper that knows no host, as a helper for another registry would answer.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "docker-credential-elsewhere"
    program.write_text("#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n")
    program.chmod(0o755)
    own_config["PATH"] = f"{bin_dir}{os.pathsep}{own_config['PATH']}"
    config = Path(own_config["DOCKER_CONFIG"]) / "config.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "credHelpers": {stack.registry: "elsewhere"}}))

    result = ecr_tasks(["doctor"], own_config, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if " stored login " in line]
    assert line == (
        f"✓ stored login      auths[{stack.registry}] holds a password the engine ignores: "
        f"it asks elsewhere instead  warning: delete auths[{stack.registry}] from {config}"
    )
    assert_no_issued_password(stack, result.stdout, result.stderr)

    # The engine sends no password at all: the words the docs page quotes.
    image = f"{stack.registry}/doctor-shadow:v1"
    make_image(image, own_config, tmp_path)
    pushed = docker(["push", image], own_config, check=False)
    assert pushed.returncode != 0
    assert "no basic auth credentials" in pushed.stdout + pushed.stderr
