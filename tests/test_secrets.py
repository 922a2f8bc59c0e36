"""End to end: the registry password never shows, whatever the user asks for.

The password is checked in three forms: as is, as the ``AWS:<password>``
base64 that Docker stores and sends, and as its own base64. Runs use
``INVOKE_ECR_CACHE=false`` or ``--no-cache`` so that real tokens flow from
the API on every call.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from tests.conftest import (
    assert_no_issued_password,
    basic_auth,
    create_repo,
    docker,
    docker_auths,
    fake_engines,
    inv,
    inv_together,
    make_image,
    password_forms,
    project_dir,
)

pytestmark = pytest.mark.e2e


def break_engine_credentials(env: dict[str, str], registry: str) -> None:
    """Make the engine's stored login wrong, so push and pull must log in again."""
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    data = json.loads(config.read_text())
    data["auths"][registry]["auth"] = basic_auth("AWS", "wrong")
    config.write_text(json.dumps(data))


@pytest.mark.parametrize("flag", ["--echo", "--debug"])
def test_echo_and_debug_show_commands_but_never_the_password(
    stack, faults, own_env, tmp_path, flag
):
    repo = f"secret{flag.strip('-')}"
    project = project_dir(tmp_path, stack.registry, f"  repo: {repo}\n")
    create_repo(stack, repo)
    make_image(f"{repo}:v1", own_env, tmp_path, seed=flag)
    env = {**own_env, "INVOKE_ECR_CACHE": "false"}

    login = inv([flag, "login"], project, env)
    assert login.returncode == 0, login.stderr
    break_engine_credentials(env, stack.registry)
    push = inv([flag, "push", "--tag", "v1"], project, env)
    assert push.returncode == 0, push.stderr
    break_engine_credentials(env, stack.registry)
    pull = inv([flag, "pull", "--tag", "v1"], project, env)
    assert pull.returncode == 0, pull.stderr
    # Three real tokens: one per login, one per relogin of push and pull.
    # At least one real token per run (push with the cache off asks again to
    # check the pushed digest).
    assert faults.count("GetAuthorizationToken") >= 3

    runs = (login, push, pull)
    if flag == "--echo":
        line = f"docker login --username AWS --password-stdin {stack.registry}"
        assert all(line in run.stdout for run in runs)
        assert f"docker push {stack.registry}/{repo}:v1" in push.stdout
        assert f"docker pull {stack.registry}/{repo}:v1" in pull.stdout
    else:  # botocore's own debug output was on, and it had a token to show
        assert all("GetAuthorizationToken" in run.stderr for run in runs)
        assert all("botocore" in run.stderr for run in runs)
    for run in runs:
        assert_no_issued_password(stack, run.stdout, run.stderr)


def test_dry_runs_make_no_aws_call_and_run_no_engine_command(stack, faults, own_env, tmp_path):
    repo = "secret-dry"
    project = project_dir(tmp_path, stack.registry, f"  repo: {repo}\n")
    make_image(f"{repo}:v1", own_env, tmp_path, seed="dry")
    images_before = docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], own_env).stdout

    runs = [
        inv(["--dry", *args], project, own_env)
        for args in (["login"], ["push", "--tag", "v1"], ["pull", "--tag", "v1"],
                     ["login", "push", "--tag", "v1", "--create"])
    ]  # fmt: skip
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert_no_issued_password(stack, run.stdout, run.stderr)
    assert faults.counts == {}, "a dry run called AWS"
    assert docker_auths(own_env) == {}, "a dry run logged the engine in"
    images_after = docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], own_env).stdout
    assert sorted(images_after.split()) == sorted(images_before.split())
    assert f"{stack.registry}/{repo}:v1" not in images_after
    # What would run is shown.
    assert f"docker login --username AWS --password-stdin {stack.registry}" in runs[0].stdout
    assert f"docker push {stack.registry}/{repo}:v1" in runs[1].stdout
    assert f"docker pull {stack.registry}/{repo}:v1" in runs[2].stdout


def test_dry_runs_without_a_known_account_make_no_aws_call(stack, faults, own_env, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "tasks.py").write_text("from ecr_tasks import ns\n")
    (project / "invoke.yaml").write_text("ecr:\n  repo: secret-dry-account\n")
    env = {k: v for k, v in own_env.items() if k != "INVOKE_ECR_ACCOUNT"}
    for args in (["login"], ["tag", "--tag", "v1"], ["push", "--tag", "v1"], ["pull"]):
        run = inv(["--dry", *args], project, env)
        assert run.returncode == 0, run.stderr
        assert faults.counts == {}, f"inv --dry {' '.join(args)} called AWS"
        # The account only STS could tell is a placeholder in what would run.
        assert "<account>.dkr.ecr.us-east-1." in run.stdout, run.stdout


