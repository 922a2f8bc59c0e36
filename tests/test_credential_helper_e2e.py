"""Real engines asking ``docker-credential-ecr-tasks``, on ECR's real host names.

In the stand-in's real-hosts mode (see test_real_hosts.py), a user's project
with ``ecr.helper: true`` pushes with no login step, and then plain
``docker pull`` and ``podman pull`` of the full reference work with nothing
stored: the engine's config holds only the credHelpers entry, and no form of
any password the API issued is anywhere in the engine's config folder.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import password_forms
from tests.helpers import read_cache_entry, write_cache_entry
from tests.test_real_hosts import REGISTRY, real_hosts, unavailable, user_project  # noqa: F401

pytestmark = pytest.mark.e2e

REPO = "real/helper-app"
ONLY_OURS = {"credHelpers": {REGISTRY: "ecr-tasks"}}


def helper_place(real_hosts, tmp_path: Path):  # noqa: F811 - the fixture's value
    """A place whose engine config and token cache are the test's own, with
    the console scripts on PATH as pip installs them."""
    config = tmp_path / "engine-config"
    config.mkdir()
    scripts = os.path.dirname(sys.executable)
    return real_hosts.place(
        DOCKER_CONFIG=str(config),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PATH=scripts + os.pathsep + os.environ.get("PATH", ""),
    )


def assert_nothing_stored(real_hosts, folder: Path) -> None:  # noqa: F811
    """No form of any password the API ever issued in any file under ``folder``."""
    issued = real_hosts.issued_passwords()
    assert issued, "the API issued no password: nothing was checked"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, f"nothing under {folder} to scan"
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for password in issued:
            for form in password_forms(password):
                assert form not in text, f"a form of a password is stored in {path}"


def assert_cache_private(cache: Path) -> None:
    folder = cache / "ecr-tasks"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    entries = list(folder.glob("*.token"))
    assert entries
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)


def pushed_with_the_helper(real_hosts, tmp_path: Path, repo: str):  # noqa: F811
    project = user_project(tmp_path, repo)
    with open(project / "invoke.yaml", "a") as settings:
        settings.write("  helper: true\n")
    place = helper_place(real_hosts, tmp_path)
    place.docker(["import", str(project / "rootfs.tar"), f"{repo}:v1"], project)
    pushed = place.inv(["push", "--tag", "v1", "--create"], project)
    assert pushed.returncode == 0, pushed.stderr
    assert f"Pushed {REGISTRY}/{repo}:v1 sha256:" in pushed.stdout
    config = Path(place.env["DOCKER_CONFIG"]) / "config.json"
    assert json.loads(config.read_text()) == ONLY_OURS
    return place, project


def test_docker_pushes_and_pulls_with_nothing_stored(real_hosts, tmp_path):  # noqa: F811
    place, project = pushed_with_the_helper(real_hosts, tmp_path, REPO)
    remote = f"{REGISTRY}/{REPO}:v1"
    place.docker(["rmi", f"{REPO}:v1", remote], project)

    issued_before = len(real_hosts.issued_passwords())
    pulled = place.run(["docker", "pull", remote], project)
    assert pulled.returncode == 0, pulled.stderr
    assert "Digest: sha256:" in pulled.stdout
    # Answered from the cache the push filled: no new token.
    assert len(real_hosts.issued_passwords()) == issued_before

    config = Path(place.env["DOCKER_CONFIG"])
    assert json.loads((config / "config.json").read_text()) == ONLY_OURS
    assert_nothing_stored(real_hosts, config)
    assert_cache_private(Path(place.env["XDG_CACHE_HOME"]))


def test_an_expired_cached_token_is_replaced_not_sent(real_hosts, tmp_path):  # noqa: F811
    place, project = pushed_with_the_helper(real_hosts, tmp_path, "real/helper-rotate")
    remote = f"{REGISTRY}/real/helper-rotate:v1"
    place.docker(["rmi", "real/helper-rotate:v1", remote], project)
    [entry] = (Path(place.env["XDG_CACHE_HOME"]) / "ecr-tasks").glob("*.token")
    record = read_cache_entry(entry)
    record.update(issued_at=time.time() - 7200, expires_at=time.time() - 60)
    write_cache_entry(entry, record)

    issued_before = len(real_hosts.issued_passwords())
    pulled = place.run(["docker", "pull", remote], project)
    assert pulled.returncode == 0, pulled.stderr
    assert len(real_hosts.issued_passwords()) == issued_before + 1
    # The new token is cached (under the registry's own entry); the expired
    # one was never handed to the engine, or the pull would have failed.
    newest = real_hosts.issued_passwords()[-1]
    cached = [read_cache_entry(p) for p in entry.parent.glob("*.token")]
    renewed = [c for c in cached if c["password"] == newest]
    assert len(renewed) == 1 and renewed[0]["expires_at"] > time.time() + 3600
    same = newest == record["password"]  # compared apart, so no failure prints a password
    assert not same


def test_logout_removes_the_entry_and_docker_pull_is_then_refused(real_hosts, tmp_path):  # noqa: F811
    place, project = pushed_with_the_helper(real_hosts, tmp_path, "real/helper-logout")
    out = place.inv(["logout"], project)
    assert out.returncode == 0, out.stderr
    config = Path(place.env["DOCKER_CONFIG"]) / "config.json"
    assert "credHelpers" not in json.loads(config.read_text())
    place.docker(["rmi", "real/helper-logout:v1", f"{REGISTRY}/real/helper-logout:v1"], project)
    refused = place.run(["docker", "pull", f"{REGISTRY}/real/helper-logout:v1"], project)
    # Without credentials the registry says 401; dockerd then also tries plain
    # HTTP for a loopback address, and reports that attempt's error instead.
    assert refused.returncode != 0
    assert "Digest:" not in refused.stdout
    assert "Error response from daemon" in refused.stderr


def test_doctor_names_a_helper_program_that_is_missing(real_hosts, tmp_path):  # noqa: F811
    place, project = pushed_with_the_helper(real_hosts, tmp_path, "real/helper-doctor")
    config = Path(place.env["DOCKER_CONFIG"]) / "config.json"
    config.write_text(json.dumps({"credHelpers": {REGISTRY: "ecr-tasks"}, "credsStore": "desktop"}))
    doctor = place.inv(["doctor"], project)
    assert doctor.returncode == 1
    [line] = [x for x in doctor.stdout.splitlines() if "engine logins" in x]
    assert line.startswith("✗ ") or line.startswith("x ")
    assert "docker-credential-desktop (for every other registry)" in line

    config.write_text(json.dumps(ONLY_OURS))
    fine = place.inv(["doctor"], project)
    [line] = [x for x in fine.stdout.splitlines() if "engine logins" in x]
    assert f"ecr-tasks helper for {REGISTRY}" in line


def test_podman_pulls_with_nothing_stored(real_hosts, tmp_path):  # noqa: F811
    if shutil.which("podman") is None:
        unavailable("podman not found")
    place, project = pushed_with_the_helper(real_hosts, tmp_path, "real/helper-podman")
    # Podman of its own: vfs storage under tmp_path, and an auth.json that
    # holds only the credHelpers entry.
    storage = tmp_path / "podman"
    (tmp_path / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\nrunroot = "{storage}/run"\ngraphroot = "{storage}/root"\n'
    )
    (tmp_path / "registries.conf").write_text('unqualified-search-registries = []\n')
    auth = tmp_path / "podman-auth" / "auth.json"
    auth.parent.mkdir()
    auth.write_text(json.dumps(ONLY_OURS))
    place.env.update(
        CONTAINERS_STORAGE_CONF=str(tmp_path / "storage.conf"),
        CONTAINERS_REGISTRIES_CONF=str(tmp_path / "registries.conf"),
        REGISTRY_AUTH_FILE=str(auth),
    )
    place.env.pop("DOCKER_CONFIG")
    issued_before = len(real_hosts.issued_passwords())
    pulled = place.run(["podman", "pull", f"{REGISTRY}/real/helper-podman:v1"], project)
    assert pulled.returncode == 0, pulled.stderr
    assert len(real_hosts.issued_passwords()) == issued_before  # from the push's cache entry
    assert json.loads(auth.read_text()) == ONLY_OURS
    assert_nothing_stored(real_hosts, auth.parent)

    # And podman's own login with --helper writes the entry into auth.json.
    auth.write_text(json.dumps({"auths": {}}))
    with open(project / "invoke.yaml", "a") as settings:
        settings.write("  engine: podman\n")
    logged = place.inv(["login"], project)
    assert logged.returncode == 0, logged.stderr
    assert json.loads(auth.read_text()) == {"auths": {}, **ONLY_OURS}
    place.run(["podman", "rmi", "-a", "-f"], project)
