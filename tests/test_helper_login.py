"""``inv login --helper`` and ``ecr.helper``: credHelpers written, logout removes them.

Real ``inv`` processes against the stand-in's API (AWS_ENDPOINT_URL): the
registries are named by ECR's real host names, which is what the helper
answers for. The engine's config is the test's own DOCKER_CONFIG.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.conftest import (
    assert_no_issued_password,
    assert_one_clear_line,
    inv,
    inv_together,
)

pytestmark = pytest.mark.e2e

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
OTHER = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
GET_TOKEN = "GetAuthorizationToken"


def project(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "tasks.py").write_text("from ecr_tasks import ns  # noqa: F401\n")
    (folder / "invoke.yaml").write_text(f"ecr:\n  region: us-east-1\n{extra}")
    return folder


@pytest.fixture
def env(own_env: dict[str, str]) -> dict[str, str]:
    found = {k: v for k, v in own_env.items() if not k.startswith("INVOKE_ECR_")}
    # Where pip put the console scripts, as on a user's PATH.
    found["PATH"] = os.path.dirname(sys.executable) + os.pathsep + found.get("PATH", "")
    return found


def config_path(env: dict[str, str]) -> Path:
    return Path(env["DOCKER_CONFIG"]) / "config.json"


def test_helper_login_writes_credhelpers_and_keeps_everything_else(
    stack, faults, env, tmp_path
):
    path = config_path(env)
    before = {
        "auths": {f"https://{HOST}": {"auth": "QVdTOm9sZA=="}, "ghcr.io": {"auth": "eDp5"}},
        "credHelpers": {"gcr.io": "gcloud"},
        "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
        "psFormat": "table {{.ID}}",
    }
    path.write_text(json.dumps(before))
    path.chmod(0o640)

    result = inv(["login", "--helper", "--registry", HOST], project(tmp_path), env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"Logged in to {HOST} (credential helper ecr-tasks, no password stored)"
    )
    after = json.loads(path.read_text())
    assert after["credHelpers"] == {"gcr.io": "gcloud", HOST: "ecr-tasks"}
    # The stored password for that host is gone; the other login stays.
    assert after["auths"] == {"ghcr.io": {"auth": "eDp5"}}
    assert after["proxies"] == before["proxies"] and after["psFormat"] == before["psFormat"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    # The token was fetched (and checked) now, so the first pull is warm.
    assert faults.count(GET_TOKEN) == 1
    assert_no_issued_password(stack, path.read_text(), result.stdout, result.stderr)


def test_ecr_helper_setting_and_logout_removing_only_ours(stack, env, tmp_path):
    folder = project(tmp_path, "  helper: true\n")
    path = config_path(env)
    path.write_text(json.dumps({"credHelpers": {OTHER: "ecr-login"}}))

    result = inv(["login", "--registry", HOST], folder, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text())["credHelpers"] == {OTHER: "ecr-login", HOST: "ecr-tasks"}

    out = inv(["logout", "--registry", HOST, "--registry", OTHER], folder, env)
    assert out.returncode == 0, out.stderr
    # Ours went; the entry naming another program is the user's and stays.
    assert json.loads(path.read_text())["credHelpers"] == {OTHER: "ecr-login"}


def test_concurrent_helper_logins_lose_no_entry(stack, env, tmp_path):
    folder = project(tmp_path)
    hosts = [f"1111111111{i:02d}.dkr.ecr.us-east-1.amazonaws.com" for i in range(6)]
    jobs = [(["login", "--helper", "--registry", h], folder, env) for h in hosts]
    results = inv_together(jobs)
    assert all(code == 0 for code, _, _ in results), results
    helpers = json.loads(config_path(env).read_text())["credHelpers"]
    assert helpers == dict.fromkeys(hosts, "ecr-tasks")


# What this checks: the lock that guards the engine's config.json while a
# login rewrites it must be one every writer of that file shares, wherever
# each keeps its token cache. CI jobs often have a cache each and one shared
# ~/.docker. Here JOBS logins start at once, each with an XDG_CACHE_HOME of
# its own and all with one DOCKER_CONFIG, each writing credHelpers entries
# for HOSTS_PER_JOB registries of its own: every entry must survive. A lock
# taken in the token cache folder ($XDG_CACHE_HOME/ecr-tasks) guards nothing
# here, and entries are lost.
JOBS = 8
HOSTS_PER_JOB = 6
REGIONS = ("us-east-1", "eu-west-1")


def test_helper_logins_with_caches_of_their_own_lose_no_entry_of_a_shared_config(
    stack, env, tmp_path, record_property
):
    folder = project(tmp_path)
    jobs, hosts = [], []
    for job in range(JOBS):
        args = ["login", "--helper"]
        for index in range(HOSTS_PER_JOB):
            host = f"{300000000000 + 100 * job + index}.dkr.ecr.{REGIONS[index % 2]}.amazonaws.com"
            args += ["--registry", host]
            hosts.append(host)
        jobs.append((args, folder, {**env, "XDG_CACHE_HOME": str(tmp_path / f"cache-{job}")}))
    results = inv_together(jobs)
    assert all(code == 0 for code, _, _ in results), results
    helpers = json.loads(config_path(env).read_text())["credHelpers"]
    kept = [host for host in hosts if helpers.get(host) == "ecr-tasks"]
    record_property("credhelpers_entries_kept", f"{len(kept)}/{len(hosts)}")
    print(f"\n{len(kept)} of {len(hosts)} credHelpers entries survived")
    assert helpers == dict.fromkeys(hosts, "ecr-tasks"), (
        f"{len(hosts) - len(kept)} of {len(hosts)} credHelpers entries were lost"
    )


def test_a_registry_override_cannot_use_the_helper(stack, faults, env, tmp_path):
    folder = project(tmp_path, f'  registry: "{stack.registry}"\n')
    result = inv(["login", "--helper"], folder, env)
    assert_one_clear_line(result, stack.registry, "--helper needs ECR's real", "--real-hosts")
    assert not config_path(env).exists()
    # Refused first: no token asked of AWS, none cached.
    assert faults.counts.get(GET_TOKEN, 0) == 0
    assert not list((Path(env["XDG_CACHE_HOME"]) / "ecr-tasks").glob("*.token"))


def test_a_missing_helper_program_is_one_line(stack, env, tmp_path):
    bare = {**env, "PATH": "/usr/bin:/bin"}
    result = inv(["login", "--helper", "--registry", HOST], project(tmp_path), bare)
    assert_one_clear_line(result, "docker-credential-ecr-tasks not found on PATH")
    assert not config_path(env).exists()


def test_a_config_that_is_not_json_is_left_alone(stack, env, tmp_path):
    path = config_path(env)
    path.write_text("{not json")
    result = inv(["login", "--helper", "--registry", HOST], project(tmp_path), env)
    assert_one_clear_line(result, str(path), "not a JSON object")
    assert path.read_text() == "{not json"


def test_dry_shows_the_entry_and_writes_nothing(stack, faults, env, tmp_path):
    result = inv(["--dry", "login", "--helper", "--registry", HOST], project(tmp_path), env)
    assert result.returncode == 0, result.stderr
    assert f"credHelpers[{HOST}] = ecr-tasks" in result.stdout
    assert not config_path(env).exists()
    assert faults.counts == {}
    assert os.listdir(env["DOCKER_CONFIG"]) == []
