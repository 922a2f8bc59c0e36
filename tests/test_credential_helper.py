"""The credential helper program against the stand-in's API.

The engine would call ``docker-credential-ecr-tasks`` with a real ECR host;
here the API calls go to the stand-in (AWS_ENDPOINT_URL), through the fault
proxy that counts them. Pulls through an engine that calls the helper are in
test_credential_helper_e2e.py (real host names, in real-hosts mode).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from ecr_tasks.credential_helper import NOT_FOUND
from tests.conftest import assert_no_issued_password, inv, project_dir, token_files
from tests.helpers import age_cache_entry, read_cache_entry

pytestmark = pytest.mark.e2e

GET_TOKEN = "GetAuthorizationToken"
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
TWELVE_HOURS = 12 * 3600.0


def helper_program() -> str:
    found = shutil.which("docker-credential-ecr-tasks", path=os.path.dirname(sys.executable))
    assert found, "the console script is not installed next to this Python"
    return found


def helper(action: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helper_program(), action], input=stdin, env=env, text=True,
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def helper_env(user_env: dict[str, str]) -> dict[str, str]:
    # The engine passes no invoke settings: only the AWS environment.
    return {k: v for k, v in user_env.items() if not k.startswith("INVOKE_")}


def test_get_answers_with_an_issued_password_then_from_the_cache(stack, faults, helper_env):
    first = helper("get", helper_env, HOST + "\n")
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["ServerURL"] == HOST and answer["Username"] == "AWS"
    assert answer["Secret"] == stack.issued_passwords()[-1]
    assert len(answer["Secret"]) > 1000  # ECR-sized, checked in full by the registry
    assert faults.count(GET_TOKEN) == 1
    assert first.stderr == ""

    # The cache: private, and it answers the next call without AWS.
    [entry] = token_files(helper_env)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    faults.reset_counts()
    again = helper("get", helper_env, f"https://{HOST}")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["Secret"] == answer["Secret"]
    assert json.loads(again.stdout)["ServerURL"] == f"https://{HOST}"
    assert faults.counts == {}, "a cached answer asked AWS"


@pytest.mark.parametrize(
    "server", ["index.docker.io", "127.0.0.1:5000", f"{HOST}.evil.example", "quay.io/team"]
)
def test_a_host_that_is_not_ecrs_is_not_found_without_asking_aws(faults, helper_env, server):
    result = helper("get", helper_env, server)
    assert result.returncode == 1
    # Engines read stdout and take exactly this sentence as "go on anonymously".
    assert result.stdout.strip() == NOT_FOUND
    assert faults.counts == {}


def test_a_crowd_of_ten_makes_one_api_call(stack, faults, helper_env):
    crowd = [
        subprocess.Popen([helper_program(), "get"], env=helper_env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(10)
    ]  # fmt: skip
    for process in crowd:
        process.stdin.write(HOST)
        process.stdin.close()
    outputs = [(p.wait(120), p.stdout.read(), p.stderr.read()) for p in crowd]
    for process in crowd:
        process.stdout.close()
        process.stderr.close()
    assert all(code == 0 for code, _, _ in outputs), outputs
    secrets = {json.loads(out)["Secret"] for _, out, _ in outputs}
    assert len(secrets) == 1
    assert faults.count(GET_TOKEN) == 1


def test_inv_login_and_the_helper_share_one_token(stack, faults, helper_env, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  region: us-east-1\n")
    env = {k: v for k, v in own_env.items() if k != "INVOKE_ECR_ACCOUNT"}
    logged = inv(["login"], project, env)
    assert logged.returncode == 0, logged.stderr
    assert faults.count(GET_TOKEN) == 1
    faults.reset_counts()

    answer = helper("get", {**helper_env, "XDG_CACHE_HOME": env["XDG_CACHE_HOME"]}, HOST)
    assert answer.returncode == 0, answer.stderr
    assert faults.counts == {}, "the helper did not reuse the login's token"
    [entry] = token_files(env)
    assert json.loads(answer.stdout)["Secret"] == read_cache_entry(entry)["password"]


def test_a_token_past_half_its_life_is_renewed_and_an_expired_one_never_given(
    stack, faults, helper_env
):
    # The clock moves by rewriting the cache entry's times, not by waiting.
    first = helper("get", helper_env, HOST)
    assert first.returncode == 0, first.stderr
    [entry] = token_files(helper_env)
    issued = read_cache_entry(entry)
    life = issued["expires_at"] - issued["issued_at"]
    assert abs(life - TWELVE_HOURS) < 60

    # A minute past half its life: the answer is still that valid token, at
    # once, and a refresher renews the entry in the background.
    age_cache_entry(entry, life / 2 + 60)
    second = helper("get", helper_env, HOST)
    assert second.returncode == 0, second.stderr
    same = json.loads(second.stdout)["Secret"] == json.loads(first.stdout)["Secret"]
    assert same, "the answer waited for a new token"
    deadline = time.monotonic() + 60
    while read_cache_entry(entry)["password"] == json.loads(first.stdout)["Secret"]:
        assert time.monotonic() < deadline, "the refresher did not renew the entry"
        time.sleep(0.05)
    assert faults.count(GET_TOKEN) == 2
    renewed = json.loads(helper("get", helper_env, HOST).stdout)["Secret"]

    # Expired a minute ago and the API refusing: an error, never the old password.
    cached = read_cache_entry(entry)
    assert cached["password"] == renewed
    age_cache_entry(entry, cached["expires_at"] - time.time() + 60)
    faults.reset_counts()
    faults.fail(operation=GET_TOKEN, status=403)
    third = helper("get", helper_env, HOST)
    assert third.returncode == 1
    [line] = third.stderr.strip().splitlines()
    assert line.startswith("ecr-tasks: ") and GET_TOKEN in line
    assert third.stdout.strip() == line  # what the engine shows
    assert faults.count(GET_TOKEN) >= 1
    assert_no_issued_password(stack, third.stdout, third.stderr)


def test_without_aws_credentials_it_fails_in_one_line(helper_env, tmp_path):
    env = {k: v for k, v in helper_env.items() if not k.startswith("AWS_ACCESS_KEY_ID")}
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))  # fmt: skip
    result = helper("get", env, HOST)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line == (
        "ecr-tasks: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or run `aws configure`"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_store_erase_list_and_version(stack, helper_env):
    record = json.dumps({"ServerURL": HOST, "Username": "AWS", "Secret": "not-kept"})
    stored = helper("store", helper_env, record)
    assert (stored.returncode, stored.stdout) == (0, "")
    assert token_files(helper_env) == [], "store kept something"
    assert helper("erase", helper_env, HOST).returncode == 0

    assert json.loads(helper("list", helper_env).stdout) == {}
    assert helper("get", helper_env, HOST).returncode == 0
    assert json.loads(helper("list", helper_env).stdout) == {HOST: "AWS"}

    version = helper("version", helper_env)
    assert version.returncode == 0
    assert version.stdout.startswith("docker-credential-ecr-tasks (ecr-tasks) ")

    unknown = helper("fetch", helper_env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "ecr-tasks: unknown action 'fetch': expected one of get, store, erase, list, version"
    )
    empty = helper("get", helper_env, "")
    assert empty.returncode == 1
    assert "no server URL on stdin" in empty.stderr


_IMPORTED = """
import sys, io
from ecr_tasks import credential_helper
sys.stdin = io.StringIO(sys.argv[1])
code = credential_helper.main(["get"])
names = sorted({m.split(".")[0] for m in sys.modules})
print(code, " ".join(names), file=sys.stderr)
"""


def imported_by_get(env: dict[str, str]) -> tuple[int, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED, HOST], env=env, text=True,
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    code, *names = result.stderr.strip().splitlines()[-1].split()
    return int(code), set(names)


def test_a_cached_answer_imports_neither_invoke_nor_botocore(stack, helper_env):
    code, cold = imported_by_get(helper_env)
    assert code == 0
    assert "botocore" in cold  # the check can see botocore when it is loaded
    code, warm = imported_by_get(helper_env)
    assert code == 0
    assert not warm & {"invoke", "botocore", "boto3", "urllib3", "logging", "concurrent"}, warm
