"""Shared fixtures: the local ECR stand-in for end-to-end tests.

One stack (moto as the ECR and STS API, the distribution registry, and a
dockerd of our own when none is reachable) serves the whole session. Under
``CI=true`` a stack that cannot start fails the run: the end-to-end tests
are the point of CI and must never be skipped there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socketserver
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A started :class:`ecr_tasks.standin.Stack`, stopped after the session."""
    from ecr_tasks.standin import Stack, StandinError

    workdir = tmp_path_factory.mktemp("standin")
    try:
        # The fault proxy in front of the API lets tests count AWS calls and
        # inject throttling; it forwards untouched until told otherwise.
        started = Stack(workdir, start_engine="auto", fault_proxy=True).start()
    except StandinError as error:
        if _in_ci():
            pytest.fail(f"the local ECR stand-in did not start: {error}", pytrace=False)
        pytest.skip(f"local ECR stand-in unavailable: {error}")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def faults(stack: object) -> Iterator[object]:
    """The stack's fault proxy, cleared and with zeroed counts around each test."""
    proxy = stack.faults  # type: ignore[attr-defined]
    proxy.clear()
    proxy.reset_counts()
    yield proxy
    proxy.clear()


@pytest.fixture
def user_env(stack: object, tmp_path: Path) -> dict[str, str]:
    """The environment a user's shell would have: the stack's settings, a
    private token cache and home, and nothing of ours from the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_"))}
    env.update(stack.env())  # type: ignore[attr-defined]
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("INVOKE_ECR_REGISTRY", None)  # tests say which registry through invoke.yaml
    return env


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[int]:
    """Serve ``server`` on a thread of its own; yield its port; shut it down after."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]  # type: ignore[misc]
    finally:
        server.shutdown()
        server.server_close()


def inv(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 180,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``inv`` as a user would: a separate process in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, text=True,
        capture_output=True, timeout=timeout, input=stdin, check=False,
    )


def docker(args: list[str], env: dict[str, str], timeout: float = 180,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], env=env, text=True, capture_output=True,
                          timeout=timeout, check=check)


def make_image(name: str, env: dict[str, str], workdir: Path, size: int = 4096,
               seed: str = "") -> None:
    """Create a local image with no network: ``docker import`` of a small tar."""
    root = workdir / f"rootfs-{name.replace('/', '_').replace(':', '_')}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "hello.txt").write_text(f"hello from {name} {seed}\n")
    (root / "payload.bin").write_bytes(os.urandom(size))
    archive = root.with_suffix(".tar")
    with tarfile.open(archive, "w") as tar:
        for item in root.iterdir():
            tar.add(item, arcname=item.name)
    docker(["import", str(archive), name], env)


def project_dir(tmp_path: Path, registry: str | None, extra: str = "") -> Path:
    """A user's project: a copy of our tasks.py and an invoke.yaml, nothing else.

    ``registry`` None leaves ``ecr.registry`` out, as on AWS, where the
    registry host is worked out from account and region."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO_ROOT / "tasks.py", project / "tasks.py")
    override = f"  registry: \"{registry}\"\n" if registry is not None else ""
    (project / "invoke.yaml").write_text(f"ecr:\n{override}{extra}")
    return project


# -- Helpers for the login fault, cache and secrets tests ----------------------


@pytest.fixture
def own_env(user_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``user_env`` with a Docker config dir of the test's own, so a test can
    read, break and count config.json entries without touching the others'."""
    config = tmp_path / "docker-config"
    config.mkdir()
    return {**user_env, "DOCKER_CONFIG": str(config)}


def token_files(env: dict[str, str]) -> list[Path]:
    """The token cache's entry files for the XDG_CACHE_HOME in ``env``."""
    directory = Path(env["XDG_CACHE_HOME"]) / "ecr-tasks"
    return sorted(directory.glob("*.token")) if directory.is_dir() else []


