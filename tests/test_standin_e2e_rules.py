"""End to end: the stand-in refuses what ECR refuses, in ECR's words.

Real docker, the real registry behind the gate, moto for the ECR API. The
repository state comes from the API: creating a repository, changing its tag
mutability or deleting it changes what the registry allows, and what was
pushed shows in ``describe-images`` and ``list-images``.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time

import boto3
import pytest

from tests.conftest import (
    assert_one_clear_line,
    basic_auth,
    create_repo,
    docker,
    inv,
    make_image,
    project_dir,
)
from tests.test_e2e import served_digest

pytestmark = pytest.mark.e2e

DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


def ecr(stack):
    return boto3.client(
        "ecr", region_name=stack.region, endpoint_url=stack.direct_api_url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


def login(stack, env):
    """A plain ``docker login`` with a token fresh from the API."""
    result = docker_login(stack, env, stack.password)
    assert result.returncode == 0, result.stderr


def docker_login(stack, env, password):
    return subprocess.run(
        ["docker", "login", "--username", "AWS", "--password-stdin", stack.registry],
        input=password, env=env, text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip


def ping(stack, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
    """GET /v2/ on the registry, as a client would, with these credentials."""
    host, port = stack.registry.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/v2/", headers={"Authorization": authorization} if authorization
                     else {})  # fmt: skip
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        conn.close()


def basic(password: str) -> str:
    return "Basic " + basic_auth("AWS", password)


# -- missing repositories -------------------------------------------------------


def test_a_push_to_a_repository_never_created_is_refused_as_ecr_does(stack, user_env, tmp_path):
    image = f"{stack.registry}/never-made:v1"
    make_image(image, user_env, tmp_path, seed="never")
    login(stack, user_env)

    raw = docker(["push", image], user_env, check=False)
    assert raw.returncode != 0
    assert (
        "name unknown: The repository with name 'never-made' does not exist"
        f" in the registry with id '{stack.account}'"
    ) in raw.stderr

    # The task the user types turns it into one line that says what to do.
    project = project_dir(tmp_path, stack.registry, "  repo: never-made\n")
    make_image("never-made:v1", user_env, tmp_path / "local", seed="never")
    result = inv(["login", "push", "--tag", "v1"], project, user_env)
    assert_one_clear_line(result, "never-made", "push --create")

    # Created through the API, the same push goes through.
    create_repo(stack, "never-made")
    again = inv(["push", "--tag", "v1"], project, user_env)
    assert again.returncode == 0, again.stderr


def test_a_pull_from_a_missing_repository_says_name_unknown(stack, user_env, tmp_path):
    login(stack, user_env)
    pulled = docker(["pull", f"{stack.registry}/no-such-repo:v1"], user_env, check=False)
    assert pulled.returncode != 0
    assert "The repository with name 'no-such-repo' does not exist" in pulled.stderr


def test_a_deleted_repository_refuses_pushes_again(stack, user_env, tmp_path):
    create_repo(stack, "short-lived")
    image = f"{stack.registry}/short-lived:v1"
    make_image(image, user_env, tmp_path, seed="short")
    login(stack, user_env)
    assert docker(["push", image], user_env, check=False).returncode == 0

    ecr(stack).delete_repository(repositoryName="short-lived", force=True)
    refused = docker(["push", image], user_env, check=False)
    assert refused.returncode != 0 and "name unknown" in refused.stderr


# -- immutable tags -----------------------------------------------------------------


def test_an_immutable_tag_is_kept_when_pushed_again_without_create(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: frozen\n")
    make_image("frozen:v1", user_env, tmp_path, seed="first")
    first = inv(["login", "push", "--tag", "v1", "--create", "--immutable"], project, user_env)
    assert first.returncode == 0, first.stderr
    kept = served_digest(stack.registry, "frozen", "v1", stack.password)

    # Another image under the same tag, and no --create: nothing checks ahead,
    # so it is the registry itself that must refuse the manifest.
    make_image("frozen:v1", user_env, tmp_path / "second", seed="second")
    docker(["tag", "frozen:v1", f"{stack.registry}/frozen:v1"], user_env)
    raw = docker(["push", f"{stack.registry}/frozen:v1"], user_env, check=False)
    assert raw.returncode != 0
    assert (
        "tag invalid: The image tag 'v1' already exists in the 'frozen' repository"
        " and cannot be overwritten because the repository is immutable."
    ) in raw.stderr
    again = inv(["push", "--tag", "v1"], project, user_env)
    assert_one_clear_line(again, "frozen:v1", "immutable")
    assert served_digest(stack.registry, "frozen", "v1", stack.password) == kept

    # A new tag is fine in an immutable repository.
    new_tag = inv(["push", "--tag", "v2", "--image", "frozen:v1"], project, user_env)
    assert new_tag.returncode == 0, new_tag.stderr


def test_tag_mutability_set_through_the_api_decides(stack, user_env, tmp_path):
    create_repo(stack, "switching")
    image = f"{stack.registry}/switching:v1"
    login(stack, user_env)
    make_image(image, user_env, tmp_path, seed="one")
    assert docker(["push", image], user_env, check=False).returncode == 0

    api = ecr(stack)
    api.put_image_tag_mutability(repositoryName="switching", imageTagMutability="IMMUTABLE")
    make_image(image, user_env, tmp_path / "two", seed="two")
    refused = docker(["push", image], user_env, check=False)
    assert refused.returncode != 0 and "tag invalid" in refused.stderr

    api.put_image_tag_mutability(repositoryName="switching", imageTagMutability="MUTABLE")
    assert docker(["push", image], user_env, check=False).returncode == 0


# -- one store: what was pushed is what the API lists ---------------------------------


def test_pushed_tags_show_in_describe_images_and_list_images(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: listed/app\n")
    make_image("listed/app:v1", user_env, tmp_path, seed="listed")
    pushed = inv(["login", "push", "--tag", "v1", "--tag", "stable", "--create"], project,
                 user_env)  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    [digest] = set(DIGEST.findall(pushed.stdout))

    api = ecr(stack)
    [detail] = api.describe_images(repositoryName="listed/app")["imageDetails"]
    assert detail["imageDigest"] == digest
    assert sorted(detail["imageTags"]) == ["stable", "v1"]
    listed = api.list_images(repositoryName="listed/app")["imageIds"]
    assert {(i.get("imageTag"), i["imageDigest"]) for i in listed} == {
        ("v1", digest), ("stable", digest)
    }

    # Moving a mutable tag moves it in the API too.
    make_image("listed/app:v2", user_env, tmp_path / "v2", seed="listed-two")
    moved = inv(["push", "--tag", "stable", "--image", "listed/app:v2"], project, user_env)
    assert moved.returncode == 0, moved.stderr
    [new_digest] = set(DIGEST.findall(moved.stdout))
    tags = {
        d["imageDigest"]: sorted(d.get("imageTags", []))
        for d in api.describe_images(repositoryName="listed/app")["imageDetails"]
    }
    assert tags[new_digest] == ["stable"] and tags[digest] == ["v1"]


# -- the password, checked in full -------------------------------------------------------


def test_the_registry_checks_the_whole_password(stack):
    password = stack.password
    assert len(password) > 1500  # ECR-sized: far past bcrypt's 72 bytes

    status, headers, _ = ping(stack, basic(password))
    assert status == 200
    for position in (10, len(password) // 2, len(password) - 3):
        changed = password[:position] + ("A" if password[position] != "A" else "B")
        changed += password[position + 1 :]
        status, headers, body = ping(stack, basic(changed))
        assert status == 401, f"a password changed at {position} was accepted"
        assert headers["WWW-Authenticate"].startswith("Basic realm=")
        assert json.loads(body)["errors"][0]["message"] == "Not Authorized"
    assert ping(stack, None)[0] == 401


def test_a_token_past_its_expiry_is_refused_with_401(stack, user_env):
    stack.set_token_ttl(1)
    try:
        password = stack.password
    finally:
        stack.set_token_ttl(12 * 3600)
    assert ping(stack, basic(password))[0] == 200
    time.sleep(2.1)
    status, _, body = ping(stack, basic(password))
    assert status == 401
    assert "expired" in json.loads(body)["errors"][0]["message"]

    # docker login says so too, and a fresh token works again.
    refused = docker_login(stack, user_env, password)
    assert refused.returncode != 0 and "401" in refused.stderr
    assert docker_login(stack, user_env, stack.password).returncode == 0
