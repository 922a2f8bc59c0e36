"""End to end on the path every real user takes: no endpoint, no registry override.

``python -m ecr_tasks.standin --real-hosts`` serves the registry as
``123456789012.dkr.ecr.us-east-1.amazonaws.com`` and the API under its real
endpoint names, over HTTPS, inside a private mount namespace. The tests run
``inv`` and ``docker`` inside that namespace (``nsenter``), from a project
whose invoke.yaml names only the repository and the region, exactly as it
would on AWS. Under ``CI=true`` a real-hosts stand-in that cannot start
fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecr_tasks.standin import StandinError
from ecr_tasks.standin.emulator import issued_passwords
from ecr_tasks.standin.realhosts import Authority, pick_address
from tests.conftest import REPO_ROOT, _in_ci, project_dir
from tests.helpers import read_cache_entry
from tests.main_flow import Place, add_rootfs, run_main_flow

pytestmark = pytest.mark.e2e

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
API_HOST = "api.ecr.us-east-1.amazonaws.com"


def unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


class RealHosts:
    """A running real-hosts stand-in, and how to run commands inside it."""

    def __init__(self, pid: int, settings: dict[str, object]) -> None:
        self.pid = pid
        self.settings = settings
        self.env: dict[str, str] = dict(settings["env"])  # type: ignore[arg-type]
        self.workdir = Path(str(settings["workdir"]))

    def place(self, **env: str) -> Place:
        return Place(REGISTRY, "https", {**self.env, **env}, enter=self.pid)

    def issued_passwords(self) -> list[str]:
        return issued_passwords(self.workdir)

    def fresh_password(self) -> str:
        """A password straight from the API, asked inside the namespace over TLS."""
        script = (
            "import base64, boto3\n"
            "data = boto3.client('ecr').get_authorization_token()['authorizationData'][0]\n"
            "print(base64.b64decode(data['authorizationToken']).decode().split(':', 1)[1])\n"
        )
        asked = self.place().run([sys.executable, "-c", script], self.workdir)
        assert asked.returncode == 0, asked.stderr
        return asked.stdout.strip()


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_", "DOCKER_"))}


@pytest.fixture(scope="session")
def real_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealHosts]:
    for tool in ("nsenter", "dockerd", "docker-registry"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} not found: the real-hosts stand-in needs it")
    if os.geteuid() != 0:
        unavailable("the real-hosts stand-in needs root")
    base = tmp_path_factory.mktemp("real-hosts")
    settings_file = base / "settings.json"
    log = open(base / "standin.log", "w")  # noqa: SIM115 - open for the child's lifetime
    child = subprocess.Popen(
        [sys.executable, "-m", "ecr_tasks.standin", "--real-hosts",
         "--workdir", str(base / "standin"), "--settings-file", str(settings_file)],
        stdout=log, stderr=subprocess.STDOUT, env=_clean_environment(), cwd=REPO_ROOT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not settings_file.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                text = (base / "standin.log").read_text().strip()
                unavailable(f"the real-hosts stand-in did not start: {text[-400:]}")
            time.sleep(0.1)
        yield RealHosts(child.pid, json.loads(settings_file.read_text()))
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(10)
        log.close()


def user_project(tmp_path: Path, repo: str) -> Path:
    """A user's project as it would be on AWS: repo and region, nothing else."""
    project = project_dir(tmp_path, None, f"  repo: {repo}\n  region: us-east-1\n")
    add_rootfs(project, f"hello from {repo} over real names\n")
    return project


def test_main_flow_on_real_names_over_tls(real_hosts, tmp_path):
    project = user_project(tmp_path, "real/my-app")
    place = real_hosts.place()
    run_main_flow(place, project, "real/my-app", real_hosts.fresh_password())

    # The token really came from the API's real endpoint name: the cache
    # entry records it, and the engine stored the registry's real name.
    [entry] = (real_hosts.workdir / "cache" / "ecr-tasks").glob("*.token")
    cached = read_cache_entry(entry)
    assert cached["password"] in real_hosts.issued_passwords()
    config = json.loads(Path(place.env["DOCKER_CONFIG"], "config.json").read_text())
    assert REGISTRY in config["auths"]


