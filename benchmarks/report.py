"""The results: one table for the terminal and the same table in results.md."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from benchmarks.pairs import Pair
from benchmarks.timing import Timings

RESULTS_TITLE = "# Benchmark results"


@dataclass
class PairResult:
    pair: Pair
    timings: Timings
    rounds: int
    warmup: int

    @property
    def ours(self) -> float:
        return self.timings.median(self.pair.ours.label)

    @property
    def baseline(self) -> float:
        return self.timings.median(self.pair.baseline.label)

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline

    @property
    def ours_calls(self) -> list[int]:
        return (self.pair.calls or {}).get(self.pair.ours.label, [])

    @property
    def holds(self) -> bool:
        calls_hold = self.pair.max_calls is None or all(
            n <= self.pair.max_calls for n in self.ours_calls
        )
        ratio_holds = self.pair.target is None or self.ratio <= self.pair.target
        return ratio_holds and calls_hold


@dataclass
class MemoryResult:
    label: str
    peaks_mib: list[float]
    target_mib: float

    @property
    def peak(self) -> float:
        return max(self.peaks_mib)

    @property
    def holds(self) -> bool:
        return self.peak <= self.target_mib


def _yes(holds: bool) -> str:
    return "yes" if holds else "**no**"


def target(pair: Pair) -> str:
    """The target as the table shows it: a ratio, the API calls, or both."""
    parts = [] if pair.target is None else [f"<= {pair.target:g}"]
    if pair.max_calls is not None and (pair.target is None or pair.max_calls > 0):
        calls = "API call" if pair.max_calls == 1 else "API calls"
        parts.append(f"{pair.max_calls} {calls}")
    return ", ".join(parts)


def table(pairs: list[PairResult], memory: list[MemoryResult]) -> str:
    """The summary table in Markdown (GitHub) syntax."""
    rows = [
        "| pair | ours | baseline | ratio | target | holds |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for r in pairs:
        rows.append(
            f"| {r.pair.title} | {r.ours:.3f} s | {r.baseline:.3f} s | {r.ratio:.2f} "
            f"| {target(r.pair)} | {_yes(r.holds)} |"
        )
    for m in memory:
        rows.append(
            f"| {m.label} | {m.peak:.0f} MiB | | | <= {m.target_mib:g} MiB | {_yes(m.holds)} |"
        )
    return "\n".join(rows)


def details(pairs: list[PairResult]) -> str:
    """Every side's median and quartiles, and how many rounds it ran."""
    rows = [
        "| command | median | quartiles | rounds (warm-up) |",
        "|---|---:|---:|---:|",
    ]
    for r in pairs:
        for side in (r.pair.ours, r.pair.baseline):
            low, high = r.timings.spread(side.label)
            rows.append(
                f"| {side.label} | {r.timings.median(side.label):.3f} s "
                f"| {low:.3f} to {high:.3f} s | {r.rounds} ({r.warmup}) |"
            )
    return "\n".join(rows)


def api_calls(pairs: list[PairResult]) -> str:
    """GetAuthorizationToken calls per run, for the pairs that count them."""
    rows = ["| command | API calls per run (fewest to most) | runs |", "|---|---:|---:|"]
    for r in pairs:
        for label, counts in (r.pair.calls or {}).items():
            if counts:
                rows.append(f"| {label} | {min(counts)} to {max(counts)} | {len(counts)} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def references(timings: Timings, pipeline: float | None) -> str:
    rows = ["| command | median | share of the AWS CLI pipeline |", "|---|---:|---:|"]
    for label in timings.seconds:
        median = timings.median(label)
        share = f"{median / pipeline:.2f}" if pipeline else ""
        rows.append(f"| {label} | {median:.3f} s | {share} |")
    return "\n".join(rows)


def markdown(
    pairs: list[PairResult],
    memory: list[MemoryResult],
    reference: Timings | None,
    pipeline: float | None,
    machine: dict[str, str],
    load: tuple[str, str],
    notes: str,
) -> str:
    today = datetime.date.today().isoformat()
    parts = [
        RESULTS_TITLE,
        "",
        f"Written by `python -m benchmarks` (`nox -s bench`) on {today}. Each pair ran "
        "alternately in one run, after warm-up rounds; times are medians of wall time, "
        "and ratio is ours / baseline.",
        "",
        table(pairs, memory),
        "",
        "## Every command",
        "",
        details(pairs),
    ]
    calls = api_calls(pairs)
    if calls:
        parts += [
            "",
            "## API calls",
            "",
            "GetAuthorizationToken calls counted by the stand-in (the tokens it issued) "
            "during each run, warm-up runs included. The cached-token pairs fill their "
            "caches before the first run. A run with a token past half its life counts "
            "the call its refresher makes in the background, after the pull has ended.",
            "",
            calls,
        ]
    if reference is not None:
        parts += [
            "",
            "## Reference points",
            "",
            "Measured in the same run, alternately, to show the floor under a cached login.",
            "",
            references(reference, pipeline),
        ]
    parts += [
        "",
        "## Machine",
        "",
        *(f"- {what}: {value}" for what, value in machine.items()),
        f"- load average at the start: {load[0]}; at the end: {load[1]}",
        "",
        notes.strip(),
        "",
    ]
    return "\n".join(parts)
