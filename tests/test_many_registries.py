"""End to end: logins to several registries, to ECR Public, and through the
other engines (podman, nerdctl, finch).

Real ECR hosts (``<account>.dkr.ecr.<region>.amazonaws.com``) cannot be
reached offline, so those logins go through fake engine CLIs first on PATH
that record each call's arguments and stdin; the tokens still come from the
real API emulator through the counting fault proxy.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import (
    assert_one_clear_line,
    assert_state_valid,
    docker_auths,
    engine_calls,
    fake_engines,
    inv,
    issued_auths,
    project_dir,
    token_files,
)
from tests.helpers import read_cache_entry

pytestmark = pytest.mark.e2e

GET_TOKEN = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
GET_PUBLIC_TOKEN = "SpencerFrontendService.GetAuthorizationToken"
ACCOUNTS = ("123456789012", "210987654321")
REGIONS = ("us-east-1", "eu-west-1")
PAIRS = [(a, r) for r in REGIONS for a in ACCOUNTS]


def ecr_host(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def pair_args() -> list[str]:
    args = ["login"]
    for account in ACCOUNTS:
        args += ["--account", account]
    for region in REGIONS:
        args += ["--region", region]
    return args


@pytest.fixture
def engine_env(own_env, tmp_path):
    """``own_env`` with fake podman, nerdctl and finch first on PATH."""
    calls = fake_engines(tmp_path / "bin")
    env = {
        **own_env,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{own_env['PATH']}",
        "FAKE_ENGINE_LOG": str(calls),
    }
    return env, calls


def unregistered_project(tmp_path: Path, engine: str) -> Path:
    """A project with no ecr.registry: hosts are computed from account and region."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "tasks.py").write_text("from ecr_tasks import ns\n")
    (project / "invoke.yaml").write_text(f"ecr:\n  engine: {engine}\n")
    return project