def test_the_names_resolve_only_inside_the_namespace(real_hosts, tmp_path):
    inside = real_hosts.place().run(["getent", "hosts", REGISTRY, API_HOST], tmp_path)
    assert inside.returncode == 0, inside.stderr
    addresses = {line.split()[0] for line in inside.stdout.splitlines()}
    assert len(addresses) == 2 and all(a.startswith("127.") for a in addresses)
    assert "127.0.0.1" not in addresses  # port 443 of 127.0.0.1 is left alone

    with pytest.raises(OSError):
        socket.getaddrinfo(REGISTRY, 443)
    assert REGISTRY not in Path("/etc/hosts").read_text()


def test_an_untrusted_api_certificate_is_one_line_naming_host_and_problem(real_hosts, tmp_path):
    project = user_project(tmp_path, "real/untrusted")
    other_ca = _another_ca(tmp_path)
    result = real_hosts.place(AWS_CA_BUNDLE=str(other_ca)).inv(["login", "--no-cache"], project)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"ecr-tasks: TLS check of {API_HOST} failed")
    assert "certificate verify failed" in line and "AWS_CA_BUNDLE" in line


def test_an_untrusted_registry_certificate_is_one_line_naming_host_and_problem(
    real_hosts, tmp_path
):
    project = user_project(tmp_path, "real/untrusted-registry")
    other_ca = _another_ca(tmp_path)
    # The digest lookup asks the registry itself over HTTPS (the API, trusted
    # through AWS_CA_BUNDLE, still hands out the token).
    result = real_hosts.place(SSL_CERT_FILE=str(other_ca)).inv(
        ["uri", "--tag", "v1", "--digest"], project
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"ecr-tasks: TLS check of registry {REGISTRY} failed")
    assert "certificate verify failed" in line


def test_a_command_runs_inside_and_its_status_is_the_stand_ins(tmp_path):
    """``-- CMD`` starts everything, runs CMD where the names resolve, stops
    everything it started, and exits with CMD's status."""
    if os.geteuid() != 0:
        unavailable("the real-hosts stand-in needs root")
    workdir = tmp_path / "standin"
    script = f"getent hosts {REGISTRY} && test -n \"$AWS_CA_BUNDLE\" && exit 7"
    result = subprocess.run(
        [sys.executable, "-m", "ecr_tasks.standin", "--real-hosts", "--workdir", str(workdir),
         "--", "sh", "-c", script],
        env=_clean_environment(), cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    assert result.returncode == 7, result.stderr
    assert result.stdout.split()[1:2] == [REGISTRY], result.stdout
    leftovers = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(workdir).encode() in (entry / "cmdline").read_bytes():
                leftovers.append(entry.name)
        except OSError:
            continue  # ended while we looked
    assert leftovers == [], "the stand-in left processes running"


def test_without_root_it_says_so_in_one_line(tmp_path):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        unavailable("needs root and setpriv to drop to another user")
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "ecr_tasks.standin", "--real-hosts", "--", "true"],
        env={**_clean_environment(), "HOME": str(tmp_path)}, cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ecr-standin: --real-hosts needs root"), line


def test_no_free_address_is_one_clear_error():
    # Something owning the port on every address (0.0.0.0) leaves none free.
    with socket.socket() as blocker:
        blocker.bind(("0.0.0.0", 0))
        port = blocker.getsockname()[1]
        blocker.listen()
        with pytest.raises(StandinError, match=f"no free loopback address with port {port}"):
            pick_address(set(), port=port, tries=5)


def _another_ca(tmp_path: Path) -> Path:
    """A certificate authority the stand-in's certificates do not chain to:
    one made the stand-in's way, but by another, unrelated authority."""
    authority = Authority(tmp_path / "other-ca", ["other.example"])
    authority.make()
    return authority.ca_cert
