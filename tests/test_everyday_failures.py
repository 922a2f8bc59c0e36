"""The everyday failures of issue 2, each met for real by ``inv`` in a user's
project: one clear line naming the problem, exit code 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_one_clear_line, docker, inv, make_image, project_dir

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(stack, tmp_path: Path) -> Path:
    return project_dir(tmp_path, stack.registry, "  repo: everyday\n")


def without_aws(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """No credentials, no region and no config files anywhere botocore looks."""
    bare = {k: v for k, v in env.items() if not k.startswith(("AWS_", "INVOKE_ECR_"))}
    bare["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]
    bare["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
    bare["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
    bare["AWS_EC2_METADATA_DISABLED"] = "true"  # no instance role to look for
    return bare


def test_no_aws_credentials(stack, user_env, project, tmp_path):
    env = {**without_aws(user_env, tmp_path), "AWS_REGION": stack.region}
    result = inv(["login"], project, env)
    assert_one_clear_line(result, "no AWS credentials")


def test_unknown_profile(user_env, project):
    result = inv(["login", "--profile", "nobody-here"], project, user_env)
    assert_one_clear_line(result, "unknown AWS profile", "nobody-here")


def test_unknown_profile_in_aws_profile(user_env, project):
    result = inv(["login"], project, {**user_env, "AWS_PROFILE": "nobody-here"})
    assert_one_clear_line(result, "unknown AWS profile 'nobody-here' in AWS_PROFILE", "profiles")


def test_no_region(stack, user_env, project, tmp_path):
    env = {
        **without_aws(user_env, tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    result = inv(["login"], project, env)
    assert_one_clear_line(result, "no AWS region", "--region")


def test_engine_not_installed(user_env, project, tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    # Only what Python needs: the engine named in the config is nowhere.
    env = {**user_env, "INVOKE_ECR_ENGINE": "podman", "PATH": str(empty_bin)}
    result = inv(["login"], project, env)
    assert_one_clear_line(result, "podman not found on PATH", "ecr.engine")


def test_engine_daemon_not_running(stack, user_env, project, tmp_path):
    make_image("everyday:v1", user_env, tmp_path)
    env = {**user_env, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    result = inv(["push", "--tag", "v1"], project, env)
    assert_one_clear_line(result, "daemon is not running", "DOCKER_HOST")


def test_access_denied(user_env, project, faults):
    faults.fail(
        status=400,
        code="AccessDeniedException",
        message="not authorized to perform: ecr:GetAuthorizationToken",
        operation="GetAuthorizationToken",
    )
    result = inv(["login", "--no-cache"], project, user_env)
    line = assert_one_clear_line(result, "access denied", "GetAuthorizationToken")
    assert "AccessDeniedException" in line


def test_endpoint_unreachable(user_env, project):
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens here
    result = inv(["login", "--no-cache"], project, {**user_env, "AWS_ENDPOINT_URL": closed})
    assert_one_clear_line(result, "cannot reach", "127.0.0.1:9")


def test_repository_not_found(user_env, project):
    result = inv(["uri", "--repo", "never/pushed", "--tag", "v1", "--digest"], project, user_env)
    assert_one_clear_line(result, "never/pushed:v1", "not found")


def test_create_refused_by_iam(user_env, project, faults):
    faults.fail(
        status=400,
        code="RepositoryNotFoundException",
        message="no such repository",
        operation="DescribeRepositories",
    )
    faults.fail(
        status=400,
        code="AccessDeniedException",
        message="no create for you",
        operation="CreateRepository",
    )
    result = inv(["push", "--tag", "v1", "--create"], project, user_env)
    assert_one_clear_line(result, "access denied", "CreateRepository")


def test_pull_of_a_missing_repository(stack, user_env, project):
    result = inv(["pull", "--repo", "never/made", "--tag", "v1"], project, user_env)
    line = assert_one_clear_line(
        result, f"repository never/made does not exist in {stack.registry}"
    )
    assert "push" not in line and "--create" not in line


def test_pull_of_a_missing_tag_names_tags_there(user_env, project, tmp_path):
    make_image("tags-there:v1", user_env, tmp_path)
    pushed = inv(
        ["push", "--repo", "tags-there", "--create", "--tag", "v1", "--tag", "v2"],
        project,
        user_env,
    )
    assert pushed.returncode == 0, pushed.stderr
    result = inv(["pull", "--repo", "tags-there", "--tag", "v9"], project, user_env)
    line = assert_one_clear_line(result, "tags-there:v9 not found in the registry; tags there: ")
    assert line.split("tags there: ")[1] in ("v1, v2", "v2, v1")


def test_a_failed_push_leaves_no_registry_names_it_made(stack, user_env, project, tmp_path):
    make_image("not-created:v1", user_env, tmp_path)
    kept = f"{stack.registry}/not-created:mine"
    docker(["tag", "not-created:v1", kept], user_env)  # the user's own, from before
    result = inv(
        ["push", "--repo", "not-created", "--tag", "v1", "--tag", "mine"], project, user_env
    )
    assert_one_clear_line(result, "not-created")
    made = docker(["image", "inspect", f"{stack.registry}/not-created:v1"], user_env, check=False)
    assert made.returncode != 0, "the name the failed push made is still there"
    assert docker(["image", "inspect", kept], user_env, check=False).returncode == 0
    assert docker(["image", "inspect", "not-created:v1"], user_env, check=False).returncode == 0