def test_a_fixed_registry_refuses_several_pairs(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    result = inv(pair_args(), project, own_env)
    assert_one_clear_line(result, "ecr.registry")
    assert faults.counts == {}, "AWS was asked before the settings were checked"
    assert docker_auths(own_env) == {}


def test_every_pair_logs_in_with_one_api_call_per_region(stack, faults, engine_env, tmp_path):
    env, calls = engine_env
    project = unregistered_project(tmp_path, "podman")
    result = inv(pair_args(), project, env)
    assert result.returncode == 0, result.stderr

    lines = result.stdout.strip().splitlines()
    assert sorted(lines) == sorted(f"Logged in to {ecr_host(a, r)}" for a, r in PAIRS)
    assert faults.count(GET_TOKEN) == len(REGIONS)
    assert faults.counts.keys() == {GET_TOKEN}, "no STS call is needed when accounts are given"

    recorded = engine_calls(calls)
    assert len(recorded) == len(PAIRS)
    by_host = {call["args"][-1]: call for call in recorded}
    for account, region in PAIRS:
        call = by_host[ecr_host(account, region)]
        assert call["argv0"] == "podman"
        assert call["args"] == [
            "login", "--username", "AWS", "--password-stdin", ecr_host(account, region)
        ]  # fmt: skip
        assert call["stdin"] in stack.issued_passwords()
    # One token per account and region: the API hands out a new one for each.
    assert len({call["stdin"] for call in recorded}) == len(PAIRS)
    assert len(token_files(env)) == len(PAIRS)
    assert_state_valid(env)

    # All four are cached now: the same login asks AWS nothing.
    faults.reset_counts()
    again = inv(pair_args(), project, env)
    assert again.returncode == 0, again.stderr
    assert faults.counts == {}
    assert len(engine_calls(calls)) == 2 * len(PAIRS)


def test_one_failing_registry_hides_none_of_the_others(stack, faults, engine_env, tmp_path):
    env, calls = engine_env
    broken = ecr_host(ACCOUNTS[1], REGIONS[0])
    project = unregistered_project(tmp_path, "podman")
    result = inv(pair_args(), project, {**env, "FAKE_ENGINE_FAIL": broken})

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    succeeded = {ecr_host(a, r) for a, r in PAIRS} - {broken}
    assert sorted(result.stdout.strip().splitlines()) == sorted(
        f"Logged in to {host}" for host in succeeded
    )
    errors = result.stderr.strip().splitlines()
    assert [line for line in errors if broken in line], result.stderr
    assert not [line for host in succeeded for line in errors if host in line]
    assert "1 of 4 logins failed" in errors[-1]
    assert len(engine_calls(calls)) == len(PAIRS)
    assert faults.count(GET_TOKEN) == len(REGIONS)


def test_a_region_whose_api_fails_hides_none_of_the_others(stack, faults, engine_env, tmp_path):
    env, calls = engine_env
    project = unregistered_project(tmp_path, "podman")
    # Three refusals (a 403 is not retried): both calls of the regions' joint
    # round, then the first region asked again on its own; the second region
    # asked on its own gets its token.
    faults.fail(operation="GetAuthorizationToken", status=403, count=3)
    result = inv(["login", "--account", ACCOUNTS[0], "--region", REGIONS[0],
                  "--region", REGIONS[1]], project, env)  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    logged = result.stdout.strip().splitlines()
    assert logged == [f"Logged in to {ecr_host(ACCOUNTS[0], REGIONS[1])}"], result.stdout
    failed = REGIONS[0]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and failed in errors[0] and "GetAuthorizationToken" in errors[0]
    assert "1 of 2 logins failed" in errors[1]
    assert len(engine_calls(calls)) == 1
    assert faults.count(GET_TOKEN) == 4


@pytest.mark.parametrize("engine", ["podman", "nerdctl", "finch"])
def test_every_engine_gets_the_same_login_command(stack, faults, engine_env, tmp_path, engine):
    env, calls = engine_env
    project = unregistered_project(tmp_path, engine)
    host = ecr_host(ACCOUNTS[0], REGIONS[1])
    result = inv(["login", "--account", ACCOUNTS[0], "--region", REGIONS[1]], project, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Logged in to {host}"
    [call] = engine_calls(calls)
    assert call["argv0"] == engine
    assert call["args"] == ["login", "--username", "AWS", "--password-stdin", host]
    assert call["stdin"] in stack.issued_passwords()


def test_a_registry_that_rejects_every_token_is_asked_once_more_then_one_line(
    stack, faults, engine_env, tmp_path
):
    env, calls = engine_env
    project = unregistered_project(tmp_path, "podman")
    host = ecr_host(ACCOUNTS[0], REGIONS[0])
    args = ["login", "--account", ACCOUNTS[0], "--region", REGIONS[0]]
    first = inv(args, project, env)
    assert first.returncode == 0, first.stderr
    faults.reset_counts()
    rejecting = {
        **env,
        "FAKE_ENGINE_FAIL": host,
        "FAKE_ENGINE_ERROR": "unauthorized: authentication required",
    }
    result = inv(args, project, rejecting)
    assert_one_clear_line(result, host, "rejected")
    assert faults.count(GET_TOKEN) == 1, "a cached token the registry rejects is replaced once"
    assert len(engine_calls(calls)) == 3  # first login, the cached try, the fresh try


def test_public_login_uses_the_ecr_public_api(stack, faults, own_env, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "tasks.py").write_text("from ecr_tasks import ns\n")
    (project / "invoke.yaml").write_text(f'ecr:\n  public_registry: "{stack.registry}"\n')
    # No region anywhere: --public alone must do, its API lives in us-east-1.
    env = {
        k: v
        for k, v in own_env.items()
        if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "INVOKE_ECR_REGION")
    }

    result = inv(["login", "--public"], project, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Logged in to {stack.registry}"
    assert faults.counts == {GET_PUBLIC_TOKEN: 1}
    assert docker_auths(env)[stack.registry]["auth"] in issued_auths(stack)
    [entry] = token_files(env)
    assert_state_valid(env)

    faults.reset_counts()
    again = inv(["login", "--public"], project, env)
    assert again.returncode == 0, again.stderr
    assert faults.counts == {}, "a cached public token was not reused"

    # A private login in the same region keeps an entry of its own.
    both = inv(["login", "--public", "--region", "us-east-1"], project,
               {**env, "INVOKE_ECR_REGISTRY": stack.registry})  # fmt: skip
    assert both.returncode == 0, both.stderr
    assert faults.counts == {GET_TOKEN: 1}
    assert len(token_files(env)) == 2 and entry.exists()


def test_comma_separated_account_variable_logs_in_to_each(stack, faults, engine_env, tmp_path):
    env, calls = engine_env
    project = unregistered_project(tmp_path, "podman")
    env = {**env, "INVOKE_ECR_ACCOUNT": ",".join(ACCOUNTS)}
    result = inv(["login", "--region", REGIONS[1]], project, env)
    assert result.returncode == 0, result.stderr
    hosts = [ecr_host(a, REGIONS[1]) for a in ACCOUNTS]
    assert result.stdout.splitlines() == [f"Logged in to {host}" for host in hosts]
    assert faults.count(GET_TOKEN) == 1  # one call for both accounts of the region
    by_host = {call["args"][-1]: call["stdin"] for call in engine_calls(calls)}
    assert by_host == cached_passwords(env)
    assert set(by_host) == set(hosts)


def test_login_registry_takes_account_and_region_from_the_host(
    stack, faults, engine_env, tmp_path
):
    env, calls = engine_env
    project = unregistered_project(tmp_path, "podman")
    hosts = [ecr_host(ACCOUNTS[1], REGIONS[1]), ecr_host(ACCOUNTS[0], REGIONS[0])]
    result = inv(["login", "--registry", hosts[0], "--registry", hosts[1]], project, env)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted(f"Logged in to {h}" for h in hosts)
    assert faults.count(GET_TOKEN) == 2  # one per region, none to STS
    assert faults.counts.keys() == {GET_TOKEN}
    by_host = {call["args"][-1]: call["stdin"] for call in engine_calls(calls)}
    assert by_host == cached_passwords(env)
    assert set(by_host) == set(hosts)


def cached_passwords(env: dict[str, str]) -> dict[str, str]:
    """{registry host: password} of the token cache's entries."""
    entries = [read_cache_entry(path) for path in token_files(env)]
    return {entry["host"]: entry["password"] for entry in entries}


def test_public_login_with_dualstack_uses_the_dual_stack_host(
    stack, faults, engine_env, tmp_path
):
    env, calls = engine_env
    project = unregistered_project(tmp_path, "podman")
    (project / "invoke.yaml").write_text("ecr:\n  engine: podman\n  dualstack: true\n")
    result = inv(["login", "--public"], project, env)
    assert result.returncode == 0, result.stderr
    assert "Logged in to ecr-public.aws.com" in result.stdout.splitlines()
    assert "public.ecr.aws" not in result.stdout
    assert faults.count(GET_PUBLIC_TOKEN) == 1
    by_host = {call["args"][-1]: call["stdin"] for call in engine_calls(calls)}
    assert by_host["ecr-public.aws.com"] == cached_passwords(env)["ecr-public.aws.com"]
