"""The engine's auth file: one owner, its lock beside it, writes that keep it whole.

The crowd test runs real processes on a real file, as CI jobs with a token
cache each and one shared ``~/.docker`` do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecr_tasks import authfile
from ecr_tasks.errors import ConfigError
from tests.conftest import REPO_ROOT

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

# One writer process: waits for the start signal, then adds its hosts one
# call at a time, each call a read-modify-write of the shared file.
_WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from ecr_tasks import authfile
start = Path({start!r})
while not start.exists():
    time.sleep(0.005)
for n in range({count}):
    authfile.set_helper(Path({file!r}), [f"{{n:012d}}.dkr.ecr.eu-west-{index}.amazonaws.com"])
"""


def test_a_crowd_of_writers_with_their_own_caches_keeps_every_entry(tmp_path: Path) -> None:
    file = tmp_path / "docker" / "config.json"
    start = tmp_path / "go"
    code = [
        _WRITER.format(root=str(REPO_ROOT), start=str(start), count=10, file=str(file), index=i)
        for i in range(1, 9)
    ]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", one],
            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / f"cache-{n}")},
        )
        for n, one in enumerate(code)
    ]
    time.sleep(0.5)  # let every writer reach its start line
    start.touch()
    assert [w.wait(timeout=120) for w in writers] == [0] * 8
    helpers = json.loads(file.read_text())["credHelpers"]
    assert len(helpers) == 80
    assert set(helpers.values()) == {"ecr-tasks"}


def test_the_lock_sits_beside_the_file_and_a_long_wait_ends_in_one_line(tmp_path: Path) -> None:
    file = tmp_path / "docker" / "config.json"
    holder = (
        f"import sys, time; sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        "from pathlib import Path\nfrom ecr_tasks import authfile\n"
        f"with authfile.locked(Path({str(file)!r})):\n"
        "    print('held', flush=True)\n    time.sleep(30)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        assert (tmp_path / "docker" / "config.json.lock").exists()
        began = time.monotonic()
        with pytest.raises(ConfigError) as raised, authfile.locked(file, wait=0.3):
            pass
        assert time.monotonic() - began < 5
        assert str(raised.value) == (
            f"{file} is locked by another login for over 0.3 s: retry, or remove "
            f"{file}.lock if no login is running"
        )
    finally:
        other.kill()
        other.wait()
        if other.stdout is not None:
            other.stdout.close()


def test_a_write_keeps_the_files_mode_and_updates_a_symlink_where_it_points(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real" / "config.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"auths": {"other.example": {"auth": "eA=="}}}))
    real.chmod(0o640)
    link = tmp_path / "docker" / "config.json"
    link.parent.mkdir()
    link.symlink_to(real)
    authfile.set_helper(link, [HOST])
    assert link.is_symlink()
    assert real.stat().st_mode & 0o777 == 0o640
    assert json.loads(real.read_text()) == {
        "auths": {"other.example": {"auth": "eA=="}},
        "credHelpers": {HOST: "ecr-tasks"},
    }
    assert not [p for p in real.parent.iterdir() if p.name.startswith(".tmp-")]  # no temp file


def test_a_helper_entry_replaces_the_stored_password_and_goes_with_logout(tmp_path: Path) -> None:
    file = tmp_path / "config.json"
    file.write_text(json.dumps({
        "auths": {f"https://{HOST}": {"auth": "QVdTOnNlY3JldA=="}, "ghcr.io": {"auth": "eA=="}},
        "credHelpers": {"gcr.io": "gcloud"},
    }))  # fmt: skip
    authfile.set_helper(file, [HOST.upper()])
    assert json.loads(file.read_text()) == {
        "auths": {"ghcr.io": {"auth": "eA=="}},
        "credHelpers": {"gcr.io": "gcloud", HOST: "ecr-tasks"},
    }
    authfile.drop_helper(file, [HOST, "gcr.io"])  # another program's entry is the user's
    assert json.loads(file.read_text())["credHelpers"] == {"gcr.io": "gcloud"}


@pytest.mark.parametrize(
    ("text", "words"),
    [("[1, 2]", "is not a JSON object"), ("{broken", "is not a JSON object")],
    ids=["list", "bad-json"],
)
def test_one_error_policy_for_a_file_that_is_not_ours_to_fix(
    tmp_path: Path, text: str, words: str
) -> None:
    file = tmp_path / "config.json"
    file.write_text(text)
    with pytest.raises(ConfigError, match=words):
        authfile.read(file)
    with pytest.raises(ConfigError, match=words):
        authfile.set_helper(file, [HOST])
    assert file.read_text() == text  # never replaced
    assert authfile.read(tmp_path / "missing.json") == {}
