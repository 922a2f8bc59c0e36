"""End to end: ``inv logout`` undoes ``inv login``, as ``docker logout`` does,
and also forgets the cached tokens."""

from __future__ import annotations

import pytest

from tests.conftest import docker_auths, inv, project_dir, token_files

pytestmark = pytest.mark.e2e
GET_TOKEN = "GetAuthorizationToken"


def test_logout_removes_the_engine_login_and_the_cached_token(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    logged = inv(["login"], project, own_env)
    assert logged.returncode == 0, logged.stderr
    assert stack.registry in docker_auths(own_env) and token_files(own_env)

    out = inv(["logout"], project, own_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"Logged out of {stack.registry}\n"
    assert stack.registry not in docker_auths(own_env)
    assert token_files(own_env) == []

    # Nothing cached any more: the next login asks AWS again.
    faults.reset_counts()
    again = inv(["login"], project, own_env)
    assert again.returncode == 0, again.stderr
    assert faults.count(GET_TOKEN) == 1


def test_logout_of_a_registry_never_logged_in_is_fine(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    out = inv(["logout"], project, own_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"Logged out of {stack.registry}\n"


def test_logout_dry_shows_the_command_and_changes_nothing(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    assert inv(["login"], project, own_env).returncode == 0
    faults.reset_counts()
    out = inv(["--dry", "logout"], project, own_env)
    assert out.returncode == 0, out.stderr
    assert f"docker logout {stack.registry}" in out.stdout
    assert "Logged out" not in out.stdout
    assert stack.registry in docker_auths(own_env) and token_files(own_env)
    assert faults.counts == {}


def test_logout_of_a_host_that_is_not_ecrs_is_one_line(stack, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    out = inv(["logout", "--registry", "registry.example.com"], project, own_env)
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert "registry.example.com" in line and "ecr.registry" in line
