"""The fast paths stay fast: no boto3 or botocore where no AWS call is made,
and botocore's objects kept out of the garbage collector's way where one is.

Importing them costs a tenth of a second or more, which is most of what
``benchmarks/`` measures for ``inv --list`` and for a login with a cached
token. Each check runs in a fresh interpreter, since this one has long
imported everything.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, project_dir

HEAVY = ("boto3", "botocore")

_LOADED = "print(sorted(m for m in {heavy!r} if m in sys.modules))"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INVOKE_"))}
    env["HOME"] = str(tmp_path)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


def _loaded_after(code: str, cwd: Path, env: dict[str, str]) -> list[str]:
    probe = f"import sys\n{code}\n{_LOADED.format(heavy=HEAVY)}\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, env=env, text=True,
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.splitlines()[-1])  # noqa: S307 - our own probe's list


def _imported(importtime_stderr: str) -> set[str]:
    """Top-level package names in ``python -X importtime`` output."""
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", importtime_stderr, re.M)
    return {name.split(".")[0] for name in names}


def test_importing_the_collection_loads_no_aws_sdk(tmp_path: Path) -> None:
    code = (
        "import ecr_tasks\n"
        "from invoke import Collection, Config, Context, Program, task\n"
        "from ecr_tasks import ns\n"
        "assert 'login' in ns.task_names\n"
    )
    assert _loaded_after(code, tmp_path, _clean_env(tmp_path)) == []


def test_invoke_loading_our_tasks_py_loads_no_aws_sdk(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "tasks.py", tmp_path / "tasks.py")
    code = (
        "from invoke import Collection, FilesystemLoader\n"
        "module, _ = FilesystemLoader(start='.').load('tasks')\n"
        "ns = Collection.from_module(module)\n"
        "assert 'login' in ns.task_names\n"
    )
    assert _loaded_after(code, tmp_path, _clean_env(tmp_path)) == []


def test_inv_list_imports_no_aws_sdk(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "tasks.py", tmp_path / "tasks.py")
    output, imported = _inv_importtime(["--list"], tmp_path, _clean_env(tmp_path))
    assert "login" in output
    assert imported.isdisjoint(HEAVY)


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-on", "gc-off"])
def test_building_a_client_leaves_the_garbage_collector_as_it_was(
    tmp_path: Path, enabled: bool
) -> None:
    # No network: building a client reads botocore's models and nothing else.
    code = (
        "import gc\n"
        f"{'' if enabled else 'gc.disable()'}\n"
        "before = (gc.get_freeze_count(), gc.get_threshold())\n"
        "from ecr_tasks.aws import Aws\n"
        "Aws().client('ecr', 'eu-west-1')\n"
        "assert (gc.get_freeze_count(), gc.get_threshold()) == before, gc.get_freeze_count()\n"
        f"assert gc.isenabled() is {enabled}\n"
    )
    env = {**_clean_env(tmp_path), "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    assert _loaded_after(code, tmp_path, env) == ["botocore"]  # and boto3 is not needed


@pytest.mark.e2e
def test_a_users_task_after_our_login_finds_the_collector_untouched(stack, user_env, tmp_path):
    # ns nested in the user's own collection; our login builds a client
    # (an empty cache), then the user's task runs in the same process.
    project = project_dir(tmp_path, stack.registry)
    (project / "tasks.py").write_text(
        "import gc\n"
        "from invoke import Collection, task\n"
        "import ecr_tasks\n\n"
        "FROZEN = gc.get_freeze_count()  # Python 3.12 starts with some\n\n"
        "@task\n"
        "def probe(c):\n"
        "    print('frozen', gc.get_freeze_count() - FROZEN, 'enabled', gc.isenabled())\n\n"
        "ns = Collection(probe, ecr=ecr_tasks.ns)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "ecr.login", "probe"],
        cwd=project, env=user_env, text=True, capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Logged in to {stack.registry}" in done.stdout
    assert "frozen 0 enabled True" in done.stdout


def _inv_importtime(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "invoke", *args], cwd=cwd, env=env,
        text=True, capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout, _imported(done.stderr)


@pytest.mark.e2e
def test_login_with_a_cached_token_imports_no_aws_sdk(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry)
    # The first login asks the API: botocore is loaded, which shows the probe works.
    _, first = _inv_importtime(["login"], project, user_env)
    assert "botocore" in first

    output, cached = _inv_importtime(["login"], project, user_env)
    assert f"Logged in to {stack.registry}" in output
    assert cached.isdisjoint(HEAVY)


ROOT = Path(__file__).resolve().parent.parent
#: What a cached answer may load on top of the interpreter's start: our own
#: modules and CPython's SHA-256; json, re, pathlib, hashlib, collections or
#: contextlib would each cost a pull 5 to 25 ms.
LEAN = {"ecr_tasks", "__future__", "_sha2", "_sha256"}
#: Never, whatever the credentials: a profile's config is read with configparser.
NEVER = {"json", "pathlib", "hashlib", "typing", "dataclasses", "inspect", "subprocess",
         "invoke", "botocore", "boto3", "filelock"}  # fmt: skip


@pytest.mark.parametrize("credentials", ["keys", "profile"])
def test_the_helpers_cached_answer_loads_only_what_it_uses(
    tmp_path: Path, credentials: str
) -> None:
    # A fresh token in the cache, put there as a login would; then the helper's
    # get, in a process of its own, as the engine runs it.
    env = _clean_env(tmp_path)
    if credentials == "keys":
        env.update(AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="x")
    else:
        (tmp_path / "config").write_text("[profile dev]\nregion = eu-west-1\n")
        env.update(AWS_PROFILE="dev", AWS_CONFIG_FILE=str(tmp_path / "config"))
    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    seed = (
        "import time\n"
        "from ecr_tasks import awsconfig\n"
        "from ecr_tasks.cache import Token, TokenCache, cache_dir, entry_key\n"
        "key = entry_key('eu-west-1', '123456789012', False,\n"
        "    awsconfig.principal_hint(None), __import__('os').environ)\n"
        f"TokenCache(cache_dir()).put(key, Token({host!r}, 'AWS', 'pw', time.time() + 3600,"
        " time.time()))\n"
    )
    assert _loaded_after(seed, tmp_path, env) == []
    probe = (
        "import io, os, sys\n"  # os: what site would have loaded
        "before = set(sys.modules)\n"
        f"sys.stdin = io.StringIO({host!r})\n"
        "from ecr_tasks.credential_helper import main\n"
        "assert main(['get']) == 0\n"
        "print(sorted(m.split('.')[0] for m in set(sys.modules) - before), file=sys.stderr)\n"
    )
    # -S: no site, so no editable install's import hook has loaded re or
    # pathlib before the probe looks; the package comes from the source tree.
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        text=True, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"Secret": "pw"' in done.stdout
    loaded = set(eval(done.stderr.splitlines()[-1]))  # noqa: S307 - our own probe's list
    assert loaded.isdisjoint(NEVER), sorted(loaded & NEVER)
    if credentials == "keys":  # as in CI: nothing but our own modules
        assert loaded <= LEAN, sorted(loaded - LEAN)
    else:
        assert "configparser" in loaded


def test_only_the_helpers_console_entry_tunes_the_collector(tmp_path: Path) -> None:
    # main() is what a caller's own code may run: it leaves the collector alone.
    code = (
        "import gc, io\n"
        "frozen = gc.get_freeze_count()\n"
        "from ecr_tasks.credential_helper import main\n"
        "sys.stdout = io.StringIO()\n"
        "assert main(['version']) == 0\n"
        "sys.stdout = sys.__stdout__\n"
        "assert gc.isenabled() and gc.get_freeze_count() == frozen\n"
    )
    assert _loaded_after(code, tmp_path, _clean_env(tmp_path)) == []
    entry = (
        "import gc, sys\nimport ecr_tasks.credential_helper as h\nsys.argv = ['x', 'version']\n"
        "frozen = gc.get_freeze_count()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", entry + "try:\n    h.entry()\nexcept SystemExit:\n"
         "    print(gc.isenabled(), gc.get_freeze_count() > frozen)\n"],
        cwd=tmp_path, env=_clean_env(tmp_path), text=True, capture_output=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "False True", done.stderr
