"""Running commands and timing them, alternately, the same way for both sides.

Every command is one shell line run with ``sh -c``, no standard input, its
output captured, as a CI step runs it. Only the command itself is timed;
``prepare`` (a fresh cache, an emptied registry) runs before the clock starts.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BenchError(Exception):
    """A command failed or did not do what it is measured for."""


@dataclass
class Side:
    """One command of a comparison and what it must show to count as done."""

    label: str
    line: str
    cwd: Path
    env: Mapping[str, str]
    #: Untimed, before every run; returns changes to the environment of that run.
    prepare: Callable[[], Mapping[str, str]] | None = None
    #: Text that must appear in stdout or stderr of a successful run.
    expect: Sequence[str] = ()
    #: How many times ``expect[0]`` must appear (4 logins print 4 lines).
    expect_count: int = 1
    returncode: int = 0
    #: Untimed, after every successful run, with its output.
    after: Callable[[str], None] | None = None

    def environment(self) -> dict[str, str]:
        env = dict(self.env)
        if self.prepare is not None:
            env.update(self.prepare())
        return env


def run_once(side: Side, env: Mapping[str, str] | None = None) -> float:
    """Run ``side`` once and return its wall time in seconds."""
    env = side.environment() if env is None else env
    start = time.perf_counter()
    done = subprocess.run(
        ["sh", "-c", side.line],
        cwd=side.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - start
    check(side, done)
    if side.after is not None:
        side.after(done.stdout + done.stderr)
    return elapsed


def check(side: Side, done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    missing = [text for text in side.expect if text not in output]
    short = side.expect and output.count(side.expect[0]) < side.expect_count
    if done.returncode != side.returncode or missing or short:
        tail = "\n".join(output.strip().splitlines()[-12:])
        raise BenchError(
            f"{side.label!r} exited {done.returncode} (expected {side.returncode})"
            f"{f', without {missing!r}' if missing else ''}:\n{tail}"
        )


@dataclass
class Timings:
    """Wall times of several sides measured in the same alternating run."""

    seconds: dict[str, list[float]] = field(default_factory=dict)

    def median(self, label: str) -> float:
        return statistics.median(self.seconds[label])

    def spread(self, label: str) -> tuple[float, float]:
        """The lower and upper quartile, to show how steady a median is."""
        values = self.seconds[label]
        if len(values) < 4:
            return min(values), max(values)
        quartiles = statistics.quantiles(values, n=4)
        return quartiles[0], quartiles[2]


def alternate(sides: Sequence[Side], rounds: int, warmup: int, progress: bool = True) -> Timings:
    """Run ``warmup`` untimed rounds, then ``rounds`` timed ones.

    Each round runs every side once; the order turns by one place every
    round, so no side is always the one that runs after the other.
    """
    timings = Timings({side.label: [] for side in sides})
    for number in range(warmup + rounds):
        turn = number % len(sides)
        for side in [*sides[turn:], *sides[:turn]]:
            elapsed = run_once(side)
            if number >= warmup:
                timings.seconds[side.label].append(elapsed)
        if progress:
            print(".", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr, flush=True)
    return timings


# Runs the command and reports the largest resident set of any process it
# started (Linux reports the largest single descendant, in KiB).
_PEAK_RSS = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, text=True)
sys.stdout.write(done.stdout + done.stderr)
print(f"\\npeak-rss-kib {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
sys.exit(done.returncode)
"""


def peak_rss_mib(side: Side, runs: int) -> list[float]:
    """Peak RSS of the largest process of ``side``, in MiB, for each of ``runs`` runs."""
    peaks = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, "sh", "-c", side.line],
            cwd=side.cwd,
            env=side.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        check(side, done)
        kib = int(done.stdout.rsplit("peak-rss-kib ", 1)[1])
        peaks.append(kib / 1024)
    return peaks
