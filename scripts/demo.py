"""Show the main job end to end with no AWS account.

Starts the local ECR stand-in, makes a small image, then runs what a user
types in their project: ``inv login push --tag v1``, removes the local
image, and ``inv pull --tag v1``. Each command is printed before it runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ecr_tasks.standin import Stack, StandinError

ROOT = Path(__file__).resolve().parent.parent


def step(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    shown = ["inv", *argv[3:]] if argv[:3] == [sys.executable, "-m", "invoke"] else argv
    print(f"\n$ {shlex.join(shown)}", flush=True)
    subprocess.run(argv, cwd=cwd, env=env, check=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ecr-demo-") as scratch:
        work = Path(scratch)
        try:
            stack = Stack(work / "standin").start()
        except StandinError as error:
            print(f"demo: the local ECR stand-in did not start: {error}", file=sys.stderr)
            return 1
        try:
            env = {**os.environ, **stack.env(), "XDG_CACHE_HOME": str(work / "cache")}
            project = work / "my-project"
            project.mkdir()
            shutil.copy(ROOT / "tasks.py", project / "tasks.py")
            (project / "invoke.yaml").write_text(
                f'ecr:\n  registry: "{stack.registry}"\n  repo: my-app\n'
            )
            print(stack.settings_text())
            print("\nA project holding only tasks.py and this invoke.yaml:")
            print((project / "invoke.yaml").read_text())

            rootfs = work / "rootfs"
            rootfs.mkdir()
            (rootfs / "hello.txt").write_text("hello from the ecr-tasks demo\n")
            with tarfile.open(work / "rootfs.tar", "w") as tar:
                tar.add(rootfs / "hello.txt", arcname="hello.txt")
            step(["docker", "import", str(work / "rootfs.tar"), "my-app:v1"], project, env)
            inv = [sys.executable, "-m", "invoke"]
            # As on ECR, the repository must exist: --create makes it first.
            step([*inv, "login", "push", "--tag", "v1", "--create"], project, env)
            step(["docker", "rmi", "my-app:v1", f"{stack.registry}/my-app:v1"], project, env)
            step([*inv, "pull", "--tag", "v1"], project, env)
            step([*inv, "uri", "--tag", "v1", "--digest"], project, env)
            print("\ndemo: login, push and pull all worked against the local stand-in")
            return 0
        except subprocess.CalledProcessError as error:
            print(f"demo: step failed with exit code {error.returncode}", file=sys.stderr)
            return 1
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