class ProcSampler(threading.Thread):
    """Reads every process's argument list and environment, over and over.

    It keeps each distinct text it read, so that they can be searched after
    the run for every password the API issued meanwhile (each call to the
    API hands out a new one, so they cannot be known in advance).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.done = threading.Event()
        self.sweeps = 0
        self.reads = 0
        self.seen: dict[bytes, int] = {}  # distinct text -> a pid that held it
        self.inv_pids: set[int] = set()
        self.engine_login_pids: set[int] = set()

    def run(self) -> None:
        while not self.done.is_set():
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                for part in ("cmdline", "environ"):
                    try:
                        with open(f"/proc/{entry.name}/{part}", "rb") as handle:
                            data = handle.read()
                    except OSError:
                        continue  # the process ended between listing and reading
                    self.reads += 1
                    self.seen.setdefault(data, int(entry.name))
                    if part == "cmdline" and b"-m\0invoke\0" in data:
                        self.inv_pids.add(int(entry.name))
                    if part == "cmdline" and b"login\0--username\0AWS\0--password-stdin" in data:
                        self.engine_login_pids.add(int(entry.name))
            self.sweeps += 1

    def leaks(self, passwords: list[str]) -> list[tuple[int, str]]:
        forms = [form.encode() for p in passwords for form in password_forms(p)]
        return [
            (pid, data.decode(errors="replace"))
            for data, pid in self.seen.items()
            if any(form in data for form in forms)
        ]

    def stop(self) -> None:
        self.done.set()
        self.join(10)


def test_the_password_is_in_no_process_argument_list(
    stack, faults, own_env, tmp_path, record_property
):
    project = project_dir(tmp_path, stack.registry, "  repo: secret-proc\n")
    create_repo(stack, "secret-proc")
    make_image("secret-proc:v1", own_env, tmp_path, seed="proc")
    first = inv(["login"], project, own_env)
    assert first.returncode == 0, first.stderr
    no_cache = {**own_env, "INVOKE_ECR_CACHE": "false"}

    sampler = ProcSampler()
    sampler.start()
    try:
        break_engine_credentials(no_cache, stack.registry)  # the push logs in again
        jobs = [["login", "--no-cache"]] * 5 + [["push", "--tag", "v1"]]
        results = inv_together([(args, project, no_cache) for args in jobs])
        for code, _out, err in results:
            assert code == 0, err
    finally:
        sampler.stop()

    print(
        f"\n/proc sampling: {sampler.sweeps} sweeps, {sampler.reads} files read, "
        f"{len(sampler.inv_pids)} inv and {len(sampler.engine_login_pids)} engine login "
        "processes seen"
    )
    record_property("proc_sweeps", sampler.sweeps)
    record_property("proc_reads", sampler.reads)
    record_property("engine_logins_seen", len(sampler.engine_login_pids))
    issued = stack.issued_passwords()
    assert len(issued) >= 6
    assert sampler.leaks(issued) == []
    assert faults.count("GetAuthorizationToken") >= 6  # tokens really flowed
    # It watched them run, down to the short-lived engine login processes.
    assert sampler.sweeps >= 20 and len(sampler.inv_pids) >= 6
    assert sampler.engine_login_pids


def test_error_messages_hold_no_password(stack, faults, own_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    stack.stop_registry()
    try:
        failed = [inv([*flags, "login", "--no-cache"], project, own_env, timeout=60)
                  for flags in ([], ["--debug"], ["--echo"])]  # fmt: skip
    finally:
        stack.start_registry()
    for run in failed:
        assert run.returncode != 0 and "unreachable" in run.stderr, run.stderr
        assert_no_issued_password(stack, run.stdout, run.stderr)


def test_an_engine_that_repeats_the_password_is_redacted(stack, faults, own_env, tmp_path):
    calls = fake_engines(tmp_path / "bin", ("podman",))
    project = project_dir(tmp_path, stack.registry, "  engine: podman\n")
    env = {
        **own_env,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{own_env['PATH']}",
        "FAKE_ENGINE_LOG": str(calls),
        "FAKE_ENGINE_FAIL": stack.registry,
        "FAKE_ENGINE_ECHO": "1",
    }
    for error in ("dial tcp: connection refused", "unauthorized: authentication required",
                  "something no one expected"):  # fmt: skip
        run = inv(["login", "--no-cache"], project, {**env, "FAKE_ENGINE_ERROR": error})
        assert run.returncode != 0 and stack.registry in run.stderr, run.stderr
        assert_no_issued_password(stack, run.stdout, run.stderr)


@pytest.mark.parametrize("flag", ["--echo", "--debug"])
def test_logging_in_by_itself_and_logout_never_show_the_password(
    stack, faults, own_env, tmp_path, flag
):
    # No `inv login`: push and pull get their token and log in on their own.
    repo = f"secret-self{flag.strip('-')}"
    project = project_dir(tmp_path, stack.registry, f"  repo: {repo}\n")
    make_image(f"{repo}:v1", own_env, tmp_path, seed=f"self{flag}")
    push = inv([flag, "push", "--create", "--tag", "v1"], project, own_env)
    assert push.returncode == 0, push.stderr
    fresh = {**own_env, "DOCKER_CONFIG": str(tmp_path / "fresh"), "INVOKE_ECR_CACHE": "false"}
    pull = inv([flag, "pull", "--image", f"{stack.registry}/{repo}:v1"], project, fresh)
    assert pull.returncode == 0, pull.stderr
    out = inv([flag, "logout"], project, own_env)
    assert out.returncode == 0, out.stderr
    assert faults.count("GetAuthorizationToken") >= 2  # real tokens flowed
    if flag == "--echo":
        line = f"docker login --username AWS --password-stdin {stack.registry}"
        assert line in push.stdout and line in pull.stdout
        assert f"docker logout {stack.registry}" in out.stdout
    for run in (push, pull, out):
        assert_no_issued_password(stack, run.stdout, run.stderr)
