"""End to end: the token cache, with real ``inv`` processes against the stack.

Every AWS request goes through the stack's fault proxy, which counts it, so
"no AWS call" is checked where the calls would be made, not inferred.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import (
    assert_one_clear_line,
    assert_state_valid,
    basic_auth,
    create_repo,
    docker_auths,
    inv,
    issued_auths,
    make_image,
    project_dir,
    token_files,
)
from tests.helpers import age_cache_entry, read_cache_entry, write_cache_entry

pytestmark = pytest.mark.e2e

GET_TOKEN = "GetAuthorizationToken"
TWELVE_HOURS = 12 * 3600.0
ENTRY_KEYS = {"format", "key", "host", "user", "password", "expires_at", "issued_at"}


def aws_calls(faults) -> int:
    """Every request the API saw: ECR, ECR Public and STS alike."""
    return sum(faults.counts.values())


def test_cached_login_makes_no_aws_call_even_with_the_api_down(
    stack, faults, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry)
    # No account configured: the cache must not need STS to name the entry.
    env = {k: v for k, v in own_env.items() if k != "INVOKE_ECR_ACCOUNT"}

    first = inv(["login"], project, env)
    assert first.returncode == 0, first.stderr
    assert faults.count(GET_TOKEN) == 1
    faults.reset_counts()

    second = inv(["login"], project, env)
    assert second.returncode == 0, second.stderr
    assert f"Logged in to {stack.registry}" in second.stdout
    assert faults.counts == {}, "a cached login asked AWS (ECR or STS)"

    stack.stop_api()
    try:
        offline = inv(["login"], project, env, timeout=60)
    finally:
        stack.start_api()
    assert offline.returncode == 0, offline.stderr
    assert f"Logged in to {stack.registry}" in offline.stdout
    assert faults.counts == {}
    assert docker_auths(env)[stack.registry]["auth"] in issued_auths(stack)


def test_cache_files_are_private_atomic_and_plain(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    cache = Path(own_env["XDG_CACHE_HOME"]) / "ecr-tasks"
    # A directory left too open by someone else is tightened, not trusted.
    cache.mkdir(parents=True)
    cache.chmod(0o755)

    result = inv(["login"], project, own_env)
    assert result.returncode == 0, result.stderr

    assert cache.stat().st_mode & 0o777 == 0o700
    [entry] = token_files(own_env)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in cache.iterdir() if p.name.startswith(".tmp")] == []
    data = read_cache_entry(entry)
    assert set(data) == ENTRY_KEYS
    assert data["format"] == 2 and data["key"] == entry.stem
    assert data["user"] == "AWS" and data["password"] in stack.issued_passwords()
    # The expiry is the API's (12 h), the issue time ours: both plausible.
    assert abs(data["issued_at"] - time.time()) < 60
    assert abs(data["expires_at"] - data["issued_at"] - TWELVE_HOURS) < 60
    # Neither the AWS secret key nor the key id (nor the principal) is stored.
    text = entry.read_text()
    assert own_env["AWS_SECRET_ACCESS_KEY"] not in text.replace(data["password"], "")
    assert "env-key" not in text and "profile:" not in text
    assert_state_valid(own_env)


def test_two_principals_never_share_an_entry_and_fresh_keys_still_hit(
    stack, faults, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry)

    def login(**overrides: str) -> int:
        faults.reset_counts()
        result = inv(["login"], project, {**own_env, **overrides})
        assert result.returncode == 0, result.stderr
        return aws_calls(faults)

    assert login(AWS_ACCESS_KEY_ID="AKIAFIRSTUSER0000001") == 1
    assert login(AWS_ACCESS_KEY_ID="AKIASECONDUSER000002") == 1, "second principal hit the first's"
    assert len(token_files(own_env)) == 2
    # The same key id with a refreshed secret and session token is the same principal.
    assert (
        login(
            AWS_ACCESS_KEY_ID="AKIAFIRSTUSER0000001",
            AWS_SECRET_ACCESS_KEY="rotated",
            AWS_SESSION_TOKEN="new-session",
        )
        == 0
    )
    assert len(token_files(own_env)) == 2


def test_profiles_get_their_own_entries_and_a_role_survives_refreshed_source_keys(
    stack, faults, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry)
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[profile alice]\nregion = us-east-1\n\n"
        "[profile bob]\nregion = us-east-1\n\n"
        "[profile ci]\nregion = us-east-1\n"
        f"role_arn = arn:aws:iam::{stack.account}:role/ci\nsource_profile = alice\n"
    )
    credentials = aws / "credentials"

    def write_keys(alice_key: str) -> None:
        credentials.write_text(
            f"[alice]\naws_access_key_id = {alice_key}\naws_secret_access_key = a-{alice_key}\n\n"
            "[bob]\naws_access_key_id = AKIABOB0000000000001\naws_secret_access_key = b\n"
        )

    write_keys("AKIAALICE00000000001")
    env = {
        k: v
        for k, v in own_env.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "INVOKE_ECR_ACCOUNT")
    }
    env.update(AWS_CONFIG_FILE=str(aws / "config"), AWS_SHARED_CREDENTIALS_FILE=str(credentials))

    def login(profile: str) -> dict[str, int]:
        faults.reset_counts()
        result = inv(["login", "--profile", profile], project, env)
        assert result.returncode == 0, result.stderr
        return faults.counts

    assert sum(login("alice").values()) == 1
    assert sum(login("bob").values()) == 1, "bob was handed alice's token"
    role = login("ci")
    assert faults.count("AssumeRole") == 1 and faults.count(GET_TOKEN) == 1, role
    assert len(token_files(env)) == 3

    # Tools like aws-vault rewrite the source profile's temporary keys on
    # every refresh; the role behind them is the same principal.
    write_keys("ASIAREFRESHED0000002")
    assert login("ci") == {}, "refreshed source keys missed the role's cached token"
    assert login("bob") == {}


def test_token_is_reused_until_half_its_life_then_replaced(stack, faults, own_env, tmp_path):
    # The clock moves by rewriting the entry's times, not by waiting: the same
    # real token (12 h, still good at the registry) is made to look older.
    project = project_dir(tmp_path, stack.registry)

    def login() -> int:
        faults.reset_counts()
        result = inv(["login"], project, own_env)
        assert result.returncode == 0, result.stderr
        assert f"Logged in to {stack.registry}" in result.stdout
        return aws_calls(faults)

    assert login() == 1
    [entry] = token_files(own_env)
    issued = read_cache_entry(entry)
    life = issued["expires_at"] - issued["issued_at"]
    assert abs(life - TWELVE_HOURS) < 60

    assert login() == 0, "a fresh token was not reused"
    # A minute short of half its life: still reused.
    age_cache_entry(entry, life / 2 - 60)
    assert login() == 0, "a token short of half its life was not reused"
    assert read_cache_entry(entry)["password"] == issued["password"]

    # A minute past half its life (two minutes more): replaced.
    aged = age_cache_entry(entry, 120)
    assert aged["issued_at"] + life / 2 < time.time() < aged["expires_at"]
    assert login() == 1, "a token past half its life was reused"
    assert faults.count(GET_TOKEN) == 1
    renewed = read_cache_entry(entry)
    assert renewed["password"] != issued["password"]
    assert renewed["password"] in stack.issued_passwords()
    assert abs(renewed["issued_at"] - time.time()) < 60
    assert renewed["expires_at"] > aged["expires_at"] + life / 2
    assert docker_auths(own_env)[stack.registry]["auth"] == basic_auth("AWS", renewed["password"])
    assert_state_valid(own_env)


def test_an_expired_token_is_never_handed_out_when_the_api_fails(
    stack, faults, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry)
    first = inv(["login"], project, own_env)
    assert first.returncode == 0, first.stderr
    [entry] = token_files(own_env)
    # Expired a minute ago as far as our cache knows, while the registry would
    # still take the token: handing it out would show as a login that works.
    issued = read_cache_entry(entry)
    aged = age_cache_entry(entry, issued["expires_at"] - time.time() + 60)
    assert aged["expires_at"] < time.time()

    # Forget the engine's copy too, so a success could only come from the old token.
    (Path(own_env["DOCKER_CONFIG"]) / "config.json").unlink()
    faults.reset_counts()
    # A 403 is not retried, so the test need not wait out the backoff.
    faults.fail(operation=GET_TOKEN, status=403)
    result = inv(["login"], project, own_env, timeout=90)
    assert_one_clear_line(result, GET_TOKEN)
    assert faults.count(GET_TOKEN) >= 1, "the expired token was not even questioned"
    assert "Logged in" not in result.stdout
    assert stack.registry not in docker_auths(own_env)
    assert_state_valid(own_env)


CORRUPTIONS = {
    "garbage": b"\x00\xff\xfegarbage{{{",
    "empty": b"",
    "json-list": b"[1, 2, 3]",
    "older-format": b'{"format": 1, "key": "k", "password": "p"}',
    "missing-fields": b"ecr-tasks token cache 2\n",
    "no-separator": b"ecr-tasks token cache 2\nkey\n",
    "wrong-types": None,  # a real entry whose expires_at became text
    "foreign-key": None,  # a real entry, but for another key
    "future-format": None,  # a real entry from a later format
    "directory": None,
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_cache_file_is_one_warning_then_rewritten(
    stack, faults, own_env, tmp_path, corruption
):
    project = project_dir(tmp_path, stack.registry)
    first = inv(["login"], project, own_env)
    assert first.returncode == 0, first.stderr
    [entry] = token_files(own_env)
    good = read_cache_entry(entry)

    if corruption == "directory":
        entry.unlink()
        entry.mkdir()
    elif CORRUPTIONS[corruption] is not None:
        entry.write_bytes(CORRUPTIONS[corruption])
    else:
        bad = dict(good)
        if corruption == "wrong-types":
            bad["expires_at"] = "tomorrow"
        elif corruption == "foreign-key":
            bad["key"] = "0" * 64
        else:
            bad["format"] = 99
        write_cache_entry(entry, bad)
    faults.reset_counts()

    result = inv(["login"], project, own_env)
    assert result.returncode == 0, result.stderr
    assert f"Logged in to {stack.registry}" in result.stdout
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1, result.stderr
    assert "warning" in warnings[0] and entry.name[:16] in warnings[0]
    assert faults.count(GET_TOKEN) == 1
    assert entry.is_file()
    rewritten = read_cache_entry(entry)
    assert set(rewritten) == ENTRY_KEYS and rewritten["password"] in stack.issued_passwords()
    assert_state_valid(own_env)


def test_an_entry_that_cannot_be_rewritten_leaves_no_temp_file(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    first = inv(["login"], project, own_env)
    assert first.returncode == 0, first.stderr
    [entry] = token_files(own_env)
    entry.unlink()
    entry.mkdir()
    (entry / "not-ours").write_text("keep me")

    result = inv(["login"], project, own_env)
    assert result.returncode == 0, result.stderr
    assert f"Logged in to {stack.registry}" in result.stdout
    assert all("warning" in line for line in result.stderr.strip().splitlines())
    assert (entry / "not-ours").read_text() == "keep me"
    cache = entry.parent
    assert [p.name for p in cache.iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.parametrize("how", ["flag", "invoke.yaml", "environment"])
def test_cache_off_calls_the_api_every_time_and_writes_nothing(
    stack, faults, own_env, tmp_path, how
):
    extra = "  cache: false\n" if how == "invoke.yaml" else ""
    project = project_dir(tmp_path, stack.registry, extra)
    args = ["login", "--no-cache"] if how == "flag" else ["login"]
    env = {**own_env, "INVOKE_ECR_CACHE": "false"} if how == "environment" else own_env
    for expected_calls in (1, 2):
        result = inv(args, project, env)
        assert result.returncode == 0, result.stderr
        assert faults.count(GET_TOKEN) == expected_calls
    assert token_files(env) == []
    cache = Path(env["XDG_CACHE_HOME"]) / "ecr-tasks"
    leftovers = [p.name for p in cache.iterdir()] if cache.exists() else []
    assert not [name for name in leftovers if name.endswith(".token") or ".tmp" in name]


def test_push_and_pull_log_in_with_the_cached_token_when_the_engine_holds_another(
    stack, faults, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry, "  repo: relogin-app\n")
    create_repo(stack, "relogin-app")
    make_image("relogin-app:v1", own_env, tmp_path, seed="relogin")
    first = inv(["login"], project, own_env)
    assert first.returncode == 0, first.stderr
    config = Path(own_env["DOCKER_CONFIG"]) / "config.json"
    good = docker_auths(own_env)[stack.registry]["auth"]  # the cached token's

    def break_engine_credentials() -> None:
        data = json.loads(config.read_text())
        data["auths"][stack.registry]["auth"] = basic_auth("AWS", "wrong")
        config.write_text(json.dumps(data))

    for args in (["push", "--create", "--tag", "v1"], ["pull", "--tag", "v1"]):
        break_engine_credentials()
        faults.reset_counts()
        result = inv(args, project, own_env)
        assert result.returncode == 0, result.stderr
        # The engine holds another login than the cached token: push and pull
        # log in with that token first (no API call), and never fail a try.
        assert faults.count(GET_TOKEN) == 0, f"{args[0]}: the cached token was not used"
        assert docker_auths(own_env)[stack.registry]["auth"] == good
        assert result.stdout.count("The push refers to repository") <= 1
        assert "unauthorized" not in (result.stdout + result.stderr).lower()
    assert_state_valid(own_env)


def test_a_cached_token_the_registry_rejects_is_refreshed_once(
    stack, faults, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry)
    first = inv(["login"], project, own_env)
    assert first.returncode == 0, first.stderr
    [entry] = token_files(own_env)
    revoked = read_cache_entry(entry)
    revoked["password"] = "revoked-token"
    write_cache_entry(entry, revoked)
    os.chmod(entry, 0o600)
    faults.reset_counts()

    result = inv(["login"], project, own_env)
    assert result.returncode == 0, result.stderr
    assert f"Logged in to {stack.registry}" in result.stdout
    assert faults.count(GET_TOKEN) == 1
    fresh = read_cache_entry(entry)["password"]
    assert fresh in stack.issued_passwords() and fresh != revoked["password"]
    assert docker_auths(own_env)[stack.registry]["auth"] == basic_auth("AWS", fresh)

