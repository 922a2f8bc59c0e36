"""``python -m ecr_tasks.standin``: run a local ECR until Ctrl-C or SIGTERM.

Prints the settings that point clients at it, then waits. Exit status 0 after
a clean stop, 1 (with one line on stderr) if it could not start.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from .engine import EngineMode
from .errors import StandinError
from .stack import Stack

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopRequested(Exception):
    """A stop signal arrived."""


def _ignore_stop_signals() -> None:
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _request_stop(signum: int, frame: FrameType | None) -> None:
    # Only the first signal counts: a second one must not cut the clean-up short.
    _ignore_stop_signals()
    raise _StopRequested(signal.Signals(signum).name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ecr_tasks.standin",
        description="Run a local stand-in for Amazon ECR (API, registry, Docker engine).",
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engine: EngineMode = False if args.no_engine else (True if args.own_engine else "auto")
    stack = Stack(args.workdir, start_engine=engine, token_ttl=args.token_ttl)
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _request_stop)
    started = False
    # One try for start, print and wait: a signal may land anywhere in them.
    try:
        stack.start()
        started = True
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
    print("ecr-standin: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
