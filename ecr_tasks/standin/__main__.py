"""``python -m ecr_tasks.standin``: run a local ECR until Ctrl-C, or around one command.

Without a command it prints the settings that point clients at it, then
waits. With ``-- CMD ARGS...`` it runs CMD with those settings in its
environment, stops, and exits with CMD's status. ``--real-hosts`` first
moves into a private mount namespace where ECR's real names resolve to the
stand-in over HTTPS (see ``realhosts.py``). Exit status 1, with one line on
stderr, if the stand-in could not start.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from .engine import EngineMode
from .errors import StandinError
from .realhosts import DROPPED_FOR_COMMAND, enter_private_namespace
from .stack import Stack

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# What a user's shell may hold that would steer a command away from the
# stand-in (or send real credentials to it); real-hosts names ignore it too.
_DROPPED_FOR_COMMAND = DROPPED_FOR_COMMAND


class _StopRequested(Exception):
    """A stop signal arrived."""


def _ignore_stop_signals() -> None:
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _request_stop(signum: int, frame: FrameType | None) -> None:
    # Only the first signal counts: a second one must not cut the clean-up short.
    _ignore_stop_signals()
    raise _StopRequested(signal.Signals(signum).name)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    separated = "--" in argv
    if separated:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m ecr_tasks.standin",
        description="Run a local stand-in for Amazon ECR (API, registry, Docker engine).",
        epilog="With -- CMD ARGS..., run CMD against the stand-in and exit with its status.",
    )
    parser.add_argument(
        "--workdir", help="keep images, logs and configs here (default: a temporary dir)"
    )
    engines = parser.add_mutually_exclusive_group()
    engines.add_argument(
        "--no-engine",
        action="store_true",
        help="start no Docker engine (login works, push and pull need an engine)",
    )
    engines.add_argument(
        "--own-engine",
        action="store_true",
        help="start a private dockerd even if an engine is already running",
    )
    parser.add_argument(
        "--token-ttl", type=float, help="seconds until tokens expire (default 43200, as ECR)"
    )
    parser.add_argument(
        "--real-hosts",
        action="store_true",
        help="serve ECR's real host names over HTTPS in a private mount namespace (root)",
    )
    parser.add_argument(
        "--settings-file",
        type=Path,
        help="also write the settings as JSON here (env, registry, pid) once ready",
    )
    args = parser.parse_args(argv)
    if args.real_hosts and args.no_engine:
        parser.error("--real-hosts needs its own engine: drop --no-engine")
    if separated and not command:
        parser.error("nothing after --: give the command to run")
    return args, command


def command_env(stack: Stack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_FOR_COMMAND)}
    env.update(stack.env())
    if stack.workdir is not None:
        # Tokens of the stand-in stay out of the user's own token cache.
        env["XDG_CACHE_HOME"] = str(stack.workdir / "cache")
    return env


def write_settings(path: Path, stack: Stack) -> None:
    settings = {"pid": os.getpid(), "registry": stack.registry, "env": command_env(stack),
                "api_hosts": stack.api_hosts, "workdir": str(stack.workdir)}  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(settings, indent=2))
    tmp.replace(path)


def run_command(command: list[str], stack: Stack) -> int:
    try:
        return subprocess.run(command, env=command_env(stack), check=False).returncode
    except OSError as exc:
        print(f"ecr-standin: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
        return 127


def main(argv: list[str] | None = None) -> int:
    args, command = parse_args(argv)
    engine: EngineMode = False if args.no_engine else (True if args.own_engine else "auto")
    try:
        if args.real_hosts:
            # Before any thread exists: unshare refuses a threaded process.
            enter_private_namespace()
    except StandinError as exc:
        print(f"ecr-standin: {exc}", file=sys.stderr)
        return 1
    stack = Stack(args.workdir, start_engine=engine, token_ttl=args.token_ttl,
                  real_hosts=args.real_hosts)  # fmt: skip
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _request_stop)
    started = False
    status = 0
    # One try for start, print and wait: a signal may land anywhere in them.
    try:
        stack.start()
        started = True
        if args.settings_file:
            write_settings(args.settings_file, stack)
        if command:
            status = run_command(command, stack)
        else:
            print(stack.settings_text(), flush=True)
            print("Ctrl-C stops it.", file=sys.stderr, flush=True)
            while True:
                time.sleep(3600)
    except StandinError as exc:
        print(f"ecr-standin: {exc}", file=sys.stderr)
        return 1
    except _StopRequested:
        if not started:
            print("ecr-standin: stopped before it was ready", file=sys.stderr)
            return 1
    finally:
        _ignore_stop_signals()
        stack.stop()
    if not command:
        print("ecr-standin: stopped", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