def docker_auths(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """The ``auths`` of DOCKER_CONFIG/config.json in ``env`` (empty if none)."""
    import json

    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    return json.loads(path.read_text()).get("auths", {}) if path.exists() else {}


def basic_auth(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


def create_repo(stack: object, name: str, **settings: object) -> None:
    """Make a repository through the stand-in's ECR API, as ``aws ecr
    create-repository`` would: the registry refuses pushes to any other."""
    stack.create_repository(name, **settings)  # type: ignore[attr-defined]


def issued_auths(stack: object) -> set[str]:
    """The ``auth`` value Docker stores for every password the API issued."""
    return {basic_auth("AWS", p) for p in stack.issued_passwords()}  # type: ignore[attr-defined]


def password_forms(password: str) -> list[str]:
    """A password as is, as Docker's ``AWS:<password>`` base64, and as its own base64."""
    import base64

    return [
        password,
        base64.b64encode(f"AWS:{password}".encode()).decode(),
        base64.b64encode(password.encode()).decode(),
    ]


def assert_no_issued_password(stack: object, *outputs: str) -> None:
    """No form of any password the stand-in's API ever issued is in ``outputs``."""
    issued = stack.issued_passwords()  # type: ignore[attr-defined]
    assert issued, "the API issued no password: nothing was checked"
    for password in issued:
        for form in password_forms(password):
            for output in outputs:
                assert form not in output, f"a form of a password leaked: {output[-500:]}"


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """A failure a user can act on: non-zero exit, no traceback, and exactly
    one line on stderr, ours, holding each of ``words``."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ecr-tasks: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def assert_state_valid(env: dict[str, str]) -> None:
    """Nothing left corrupt: every cache entry and the Docker config parse,
    cache files are private, and no temporary file is left behind."""
    from tests.helpers import read_cache_entry

    directory = Path(env["XDG_CACHE_HOME"]) / "ecr-tasks"
    if directory.exists():
        assert directory.stat().st_mode & 0o777 == 0o700
        assert not [p.name for p in directory.iterdir() if p.name.startswith(".tmp")]
        for entry in directory.glob("*.token"):
            assert entry.stat().st_mode & 0o777 == 0o600, entry
            data = read_cache_entry(entry)
            assert data["format"] == 2 and entry.stem == data["key"], data.keys()
            assert data["expires_at"] > data["issued_at"]
    docker_auths(env)  # raises if config.json is not valid JSON


_FAKE_ENGINE = '''#!{python}
"""A stand-in engine CLI: records each call, answers like docker login."""
import json, os, sys, time
from base64 import b64encode
args = sys.argv[1:]
secret = sys.stdin.read() if "--password-stdin" in args else ""
log = os.environ["FAKE_ENGINE_LOG"]
name = f"{{time.time_ns()}}-{{os.getpid()}}.json"
with open(os.path.join(log, name), "w") as out:
    json.dump({{"argv0": os.path.basename(sys.argv[0]), "args": args, "stdin": secret}}, out)
if args and args[-1] in os.environ.get("FAKE_ENGINE_FAIL", "").split():
    forms = [secret, b64encode(f"AWS:{{secret}}".encode()), b64encode(secret.encode())]
    forms = [f if isinstance(f, str) else f.decode() for f in forms]
    echo = " ".join(forms) if os.environ.get("FAKE_ENGINE_ECHO") else ""
    error = os.environ.get("FAKE_ENGINE_ERROR") or f"dial tcp: lookup {{args[-1]}}: no such host"
    print(f"Error response from daemon: Get \\"https://{{args[-1]}}/v2/\\": {{error}} {{echo}}",
          file=sys.stderr)
    sys.exit(1)
print("Login Succeeded")
'''


def fake_engines(directory: Path, names: tuple[str, ...] = ("podman", "nerdctl", "finch")) -> Path:
    """Fake engine CLIs in ``directory`` (put it first on PATH) that record
    every call's arguments and stdin under ``directory/calls``; set
    FAKE_ENGINE_LOG to that. FAKE_ENGINE_FAIL names hosts whose login fails
    (with FAKE_ENGINE_ERROR as the reason, default a DNS failure), and
    FAKE_ENGINE_ECHO makes the failure text repeat the password and its
    base64 forms."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "calls").mkdir(exist_ok=True)
    for name in names:
        script = directory / name
        script.write_text(_FAKE_ENGINE.format(python=sys.executable))
        script.chmod(0o755)
    return directory / "calls"


def engine_calls(calls: Path) -> list[dict[str, object]]:
    """The calls a fake engine recorded, oldest first."""
    import json

    return [json.loads(p.read_text()) for p in sorted(calls.glob("*.json"))]


def inv_together(
    jobs: list[tuple[list[str], Path, dict[str, str]]], timeout: float = 120
) -> list[tuple[int, str, str]]:
    """Start one ``inv`` per (args, cwd, env) at once; (exit code, stdout,
    stderr) of each once all have ended, in order."""
    processes = [
        subprocess.Popen([sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args, cwd, env in jobs
    ]  # fmt: skip
    results = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        results.append((process.returncode, out, err))
    return results


# -- Podman, for real ----------------------------------------------------------


@pytest.fixture
def podman_env(stack: object, own_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``own_env`` for Debian's podman with storage and registry settings of the
    test's own (vfs storage under tmp_path; the stand-in's plain-HTTP registry
    marked insecure), given through podman's variables, so nothing under /etc
    is touched. Under ``CI=true`` a podman that cannot run fails the test."""
    settings = tmp_path / "containers"
    settings.mkdir()
    storage = settings / "storage.conf"
    storage.write_text(
        "[storage]\n"
        'driver = "vfs"\n'
        f'graphroot = "{settings / "storage"}"\n'
        f'runroot = "{settings / "run"}"\n'
    )
    registries = settings / "registries.conf"
    registries.write_text(
        "[[registry]]\n"
        f'location = "{stack.registry}"\n'  # type: ignore[attr-defined]
        "insecure = true\n"
    )
    env = {
        **own_env,
        "CONTAINERS_STORAGE_CONF": str(storage),
        "CONTAINERS_REGISTRIES_CONF": str(registries),
        "XDG_RUNTIME_DIR": str(settings / "xdg-run"),
    }
    (settings / "xdg-run").mkdir(mode=0o700)
    problem = None
    if shutil.which("podman") is None:
        problem = "podman is not installed (scripts/dev installs it)"
    else:
        probe = subprocess.run(["podman", "info", "--format", "{{.Store.GraphDriverName}}"],
                               env=env, text=True, capture_output=True, timeout=120,
                               check=False)  # fmt: skip
        if probe.returncode != 0 or probe.stdout.strip() != "vfs":
            problem = f"podman cannot run here: {(probe.stderr or probe.stdout).strip()[-300:]}"
    if problem:
        if _in_ci():
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return env


def podman(args: list[str], env: dict[str, str], check: bool = True,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], env=env, text=True, capture_output=True,
                          timeout=timeout, check=check)  # fmt: skip


def make_podman_image(name: str, env: dict[str, str], workdir: Path, seed: str = "") -> None:
    """A local podman image made with no network: ``podman import`` of a small tar."""
    root = workdir / f"podman-rootfs-{name.replace('/', '_').replace(':', '_')}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "hello.txt").write_text(f"hello from {name} {seed}\n")
    (root / "payload.bin").write_bytes(os.urandom(4096))
    archive = root.with_suffix(".tar")
    with tarfile.open(archive, "w") as tar:
        for item in root.iterdir():
            tar.add(item, arcname=item.name)
    podman(["import", str(archive), name], env)
