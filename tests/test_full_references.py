"""One command is the whole job, run as a user runs it (``inv`` in a project
of its own) with ``--dry``: which logins and engine commands would run.

``--dry`` makes no AWS call, and the AWS endpoint here is a closed port, so
a call would fail the run: these need no stand-in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import project_dir

A = "123456789012"
B = "210987654321"
EU = f"{A}.dkr.ecr.eu-west-1.amazonaws.com"
US = f"{B}.dkr.ecr.us-west-2.amazonaws.com"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_dir(tmp_path, None, f'  account: "{A}"\n  repo: app\n')


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_", "DOCKER_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        DOCKER_CONFIG=str(tmp_path / "docker"),
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # nothing listens: any AWS call fails
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    return env


def inv(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, text=True,
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip


def shown(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The command lines ``--dry`` printed, colour codes removed."""
    assert result.returncode == 0, result.stderr
    return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in result.stdout.splitlines()]


def login_line(host: str) -> str:
    return f"docker login --username AWS --password-stdin {host}"


def test_login_reads_only_its_own_flags(project: Path, env: dict[str, str]) -> None:
    # No region anywhere but push's: login has none, says so in one line, runs nothing.
    result = inv(["--dry", "login", "push", "--tag", "v1", "--region", "eu-west-1"], project, env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "ecr-tasks: no AWS region for login: pass --region after login (each flag belongs to"
        " the task it follows), set ecr.region (INVOKE_ECR_REGION) or AWS_REGION"
    )


def test_login_uses_the_settings_region_and_push_its_own_flag(
    project: Path, env: dict[str, str]
) -> None:
    args = ["--dry", "login", "push", "--tag", "v1", "--region", "eu-west-1"]
    lines = shown(inv(args, project, {**env, "AWS_REGION": "us-west-2"}))
    assert lines == [
        login_line(f"{A}.dkr.ecr.us-west-2.amazonaws.com"),
        login_line(EU),  # push logs in to its own registry by itself
        f"docker tag app:v1 {EU}/app:v1",
        f"docker push {EU}/app:v1",
    ]


@pytest.mark.parametrize("prefix", ["", "ecr."], ids=["root", "nested-collection"])
def test_the_same_region_on_both_tasks_logs_in_once(
    project: Path, env: dict[str, str], prefix: str
) -> None:
    if prefix:
        (project / "tasks.py").write_text(
            "from invoke import Collection\nimport ecr_tasks\n\nns = Collection(ecr=ecr_tasks.ns)\n"
        )
    args = ["--dry", f"{prefix}login", "--region", "eu-west-1", f"{prefix}push", "--tag", "v1",
            "--region", "eu-west-1"]  # fmt: skip
    assert shown(inv(args, project, env)) == [
        login_line(EU),
        f"docker tag app:v1 {EU}/app:v1",
        f"docker push {EU}/app:v1",
    ]


def test_pull_image_takes_everything_from_the_reference(
    project: Path, env: dict[str, str]
) -> None:
    ref = f"{US}/team/app@sha256:{'ab' * 32}"
    assert shown(inv(["--dry", "pull", "--image", ref], project, env)) == [
        login_line(US),
        f"docker pull {ref}",
    ]


def test_login_then_pull_image_logs_in_to_the_references_registry_once(
    project: Path, env: dict[str, str]
) -> None:
    ref = f"{US}/team/app:v1"
    args = ["--dry", "login", "--registry", US, "pull", "--image", ref]
    assert shown(inv(args, project, env)) == [
        login_line(US),
        f"docker pull {ref}",
    ]


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        pytest.param([US], [US], id="one"),
        pytest.param([US, EU, US], [US, EU], id="several-deduplicated"),
        pytest.param(["public.ecr.aws"], ["public.ecr.aws"], id="public"),
        pytest.param(["ecr-public.aws.com"], ["ecr-public.aws.com"], id="public-dualstack"),
        pytest.param(
            [f"{A}.dkr-ecr-fips.us-east-1.on.aws"], [f"{A}.dkr-ecr-fips.us-east-1.on.aws"],
            id="dualstack-fips",
        ),
    ],
)  # fmt: skip
def test_login_registry_logs_in_to_exactly_those_hosts(
    project: Path, env: dict[str, str], hosts: list[str], expected: list[str]
) -> None:
    args = ["--dry", "login"] + [word for host in hosts for word in ("--registry", host)]
    assert shown(inv(args, project, env)) == [login_line(host) for host in expected]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["pull", "--image", "docker.io/library/alpine:3"], id="docker-hub-image"),
        pytest.param(["pull", "--image", f"{EU}.evil.example/app:v1"], id="look-alike-image"),
        pytest.param(["login", "--registry", "registry.example.com"], id="other-registry"),
        pytest.param(["login", "--registry", f"{A}.dkr.ecr.eu-west-1.amazonaws.com.evil.example"],
                     id="look-alike-registry"),
    ],
)  # fmt: skip
def test_a_host_that_is_not_ecrs_is_one_line_pointing_at_ecr_registry(
    project: Path, env: dict[str, str], args: list[str]
) -> None:
    result = inv(args, project, env)
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ecr-tasks: invalid registry") and "ecr.registry" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(["pull", "--image", "team/app:v1"], ["full reference"], id="no-registry"),
        pytest.param(["pull", "--image", f"{EU}/app:v1", "--tag", "v2"], ["--image"],
                     id="image-and-tag"),
        pytest.param(["pull", "--image", "not a ref"], ["invalid image"], id="not-a-reference"),
    ],
)  # fmt: skip
def test_bad_image_reference_is_one_line(
    project: Path, env: dict[str, str], args: list[str], words: list[str]
) -> None:
    result = inv(args, project, env)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ecr-tasks: ") and all(w in line for w in words), line


def test_image_on_the_configured_registry_uses_the_settings(
    project: Path, env: dict[str, str]
) -> None:
    (project / "invoke.yaml").write_text(
        f'ecr:\n  account: "{A}"\n  region: eu-west-1\n  registry: "127.0.0.1:5999"\n'
    )
    lines = shown(inv(["--dry", "pull", "--image", "127.0.0.1:5999/team/app:v3"], project, env))
    assert lines == [login_line("127.0.0.1:5999"), "docker pull 127.0.0.1:5999/team/app:v3"]


def test_comma_separated_account_variable_works_like_repeating_account(
    project: Path, env: dict[str, str]
) -> None:
    (project / "invoke.yaml").write_text("ecr:\n  region: eu-west-1\n")
    many = {**env, "INVOKE_ECR_ACCOUNT": f"{A},{B}"}
    from_variable = shown(inv(["--dry", "login"], project, many))
    from_flags = shown(inv(["--dry", "login", "--account", A, "--account", B], project, env))
    assert from_variable == from_flags == [
        login_line(EU),
        login_line(f"{B}.dkr.ecr.eu-west-1.amazonaws.com"),
    ]
