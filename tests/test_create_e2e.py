"""``push --create`` against the stand-in: the repository is made with the
asked-for settings, and an immutable tag that exists stops the push before
anything is tagged or uploaded."""

from __future__ import annotations

import boto3
import pytest

from tests.conftest import assert_one_clear_line, docker, inv, make_image, project_dir
from tests.test_e2e import served_digest

pytestmark = pytest.mark.e2e


def describe(stack, repo: str) -> dict:
    ecr = boto3.client(
        "ecr", region_name=stack.region, endpoint_url=stack.direct_api_url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    return ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]


def test_create_makes_an_immutable_scanned_repository(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: made/immutable\n")
    make_image("made/immutable:v1", user_env, tmp_path, seed="first")

    first = inv(["login", "push", "--tag", "v1", "--create", "--immutable", "--scan-on-push"],
                project, user_env)
    assert first.returncode == 0, first.stderr
    assert "Created repository made/immutable" in first.stdout
    made = describe(stack, "made/immutable")
    assert made["imageTagMutability"] == "IMMUTABLE"
    assert made["imageScanningConfiguration"] == {"scanOnPush": True}
    assert made["encryptionConfiguration"]["encryptionType"] == "AES256"
    pushed = served_digest(stack.registry, "made/immutable", "v1", stack.password)

    # A different image under the same tag: refused in one line, nothing pushed.
    make_image("made/immutable:v1", user_env, tmp_path / "second", seed="second")
    before = docker(["image", "inspect", "--format", "{{.Id}}",
                     f"{stack.registry}/made/immutable:v1"], user_env).stdout
    again = inv(["push", "--tag", "v1", "--create"], project, user_env)
    assert_one_clear_line(again, "'v1'", "immutable")
    assert "Created repository" not in again.stdout
    assert served_digest(stack.registry, "made/immutable", "v1", stack.password) == pushed
    after = docker(["image", "inspect", "--format", "{{.Id}}",
                    f"{stack.registry}/made/immutable:v1"], user_env).stdout
    assert after == before  # not even re-tagged locally


def test_create_with_a_kms_key_and_an_existing_repository(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: made/kms\n")
    make_image("made/kms:v1", user_env, tmp_path, seed="kms")
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"

    first = inv(["login", "push", "--tag", "v1", "--create", "--kms-key", key], project,
                user_env)
    assert first.returncode == 0, first.stderr
    encryption = describe(stack, "made/kms")["encryptionConfiguration"]
    assert encryption == {"encryptionType": "KMS", "kmsKey": key}
    assert describe(stack, "made/kms")["imageTagMutability"] == "MUTABLE"

    # The repository exists now: --create leaves it alone and mutable tags move.
    second = inv(["push", "--tag", "v1", "--create"], project, user_env)
    assert second.returncode == 0, second.stderr
    assert "Created repository" not in second.stdout
    assert "Pushed" in second.stdout


def test_push_without_create_names_the_missing_repository_flags(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: made/flags\n")
    result = inv(["push", "--tag", "v1", "--immutable"], project, user_env)
    assert_one_clear_line(result, "--immutable", "--create")
