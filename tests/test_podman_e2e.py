"""End to end with Debian's podman (vfs storage) as the engine: the main flow
and the three places podman differs from Docker.

- With DOCKER_CONFIG naming a folder that holds no config.json, podman's push
  fails on the missing file: push logs in first (and a push that still meets
  it logs in and retries).
- podman keeps its login in $DOCKER_CONFIG/config.json when DOCKER_CONFIG is
  set: ``doctor`` looks there.
- ``podman pull`` prints the image id, not the digest: ``inv pull`` asks the
  registry and prints the digest as it does with Docker.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import inv, make_podman_image, podman, project_dir, token_files
from tests.helpers import read_cache_entry

pytestmark = pytest.mark.e2e


def podman_project(tmp_path: Path, registry: str, repo: str) -> Path:
    return project_dir(tmp_path, registry, f"  repo: {repo}\n  engine: podman\n")


def test_podman_push_then_pull_round_trip(stack, faults, podman_env, tmp_path):
    env = podman_env
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    assert not config.exists()  # the folder is there, the file is not
    project = podman_project(tmp_path, stack.registry, "podman-app")
    make_podman_image("podman-app:v1", env, tmp_path, seed="podman")

    pushed = inv(["push", "--create", "--tag", "v1"], project, env)
    assert pushed.returncode == 0, pushed.stderr
    match = re.search(rf"Pushed {re.escape(stack.registry)}/podman-app:v1 (sha256:[a-f0-9]{{64}})",
                      pushed.stdout)  # fmt: skip
    assert match, pushed.stdout
    digest = match.group(1)
    assert "no such file" not in pushed.stdout + pushed.stderr
    assert stack.registry in json.loads(config.read_text())["auths"]

    # Nothing local is left: the pull must come from the registry.
    podman(["rmi", "-f", "podman-app:v1", f"{stack.registry}/podman-app:v1"], env)
    pulled = inv(["pull", "--tag", "v1"], project, env)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.splitlines()[-1] == f"Pulled {stack.registry}/podman-app:v1 {digest}"
    shown = podman(["image", "inspect", "--format", "{{.Digest}}",
                    f"{stack.registry}/podman-app:v1"], env).stdout.strip()  # fmt: skip
    assert shown == digest

    by_digest = inv(["pull", "--image", f"{stack.registry}/podman-app@{digest}"], project, env)
    assert by_digest.returncode == 0, by_digest.stderr
    assert by_digest.stdout.splitlines()[-1].endswith(f"@{digest} {digest}")

    [entry] = token_files(env)
    password = read_cache_entry(entry)["password"]
    for run in (pushed, pulled, by_digest):
        assert password not in run.stdout + run.stderr


def test_podman_push_that_meets_a_missing_config_json_logs_in_and_retries(
    stack, faults, podman_env, tmp_path
):
    env = podman_env
    project = podman_project(tmp_path, stack.registry, "podman-relogin")
    make_podman_image("podman-relogin:v1", env, tmp_path, seed="relogin")
    first = inv(["push", "--create", "--tag", "v1"], project, env)
    assert first.returncode == 0, first.stderr
    # The file goes away behind our back (a fresh CI workspace, a cleanup step).
    (Path(env["DOCKER_CONFIG"]) / "config.json").unlink()
    again = inv(["push", "--tag", "v1"], project, env)
    assert again.returncode == 0, again.stderr
    assert "Pushed" in again.stdout


def test_podman_doctor_looks_where_podman_keeps_the_login(stack, faults, podman_env, tmp_path):
    env = podman_env
    project = podman_project(tmp_path, stack.registry, "podman-doctor")
    logged = inv(["login"], project, env)
    assert logged.returncode == 0, logged.stderr
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    assert stack.registry in json.loads(config.read_text())["auths"]

    doctor = inv(["doctor"], project, env)
    store = [line for line in doctor.stdout.splitlines() if "credential store" in line]
    assert store, doctor.stdout
    assert str(config) in store[0] and "plain base64" in store[0], store[0]
    assert "/run/containers" not in doctor.stdout


def test_podman_logout(stack, faults, podman_env, tmp_path):
    env = podman_env
    project = podman_project(tmp_path, stack.registry, "podman-logout")
    assert inv(["login"], project, env).returncode == 0
    out = inv(["logout"], project, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"Logged out of {stack.registry}\n"
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    assert stack.registry not in json.loads(config.read_text()).get("auths", {})
    again = inv(["logout"], project, env)  # podman: "not logged into", which is fine
    assert again.returncode == 0, again.stderr
