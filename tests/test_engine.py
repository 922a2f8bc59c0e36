"""The engine runner: quoting, error lines, push output, and a login whose
password travels on stdin only."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest
from helpers import DIGEST, OTHER_DIGEST, FakeEngineProcess, make_config, make_context
from invoke import Context, MockContext, Result

from ecr_tasks import engine
from ecr_tasks.errors import (
    AuthRejected,
    ConfigError,
    EcrTasksError,
    EngineError,
    ImageNotFound,
    RepositoryNotFound,
)

PASSWORD = "pw-s3cret-0123456789"
HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
REF = f"{HOST}/my-app:v1"


# -- command_line ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        pytest.param(["docker", "tag", "a:v1", "r/a:v1"], "docker tag a:v1 r/a:v1", id="plain"),
        pytest.param(["docker", "tag", "a b"], "docker tag 'a b'", id="space"),
        pytest.param(["echo", "$(id)"], "echo '$(id)'", id="subshell"),
        pytest.param(["echo", "`id`"], "echo '`id`'", id="backticks"),
        pytest.param(["echo", "a;rm -rf /"], "echo 'a;rm -rf /'", id="semicolon"),
        pytest.param(["echo", "a|b&c>d<e"], "echo 'a|b&c>d<e'", id="pipes-redirects"),
        pytest.param(["echo", "it's"], "echo 'it'\"'\"'s'", id="single-quote"),
        pytest.param(["echo", ""], "echo ''", id="empty"),
        pytest.param(["echo", "a\nb"], "echo 'a\nb'", id="newline"),
        pytest.param(["echo", "*"], "echo '*'", id="glob"),
    ],
)
def test_command_line_quotes_once(argv: list[str], line: str) -> None:
    assert engine.command_line(argv) == line
    assert shlex.split(engine.command_line(argv)) == argv


# -- classify ----------------------------------------------------------------------

DAEMON_DOWN = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?"
)
EXPIRED = (
    'Error response from daemon: Head "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    '/v2/my-app/manifests/v1": denied: Your authorization token has expired. '
    "Reauthenticate and try again."
)
NO_CREDS = (
    'Error response from daemon: Head "https://r/v2/a/manifests/v1": no basic auth credentials'
)
UNAUTHORIZED = "unauthorized: authentication required"
IMMUTABLE = (
    "tag invalid: The image tag 'v1' already exists in the 'my-app' repository and cannot "
    "be overwritten because the repository is immutable."
)
NO_REPO = (
    "name unknown: The repository with name 'my-app' does not exist in the registry "
    "with id '123456789012'"
)
NO_LOCAL_PUSH = f"An image does not exist locally with the tag: {REF}"
NO_LOCAL_TAG = "Error response from daemon: No such image: my-app:v1"
NO_MANIFEST = (
    "Error response from daemon: manifest for r/my-app:v9 not found: manifest unknown: "
    "Requested image not found"
)
UNREACHABLE = (
    'Error response from daemon: Get "https://127.0.0.1:5999/v2/": dial tcp '
    "127.0.0.1:5999: connect: connection refused"
)


@pytest.mark.parametrize(
    ("action", "stderr", "kind", "words"),
    [
        pytest.param("push", DAEMON_DOWN, EngineError, "daemon is not running", id="daemon-down"),
        pytest.param(
            "login",
            "error during connect: Post http://x/v1.24/auth",
            EngineError,
            "daemon is not running",
            id="daemon-connect",
        ),
        pytest.param("push", EXPIRED, AuthRejected, "rejected the credentials", id="expired"),
        pytest.param("pull", NO_CREDS, AuthRejected, "rejected the credentials", id="no-creds"),
        pytest.param("push", UNAUTHORIZED, AuthRejected, "rejected", id="unauthorized"),
        pytest.param(
            "push",
            "Error: stat /home/u/.docker-ci/config.json: no such file or directory",
            AuthRejected,
            "rejected",
            id="podman-missing-config-json",
        ),
        pytest.param("push", IMMUTABLE, EngineError, "immutable", id="immutable-tag"),
        pytest.param("push", NO_REPO, RepositoryNotFound, "repository for", id="repo-not-found"),
        pytest.param("pull", NO_REPO, RepositoryNotFound, "does not exist", id="pull-no-repo"),
        pytest.param("push", NO_LOCAL_PUSH, EngineError, "local image", id="no-local-image-push"),
        pytest.param("tag", NO_LOCAL_TAG, EngineError, "local image", id="no-local-image-tag"),
        pytest.param("pull", NO_MANIFEST, ImageNotFound, "not found in the registry", id="no-tag"),
        pytest.param("push", UNREACHABLE, EngineError, "unreachable", id="unreachable"),
        pytest.param(
            "pull", "lookup r.example: no such host", EngineError, "unreachable", id="dns"
        ),
        pytest.param("push", "something odd\n", EngineError, "failed: something odd", id="other"),
        pytest.param("push", "", EngineError, "no error output", id="silent"),
    ],
)
def test_classify(action: str, stderr: str, kind: type, words: str) -> None:
    noisy = f"Using default tag: latest\n{stderr}\n\n" if stderr else ""
    error = engine.classify("docker", action, noisy, REF)
    assert type(error) is kind
    assert words in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize("name", ["docker", "podman", "nerdctl", "finch"])
def test_missing_local_image_advice_names_the_engine_in_use(name: str) -> None:
    error = engine.classify(name, "tag", NO_LOCAL_TAG, "my-app:v1")
    assert str(error) == (
        f"local image my-app:v1 not found: build it first ({name} build -t my-app:v1 .) "
        "or pass --image"
    )


def test_a_pull_from_a_missing_repository_gives_no_push_advice() -> None:
    error = engine.classify("docker", "pull", NO_REPO, REF)
    assert str(error) == f"repository for {REF} does not exist in the registry"


def test_classify_keeps_the_last_line_and_redacts() -> None:
    stderr = f"first line\nsecond line with {PASSWORD} in it\n"
    error = engine.classify("podman", "login", stderr, HOST, (PASSWORD,))
    assert str(error) == f"podman login {HOST} failed: second line with *** in it"


def test_classify_auth_redacts_secret() -> None:
    error = engine.classify(
        "docker", "login", f"unauthorized: bad password {PASSWORD}", HOST, (PASSWORD,)
    )
    assert isinstance(error, AuthRejected)
    assert PASSWORD not in str(error)


def test_classify_caps_long_detail() -> None:
    error = engine.classify("docker", "push", "x" * 5000, REF)
    assert len(str(error)) < 400


# -- pushed_digests -------------------------------------------------------------------

PUSH_OUTPUT = f"""\
The push refers to repository [{HOST}/my-app]
5f70bf18a086: Preparing
e2eb06d8af82: Preparing
e2eb06d8af82: Layer already exists
5f70bf18a086: Pushed
v1: digest: {DIGEST} size: 528
latest: digest: {OTHER_DIGEST} size: 1234
"""


def test_pushed_digests() -> None:
    assert engine.pushed_digests(PUSH_OUTPUT) == {"v1": DIGEST, "latest": OTHER_DIGEST}


@pytest.mark.parametrize(
    "output",
    [
        pytest.param("", id="empty"),
        pytest.param("v1: digest: sha256:short size: 1\n", id="short-digest"),
        pytest.param(f"  v1 digest {DIGEST}\n", id="other-shape"),
    ],
)
def test_pushed_digests_without_a_digest(output: str) -> None:
    assert engine.pushed_digests(output) == {}


# -- run -------------------------------------------------------------------------------


def test_run_returns_stdout_and_quotes() -> None:
    c = make_context(run={"docker tag 'a b' r/x:v1": Result(stdout="ok\n")})
    assert engine.run(c, ["docker", "tag", "a b", "r/x:v1"], "tag", "a b") == "ok\n"
    c.run.assert_called_once_with(
        "docker tag 'a b' r/x:v1", warn=True, hide="err", pty=False, in_stream=False, timeout=None
    )


def test_run_under_dry_returns_none() -> None:
    c = make_context(run=Result(stdout="anything"), dry=True)
    assert engine.run(c, ["docker", "pull", REF], "pull", REF) is None


@pytest.mark.parametrize(
    ("result", "words"),
    [
        pytest.param(
            Result(exited=127, stderr="sh: docker: not found"),
            "not found on PATH",
            id="not-installed",
        ),
        pytest.param(Result(exited=1, stderr=DAEMON_DOWN), "daemon is not running", id="daemon"),
        pytest.param(Result(exited=1, stderr=NO_REPO), "repository for", id="no-repo"),
    ],
)
def test_run_failures_are_one_line(result: Result, words: str) -> None:
    c = make_context(run=result)
    with pytest.raises(EcrTasksError, match=words) as raised:
        engine.run(c, ["docker", "push", REF], "push", REF)
    assert "\n" not in str(raised.value)


def test_run_missing_shell_is_engine_error() -> None:
    class NoShell(MockContext):
        def run(self, command: str, **kwargs: object) -> Result:
            raise FileNotFoundError("/bin/bash")

    with pytest.raises(EngineError, match="docker not found on PATH"):
        engine.run(NoShell(config=make_config()), ["docker", "push", REF], "push", REF)


# -- login -------------------------------------------------------------------------------


def _context(dry: bool = False, echo: bool = False) -> Context:
    return Context(config=make_config(dry=dry, echo=echo))


def test_login_dry_prints_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    fake = FakeEngineProcess()
    monkeypatch.setattr(engine, "subprocess", fake)
    engine.login(_context(dry=True), "docker", HOST, "AWS", PASSWORD, tmp_path / "lock")
    assert fake.calls == []
    out = capsys.readouterr()
    assert f"docker login --username AWS --password-stdin {HOST}" in out.out
    assert PASSWORD not in out.out + out.err


def test_login_echo_prints_without_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    fake = FakeEngineProcess()
    monkeypatch.setattr(engine, "subprocess", fake)
    engine.login(_context(echo=True), "podman", HOST, "AWS", PASSWORD, tmp_path)
    assert fake.calls == [
        (["podman", "login", "--username", "AWS", "--password-stdin", HOST], PASSWORD)
    ]
    out = capsys.readouterr()
    assert "podman login --username AWS --password-stdin" in out.out
    assert PASSWORD not in out.out + out.err


def test_login_quiet_without_echo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(engine, "subprocess", FakeEngineProcess())
    engine.login(_context(), "docker", HOST, "AWS", PASSWORD, tmp_path)
    assert capsys.readouterr().out == ""


FAKE_ENGINE = """\
#!/bin/sh
# A stand-in engine: records its arguments and its stdin, then answers.
for arg in "$@"; do printf '%s\\n' "$arg"; done > "{record}/argv"
cat /proc/$$/cmdline > "{record}/cmdline" 2>/dev/null
cat > "{record}/stdin"
if [ -n "$FAKE_ENGINE_FAIL" ]; then
    echo "Error response from daemon: $FAKE_ENGINE_FAIL" >&2
    exit 1
