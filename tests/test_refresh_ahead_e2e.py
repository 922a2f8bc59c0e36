"""End to end: the credential helper refreshes tokens ahead, against the stand-in's API.

The helper runs as the engine runs it (``get``, the host on stdin). Every
API request passes the stack's fault proxy, which counts it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import token_files
from tests.helpers import age_cache_entry, read_cache_entry

pytestmark = pytest.mark.e2e

GET_TOKEN = "GetAuthorizationToken"


def helper_get(host: str, env: dict[str, str]) -> str:
    """The password the helper answers for ``host``."""
    done = subprocess.run(
        [sys.executable, "-m", "ecr_tasks.credential_helper", "get"], input=host, env=env,
        text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    secret: str = json.loads(done.stdout)["Secret"]
    return secret


def refresher(host: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ecr_tasks.refresher", host], env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def cached_password(env: dict[str, str]) -> str:
    [entry] = token_files(env)
    password: str = read_cache_entry(entry)["password"]
    return password


def wait_for(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


@pytest.fixture
def host(stack) -> str:
    return f"{stack.account}.dkr.ecr.{stack.region}.amazonaws.com"


def test_a_stale_token_answers_at_once_and_is_renewed_in_the_background(
    stack, faults, own_env, host
):
    first = helper_get(host, own_env)  # an empty cache: the one call that waits
    assert faults.count(GET_TOKEN) == 1
    [entry] = token_files(own_env)
    age_cache_entry(entry, 7 * 3600)  # past half of its 12 h, still valid
    faults.reset_counts()

    answered = helper_get(host, own_env)
    assert answered == first, "the pull waited for a new token"
    wait_for(lambda: cached_password(own_env) != first)
    assert faults.count(GET_TOKEN) == 1  # the refresher's, after the answer
    renewed = cached_password(own_env)
    assert helper_get(host, own_env) == renewed
    assert faults.count(GET_TOKEN) == 1
    # A fresh cache starts no refresher: nothing ever took the refresher's lock.
    locks = list(entry.parent.glob("*.refresh.lock"))
    for lock in locks:
        lock.unlink()
    helper_get(host, own_env)
    time.sleep(0.5)
    assert not list(entry.parent.glob("*.refresh.lock"))
    assert faults.count(GET_TOKEN) == 1


def test_a_crowd_of_refreshers_makes_one_api_call(stack, faults, own_env, host):
    helper_get(host, own_env)
    [entry] = token_files(own_env)
    age_cache_entry(entry, 7 * 3600)
    faults.reset_counts()
    crowd = [refresher(host, own_env) for _ in range(8)]
    assert [p.wait(timeout=120) for p in crowd] == [0] * 8
    assert faults.count(GET_TOKEN) == 1


def test_a_refresher_that_fails_costs_the_answer_nothing(stack, faults, own_env, host):
    from filelock import FileLock

    first = helper_get(host, own_env)
    [entry] = token_files(own_env)
    age_cache_entry(entry, 7 * 3600)
    faults.reset_counts()
    faults.fail(operation=GET_TOKEN, status=400, code="AccessDeniedException")
    try:
        assert helper_get(host, own_env) == first  # and a refresher starts, to be refused
        wait_for(lambda: faults.count(GET_TOKEN) >= 1)
        [lock] = entry.parent.glob("*.refresh.lock")
        with FileLock(lock, timeout=60):  # the refresher has ended
            pass
    finally:
        faults.clear()
    assert cached_password(own_env) == first  # the entry is as it was
    assert helper_get(host, own_env) == first  # still valid, still answered


def test_steady_use_waits_only_once_and_asks_once_per_half_life(
    stack, faults, own_env, host
):
    life = 6.0
    stack.set_token_ttl(life)
    try:
        began = time.monotonic()
        helper_get(host, own_env)  # the only answer that waits for the API
        answers = 0
        while time.monotonic() - began < 2.5 * life:
            # Before each later pull the cache already holds a valid token,
            # so the helper answers from it (a stale one starts a refresher).
            [entry] = token_files(own_env)
            assert read_cache_entry(entry)["expires_at"] > time.time()
            helper_get(host, own_env)
            answers += 1
            time.sleep(0.25)
        elapsed = time.monotonic() - began
    finally:
        stack.set_token_ttl(12 * 3600.0)
    assert answers >= 10
    calls = faults.count(GET_TOKEN)
    assert 2 <= calls <= 1 + int(elapsed / (life / 2)) + 1, (calls, elapsed)


def test_the_refresher_holds_the_host_only_in_its_arguments(
    stack, own_env, host, monkeypatch
):
    # The refresher's command line, as ps shows it: the host and nothing secret.
    import os

    from ecr_tasks import refresher as module

    seen: list[list[str]] = []
    monkeypatch.setattr(os, "posix_spawn", lambda path, argv, env, **kw: seen.append(argv))
    module.start(host, own_env)
    assert seen == [[sys.executable, "-m", "ecr_tasks.refresher", host]]
