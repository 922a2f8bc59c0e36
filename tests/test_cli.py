"""The ``ecr-tasks`` console script, run as a user runs it: a separate process
with no tasks.py around; then ``login push`` through it against the stack."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_no_issued_password, make_image

from ecr_tasks import __version__
from ecr_tasks.cli import project_dir

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("doctor", "login", "logout", "mirror", "pull", "push", "tag", "tags", "untag", "uri")


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """The process environment minus anything that could steer our settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_", "DOCKER_"))}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-credentials")
    return env


def ecr_tasks(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecr_tasks.cli", *args], cwd=cwd, env=env, text=True,
        capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_version(tmp_path: Path, clean_env: dict[str, str]) -> None:
    result = ecr_tasks(["--version"], tmp_path, clean_env)
    assert result.returncode == 0
    assert result.stdout == f"ecr-tasks {__version__}\n"


def test_list_shows_every_task(tmp_path: Path, clean_env: dict[str, str]) -> None:
    result = ecr_tasks(["--list"], tmp_path, clean_env)
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  (\S+)", result.stdout, re.M)
    assert tuple(listed) == TASKS


def test_no_arguments_prints_help(tmp_path: Path, clean_env: dict[str, str]) -> None:
    result = ecr_tasks([], tmp_path, clean_env)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ecr-tasks [--core-opts] <subcommand>")


def test_task_help_lists_its_flags(tmp_path: Path, clean_env: dict[str, str]) -> None:
    result = ecr_tasks(["--help", "doctor"], tmp_path, clean_env)
    assert result.returncode == 0
    for flag in ("--repo", "--region", "--profile", "--account"):
        assert flag in result.stdout


def test_uri_with_everything_given(tmp_path: Path, clean_env: dict[str, str]) -> None:
    result = ecr_tasks(
        ["uri", "--account", "123456789012", "--region", "eu-west-1", "--repo", "my-app",
         "--tag", "v1"], tmp_path, clean_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-app:v1\n"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(["uri", "--account", "12", "--region", "eu-west-1"], "'12'", id="account"),
        pytest.param(
            ["uri", "--account", "123456789012", "--region", "mars-1"], "'mars-1'", id="region"
        ),
        pytest.param(
            ["uri", "--account", "123456789012", "--region", "eu-west-1", "--repo", "My_App"],
            "'My_App'",
            id="repo",
        ),
        pytest.param(["push", "--tag", "-bad", "--repo", "my-app"], "'-bad'", id="tag"),
    ],
)
def test_bad_value_is_one_line_and_exit_1(
    tmp_path: Path, clean_env: dict[str, str], args: list[str], named: str
) -> None:
    result = ecr_tasks(args, tmp_path, clean_env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ecr-tasks: invalid ")
    assert named in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ecr:\n  region:\n    nested: 1\n", id="map-for-a-value"),
        pytest.param("ecr: 5\n", id="number-for-the-tree"),
        pytest.param("ecr: [\n", id="broken-yaml"),
    ],
)
def test_malformed_invoke_yaml_is_one_line(
    tmp_path: Path, clean_env: dict[str, str], text: str
) -> None:
    (tmp_path / "invoke.yaml").write_text(text)
    result = ecr_tasks(["uri", "--account", "123456789012", "--region", "eu-west-1"], tmp_path,
                       clean_env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ecr-tasks: invalid invoke configuration: ")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param(
            "ecr:\n  repo: a\n   region: b\n", "line 3: mapping values", id="bad-indentation"
        ),
        pytest.param("ecr:\n\trepo: a\n", "line 2: found character '\\t'", id="tab"),
        pytest.param("ecr:\n  repo a\n  region: b\n", "line 3: ", id="missing-colon"),
        pytest.param("ecr: [\n", "line 2: ", id="broken-yaml"),
        pytest.param("ecr: 5\n", "ecr holds 5, where a section belongs", id="number"),
        pytest.param(
            "ecr:\n  region:\n    nested: 1\n",
            "ecr.region holds a section of settings, where a single value belongs",
            id="map-for-a-value",
        ),
    ],
)
@pytest.mark.parametrize("program", ["ecr-tasks"])
def test_malformed_invoke_yaml_names_the_problem_in_one_line(
    tmp_path: Path, clean_env: dict[str, str], text: str, named: str, program: str
) -> None:
    (tmp_path / "invoke.yaml").write_text(text)
    args = ["uri", "--account", "123456789012", "--region", "eu-west-1"]
    if program == "inv":
        # A user's project: the copied tasks.py beside the file, run with inv.
        (tmp_path / "tasks.py").write_text((ROOT / "tasks.py").read_text())
        result = subprocess.run(
            [sys.executable, "-m", "invoke", *args], cwd=tmp_path, env=clean_env, text=True,
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
    else:
        result = ecr_tasks(args, tmp_path, clean_env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ecr-tasks: invalid invoke configuration: ")
    assert named in result.stderr
    if "line" in named:
        assert str(tmp_path / "invoke.yaml") in result.stderr


def test_importing_the_collection_leaves_the_programs_excepthook_alone() -> None:
    # The ecr-tasks program reports a malformed invoke.yaml in one line around
    # its own run; a library imported into inv must not take sys.excepthook.
    done = subprocess.run(
        [sys.executable, "-c", "import sys; before = sys.excepthook\n"
         "from ecr_tasks import ns\nassert ns and sys.excepthook is before"],
        text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_invoke_yaml_in_the_working_directory_is_honoured(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    (tmp_path / "invoke.yaml").write_text(
        'ecr:\n  registry: "127.0.0.1:5000"\n  region: eu-west-1\n  repo: from-yaml\n'
    )
    result = ecr_tasks(["uri", "--tag", "v1"], tmp_path, clean_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "127.0.0.1:5000/from-yaml:v1\n"


def test_invoke_yaml_above_the_working_directory_is_honoured(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    (tmp_path / "invoke.yaml").write_text(
        'ecr:\n  registry: "127.0.0.1:5000"\n  region: eu-west-1\n'
    )
    below = tmp_path / "src" / "app"
    below.mkdir(parents=True)
    result = ecr_tasks(["uri", "--repo", "deep"], below, clean_env)
    assert result.stdout == "127.0.0.1:5000/deep\n", result.stderr


def test_environment_beats_invoke_yaml_and_flags_beat_both(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    (tmp_path / "invoke.yaml").write_text(
        'ecr:\n  registry: "127.0.0.1:5000"\n  region: eu-west-1\n  repo: from-yaml\n'
    )
    env = {**clean_env, "INVOKE_ECR_REPO": "from-env"}
    assert ecr_tasks(["uri"], tmp_path, env).stdout == "127.0.0.1:5000/from-env\n"
    flagged = ecr_tasks(["uri", "--repo", "from-flag"], tmp_path, env)
    assert flagged.stdout == "127.0.0.1:5000/from-flag\n"


def test_startup_does_not_import_boto3(tmp_path: Path, clean_env: dict[str, str]) -> None:
    probe = (
        "import sys\n"
        "from ecr_tasks import cli\n"
        "try:\n"
        "    cli.main(['ecr-tasks', '--list'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=clean_env, text=True,
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.stdout.splitlines()[-1] == "[]", result.stdout + result.stderr


def test_console_script_is_declared() -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert scripts["ecr-tasks"].value == "ecr_tasks.cli:main"


def test_installed_console_script(tmp_path: Path, clean_env: dict[str, str]) -> None:
    script = Path(sys.executable).parent / "ecr-tasks"
    if not script.exists():
        pytest.skip("ecr-tasks is not installed next to this Python")
    result = subprocess.run(
        [str(script), "--version"], cwd=tmp_path, env=clean_env, text=True,
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.stdout == f"ecr-tasks {__version__}\n"


def test_project_dir_finds_the_nearest_config(tmp_path: Path) -> None:
    (tmp_path / "invoke.yml").write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "invoke.json").write_text("{}")
    assert project_dir(tmp_path / "a" / "b") == tmp_path / "a"
    assert project_dir(tmp_path) == tmp_path


# -- end to end ----------------------------------------------------------------


@pytest.mark.e2e
def test_login_push_with_no_tasks_py(stack: Any, user_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "invoke.yaml").write_text(f'ecr:\n  registry: "{stack.registry}"\n  repo: cli-app\n')
    make_image("cli-app:v1", user_env, tmp_path)

    pushed = ecr_tasks(["login", "push", "--tag", "v1", "--create"], project, user_env)

    assert pushed.returncode == 0, pushed.stderr
    assert f"Logged in to {stack.registry}" in pushed.stdout
    assert re.search(
        rf"Pushed {re.escape(stack.registry)}/cli-app:v1 sha256:[a-f0-9]{{64}}", pushed.stdout
    ), pushed.stdout
    assert_no_issued_password(stack, pushed.stdout, pushed.stderr)

    digest = ecr_tasks(["uri", "--tag", "v1", "--digest"], project, user_env)
    assert digest.returncode == 0, digest.stderr
    assert digest.stdout.startswith(f"{stack.registry}/cli-app@sha256:")