fi
echo "Login Succeeded"
"""


@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``docker`` script first on PATH; returns the folder it records into."""
    bin_dir = tmp_path / "bin"
    record = tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    script = bin_dir / "docker"
    script.write_text(FAKE_ENGINE.format(record=record))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("FAKE_ENGINE_FAIL", raising=False)
    return record


def test_login_password_on_stdin_not_argv(fake_engine: Path, tmp_path: Path) -> None:
    auth_file = tmp_path / "docker" / "config.json"
    engine.login(_context(), "docker", HOST, "AWS", PASSWORD, auth_file)
    argv = (fake_engine / "argv").read_text().splitlines()
    assert argv == ["login", "--username", "AWS", "--password-stdin", HOST]
    assert (fake_engine / "stdin").read_text() == PASSWORD
    assert PASSWORD not in (fake_engine / "cmdline").read_text()


def test_login_failure_is_classified_and_redacted(
    fake_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ENGINE_FAIL", f"login attempt failed: unauthorized ({PASSWORD})")
    with pytest.raises(AuthRejected) as raised:
        engine.login(_context(), "docker", HOST, "AWS", PASSWORD, tmp_path)
    text = str(raised.value)
    assert PASSWORD not in text
    assert "***" in text
    assert "\n" not in text


def test_login_engine_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(EngineError, match=r"^nerdctl not found on PATH"):
        engine.login(_context(), "nerdctl", HOST, "AWS", PASSWORD, tmp_path)


def test_login_where_the_auth_file_cannot_be_locked_is_one_line_and_no_login(
    fake_engine: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"^cannot lock .*not-a-dir/config.json: ") as raised:
        engine.login(_context(), "docker", HOST, "AWS", PASSWORD, blocker / "config.json")
    assert "\n" not in str(raised.value)
    assert not (fake_engine / "stdin").exists()
