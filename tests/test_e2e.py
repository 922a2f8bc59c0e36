"""End to end: a user's project runs ``inv login push --tag v1`` and
``inv pull --tag v1`` against the real local stack (moto, the distribution
registry, dockerd), with nothing but a copy of tasks.py and an invoke.yaml."""

from __future__ import annotations

import base64
import re
import urllib.request

import pytest

from tests.conftest import (
    assert_no_issued_password,
    create_repo,
    docker,
    docker_auths,
    inv,
    make_image,
    project_dir,
    token_files,
)
from tests.helpers import read_cache_entry
from tests.main_flow import Place, add_rootfs, run_main_flow

pytestmark = pytest.mark.e2e


def served_digest(registry: str, repo: str, tag: str, password: str) -> str | None:
    """What the registry itself says ``repo:tag`` is, asked directly."""
    auth = base64.b64encode(f"AWS:{password}".encode()).decode()
    request = urllib.request.Request(
        f"http://{registry}/v2/{repo}/manifests/{tag}", method="HEAD",
        headers={"Authorization": f"Basic {auth}", "Accept": ", ".join((
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json"))})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return answer.headers["Docker-Content-Digest"]


def test_main_flow_with_the_registry_override(stack, user_env, tmp_path):
    """The same job as test_real_hosts runs on ECR's real names, here through
    ``ecr.registry`` on plain HTTP: both modes share ``run_main_flow``."""
    project = project_dir(tmp_path, stack.registry, "  repo: main/flow\n")
    add_rootfs(project, "hello from the main flow\n")
    place = Place(stack.registry, "http", user_env)
    run_main_flow(place, project, "main/flow", stack.password)
    assert_no_issued_password(stack, *(p.read_text() for p in project.iterdir()
                                       if p.suffix == ".yaml"))


def test_login_push_then_pull_round_trip(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: my-app\n")
    create_repo(stack, "my-app")
    make_image("my-app:v1", user_env, tmp_path)

    pushed = inv(["login", "push", "--tag", "v1"], project, user_env)
    assert pushed.returncode == 0, pushed.stderr
    assert f"Logged in to {stack.registry}" in pushed.stdout
    match = re.search(rf"Pushed {re.escape(stack.registry)}/my-app:v1 (sha256:[a-f0-9]{{64}})",
                      pushed.stdout)
    assert match, pushed.stdout
    digest = match.group(1)
    assert served_digest(stack.registry, "my-app", "v1", stack.password) == digest

    # Nothing local is left: the pull must really come from the registry.
    docker(["rmi", "my-app:v1", f"{stack.registry}/my-app:v1"], user_env)
    gone = docker(["image", "inspect", f"{stack.registry}/my-app:v1"], user_env, check=False)
    assert gone.returncode != 0

    pulled = inv(["pull", "--tag", "v1"], project, user_env)
    assert pulled.returncode == 0, pulled.stderr
    assert f"Pulled {stack.registry}/my-app:v1 {digest}" in pulled.stdout
    repo_digests = docker(["image", "inspect", "--format", "{{json .RepoDigests}}",
                           f"{stack.registry}/my-app:v1"], user_env).stdout
    assert f"{stack.registry}/my-app@{digest}" in repo_digests

    assert_no_issued_password(stack, pushed.stdout, pushed.stderr, pulled.stdout, pulled.stderr)


def test_push_two_tags_and_pull_by_digest(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    make_image("team/two-tags:v2", user_env, tmp_path, seed="two")
    create_repo(stack, "team/two-tags")

    pushed = inv(["login", "push", "--repo", "team/two-tags", "--tag", "v2", "--tag", "latest"],
                 project, user_env)
    assert pushed.returncode == 0, pushed.stderr
    digests = dict(re.findall(r"Pushed \S+:(\S+) (sha256:[a-f0-9]{64})", pushed.stdout))
    assert set(digests) == {"v2", "latest"}
    assert digests["v2"] == digests["latest"]

    pulled = inv(["pull", "--repo", "team/two-tags", "--digest", digests["v2"]], project,
                 user_env)
    assert pulled.returncode == 0, pulled.stderr
    assert f"{stack.registry}/team/two-tags@{digests['v2']}" in pulled.stdout


def test_uri_digest_names_the_pushed_image(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: uri-digest\n")
    create_repo(stack, "uri-digest")
    make_image("uri-digest:v1", user_env, tmp_path, seed="uri")
    pushed = inv(["login", "push", "--tag", "v1"], project, user_env)
    assert pushed.returncode == 0, pushed.stderr
    digest = re.search(r"(sha256:[a-f0-9]{64})", pushed.stdout).group(1)

    shown = inv(["uri", "--tag", "v1", "--digest"], project, user_env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"{stack.registry}/uri-digest@{digest}"


def test_push_of_a_missing_local_image_is_one_clear_line(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: never-built\n")
    result = inv(["login", "push", "--tag", "v9"], project, user_env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "never-built:v9" in last and "not found" in last


def test_tasks_py_nested_in_a_users_collection(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    (project / "tasks.py").write_text(
        "from invoke import Collection, task\n"
        "import ecr_tasks\n\n"
        "@task\n"
        "def build(c):\n"
        "    '''Build the image.'''\n\n"
        "ns = Collection(build, ecr=ecr_tasks.ns)\n"
    )
    listed = inv(["--list"], project, user_env)
    assert listed.returncode == 0, listed.stderr
    for name in ("ecr.login", "ecr.uri", "ecr.tag", "ecr.push", "ecr.pull", "build"):
        assert name in listed.stdout
    logged = inv(["ecr.login"], project, user_env)
    assert logged.returncode == 0, logged.stderr
    assert f"Logged in to {stack.registry}" in logged.stdout


def test_push_then_pull_with_no_login_first_is_the_whole_job(stack, faults, own_env, tmp_path):
    # No `inv login` ever: push logs in by itself, and nothing shows a failed try.
    project = project_dir(tmp_path, stack.registry, "  repo: whole-job\n")
    make_image("whole-job:v1", own_env, tmp_path, seed="whole")
    pushed = inv(["push", "--create", "--tag", "v1"], project, own_env)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.count("The push refers to repository") == 1, pushed.stdout
    assert "unauthorized" not in (pushed.stdout + pushed.stderr).lower()
    match = re.search(r"Pushed \S+/whole-job:v1 (sha256:[a-f0-9]{64})", pushed.stdout)
    assert match, pushed.stdout
    assert stack.registry in docker_auths(own_env)  # the engine holds the login now

    # A machine that never logged in pulls by the full reference alone.
    fresh = {**own_env, "DOCKER_CONFIG": str(tmp_path / "fresh-docker-config")}
    docker(["rmi", "whole-job:v1", f"{stack.registry}/whole-job:v1"], own_env)
    ref = f"{stack.registry}/whole-job:v1"
    faults.reset_counts()
    pulled = inv(["pull", "--image", ref], project, fresh)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.splitlines()[-1] == f"Pulled {ref} {match.group(1)}"
    assert faults.count("GetAuthorizationToken") == 0  # the cached token served
    assert stack.registry in docker_auths(fresh)
    [entry] = token_files(own_env)
    assert_no_password(read_cache_entry(entry)["password"], pushed, pulled)


def assert_no_password(password: str, *runs) -> None:
    for run in runs:
        for form in (password, base64.b64encode(f"AWS:{password}".encode()).decode()):
            assert form not in run.stdout + run.stderr
