"""End to end: each task of a chain reads its own flags, and fetches its token
with its own credentials.

The stack's fault proxy records the SigV4 credential scope (access key id and
region) of every API request, so "whose credentials asked for which region's
token" is read where the request was made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import create_repo, inv, make_image, project_dir

pytestmark = pytest.mark.e2e

GET_TOKEN = "GetAuthorizationToken"
ALICE = "AKIAALICE00000000001"
BOB = "AKIABOB0000000000001"


@pytest.fixture
def profiles_env(stack, own_env, tmp_path: Path) -> dict[str, str]:
    """Two named profiles beside the environment's own keys (the default)."""
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text("[profile alice]\n\n[profile bob]\n")
    (aws / "credentials").write_text(
        f"[alice]\naws_access_key_id = {ALICE}\naws_secret_access_key = a\n\n"
        f"[bob]\naws_access_key_id = {BOB}\naws_secret_access_key = b\n"
    )
    return {
        **own_env,
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
    }


def test_every_task_fetches_its_token_with_its_own_profile_and_region(
    stack, faults, profiles_env, tmp_path
):
    create_repo(stack, "flags-app")
    make_image("flags-app:v1", profiles_env, tmp_path)
    project = project_dir(tmp_path, stack.registry, "  repo: flags-app\n")
    default_key = profiles_env["AWS_ACCESS_KEY_ID"]
    args = ["login", "push", "--profile", "alice", "--tag", "v1",
            "pull", "--profile", "bob", "--region", "us-west-2", "--tag", "v1"]  # fmt: skip
    result = inv(args, project, profiles_env)
    assert result.returncode == 0, result.stderr
    assert f"Pulled {stack.registry}/flags-app:v1 sha256:" in result.stdout
    # login: the environment's keys in the configured region; push: alice's;
    # pull: bob's, in pull's own region. Never one task's token by another's keys.
    assert faults.signers(GET_TOKEN) == [
        (default_key, stack.region),
        (ALICE, stack.region),
        (BOB, "us-west-2"),
    ]


def test_a_region_given_after_push_is_pushs_alone(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: flags-app\n")
    env = {k: v for k, v in own_env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    env.pop("INVOKE_ECR_REGION", None)
    result = inv(["login", "push", "--tag", "v1", "--region", "eu-west-1"], project, env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("ecr-tasks: no AWS region for login: pass --region after login")
    assert faults.counts == {}, "a login with no region asked AWS"
