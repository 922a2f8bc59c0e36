"""``python -m benchmarks``: time our tasks against their baselines, in one run.

Starts the local ECR stand-in, runs each pair alternately after warm-up
rounds, prints the medians and ratios, and (for a full run) writes
``benchmarks/results.md``. ``--only KEY`` runs some pairs and writes nothing
unless ``--output`` says where.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks import machine, report
from benchmarks.pairs import PAIRS, PIPELINE
from benchmarks.timing import BenchError, Side, Timings, alternate, peak_rss_mib
from benchmarks.workspace import Workspace, temporary_root, tool

RESULTS = Path(__file__).resolve().parent / "results.md"
MEMORY_TARGET_MIB = 80.0

METHOD = """
## How it is measured

- Every command is one `sh -c` line with no standard input and its output
  captured, as a CI step runs it, against the local stand-in (moto for the
  ECR and STS API, the distribution registry, a Docker engine). `inv` and
  `aws` are the console scripts installed beside the benchmark's Python.
  Each command gets its own HOME, so no personal `~/.aws` or `~/.docker`
  takes part, and bytecode caching is on, as on a default Python install.
- Each pair runs alternately: warm-up rounds first (not counted), then
  rounds in which both commands run once, the order swapping every round.
- Empty cache: every run of `inv login` gets a new, empty `XDG_CACHE_HOME`.
  Cached token: one `inv login` filled a cache beforehand, and every run
  reuses it. The AWS CLI pipeline has no cache: it asks the API every time.
- 4 registries: `inv login --account A --account B --region R1 --region R2`
  against `inv login --account A --region R1`, both without `ecr.registry`,
  so the hosts are the real ECR names `<account>.dkr.ecr.<region>.amazonaws.com`.
  Offline, nothing resolves them, so a `docker` shim first on PATH maps each
  of the four hosts to its own local registry (one per account and region,
  each accepting that account's token) and then runs the real `docker login`.
  The shim stands in for DNS only: both sides of the pair use it, every
  login still reaches a registry over HTTP and writes the engine's config,
  and the token calls (one per region) reach the API emulator.
- Push: one local image of one layer of random bytes (it does not
  compress). Before every push, of either side, the registry is restarted
  with empty storage and the remote tag is removed locally, so that every
  push uploads every byte and every tag is made anew; a fresh repository
  name would not do, because the engine mounts layers from the repository
  it pushed them to before. `inv push` runs with a cached token (after a
  login, as in a CI job), tags, pushes, and asks the registry whether the
  tag resolves to the pushed digest; the baseline tags and pushes only.
- Credential helpers: `docker pull` of a 1 MiB one-layer image with the
  engine's config holding only `credHelpers`, naming ours (`ecr-tasks`) on
  one side and the Amazon ECR credential helper (`ecr-login`, Debian's
  `amazon-ecr-credential-helper`) on the other. That helper answers only for
  real ECR host names, so both sides run inside the stand-in's real-hosts
  namespace (`nsenter`), over TLS. Before every run the image is removed, so
  each pull downloads it. Cached token: each helper keeps its own cache
  (`XDG_CACHE_HOME`, `AWS_ECR_CACHE_DIR`), filled before the first run. Empty
  cache: a new, empty cache for every run. Crowd: 10 `docker pull` started at
  once with empty caches; the tokens the API issued during the run are the
  API calls.
- The floor helper (`ecr-floor`): a four-line script that the benchmark
  writes into its own temporary `bin` folder (first on PATH, for every side
  alike), run as `python -I -S` by the benchmark's Python; it reads stdin and
  prints the answer our helper gave once, stored in the script. No helper in
  Python can answer faster, so ours / floor is what our code costs.
- Refresh ahead: two caches of our helper. Before every run of one side, its
  cache entry is aged so that the same, still valid token is 60 % into its
  life (`issued_at` and `expires_at` moved back): the helper answers with it
  and starts a refresher, which renews the entry in the background. After
  the run (untimed) the benchmark waits for that refresher to end, checks
  that it renewed the entry, and counts its API call. The other side's token
  stays fresh. The pull with the aged token should take as long as the
  fresh one: no pull waits for the API.
- Cached `inv login`: its own engine config, which already holds the cached
  token (the login that filled the cache put it there), so it runs no engine
  command; the AWS CLI pipeline logs in with a new token every run. Its
  floor: `inv hello` in a project whose `tasks.py` holds one task that
  prints a word.
- Peak memory: the largest resident set of any process of `inv login`
  (`getrusage(RUSAGE_CHILDREN).ru_maxrss` in a wrapper), worst of the runs.
- Reference points: `inv --version` is the floor under every `inv` command
  (Python's start, invoke's import, the interpreter's exit); a cached login
  adds our `tasks.py`, a cache read and a read of the engine's config to it
  (and one `docker login` when the engine holds another token).

Where the time goes, step by step: `benchmarks/profile.md`.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per pair")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    parser.add_argument("--memory-runs", type=int, default=5, help="runs per memory figure")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*PAIRS, "memory", "reference"],
        help="run only these (repeatable); nothing is written without --output",
    )
    parser.add_argument("--output", type=Path, help="where to write the results")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target does not hold")
    return parser.parse_args(argv)


def reference_sides(ws: Workspace, env: dict[str, str]) -> list[Side]:
    with_password = {**env, "BENCH_PASSWORD": ws.stack.password}
    docker_login = (
        'printf %s "$BENCH_PASSWORD"'
        ' | docker login --username AWS --password-stdin "$INVOKE_ECR_REGISTRY"'
    )
    return [
        Side("`python -c pass`", "python -c pass", ws.root, env),
        Side("`inv --version` (invoke alone)", "inv --version", ws.root, env, expect=["Invoke"]),
        Side(
            "`docker login` alone", docker_login, ws.root, with_password, expect=["Login Succeeded"]
        ),
        Side(
            "`aws ecr get-login-password` alone",
            "aws ecr get-login-password",
            ws.root,
            env,
        ),
        Side("AWS CLI pipeline", PIPELINE, ws.root, env, expect=["Login Succeeded"]),
    ]


def memory_sides(ws: Workspace, env: dict[str, str]) -> list[tuple[str, Side]]:
    project = ws.project("login", None)
    cached = {**env, **ws.warm_cache(env, project, "memory")}
    return [
        (
            "peak memory of `inv login`, empty cache",
            Side(
                "inv login",
                "inv login",
                project,
                env,
                prepare=ws.fresh_cache,
                expect=["Logged in to"],
            ),
        ),
        (
            "peak memory of `inv login`, cached token",
            Side("inv login", "inv login", project, cached, expect=["Logged in to"]),
        ),
    ]


def run(args: argparse.Namespace, ws: Workspace) -> tuple[str, bool]:
    env = ws.base_env()
    about = machine.describe(env)
    load_at_start = machine.load()
    wanted = args.only or [*PAIRS, "memory", "reference"]
    results: list[report.PairResult] = []
    for key in (k for k in PAIRS if k in wanted):
        pair = PAIRS[key](ws, env)
        # A pair may ask for fewer rounds (a push takes seconds), never for more.
        rounds = min(args.rounds, pair.rounds or args.rounds)
        warmup = min(args.warmup, args.warmup if pair.warmup is None else pair.warmup)
        print(f"{key}: {warmup} warm-up + {rounds} rounds ", end="", file=sys.stderr, flush=True)
        timings = alternate([pair.ours, pair.baseline], rounds, warmup)
        result = report.PairResult(pair, timings, rounds, warmup)
        results.append(result)
        print(
            f"  {pair.ours.label}: {result.ours:.3f} s, {pair.baseline.label}: "
            f"{result.baseline:.3f} s, ratio {result.ratio:.2f} (target {report.target(pair)})",
            file=sys.stderr,
        )
    memory = []
    if "memory" in wanted:
        for label, side in memory_sides(ws, env):
            peaks = peak_rss_mib(side, args.memory_runs)
            memory.append(report.MemoryResult(label, peaks, MEMORY_TARGET_MIB))
            print(f"{label}: {max(peaks):.0f} MiB", file=sys.stderr)
    reference: Timings | None = None
    if "reference" in wanted:
        print("reference points ", end="", file=sys.stderr, flush=True)
        reference = alternate(reference_sides(ws, env), args.rounds, args.warmup)
    pipeline = reference.median("AWS CLI pipeline") if reference else None
    text = report.markdown(
        results, memory, reference, pipeline, about, (load_at_start, machine.load()), METHOD
    )
    holds = all(r.holds for r in results) and all(m.holds for m in memory)
    return text, holds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from ecr_tasks.standin import Stack, StandinError

    root = temporary_root()
    stack = Stack(root / "standin", start_engine="auto")
    ws = Workspace(stack, root)
    try:
        tool("inv"), tool("aws")  # fail early when the bench dependencies are missing
        print("starting the local ECR stand-in", file=sys.stderr, flush=True)
        stack.start()
        text, holds = run(args, ws)
    except (BenchError, StandinError) as error:
        print(f"benchmarks: {error}", file=sys.stderr)
        return 2
    finally:
        ws.close()
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(text.split("\n## ")[0])
    output = args.output or (None if args.only else RESULTS)
    if output is not None:
        output.write_text(text)
        print(f"written to {output.name}", file=sys.stderr)
    if not holds:
        print("benchmarks: some targets do not hold", file=sys.stderr)
    return 1 if args.check and not holds else 0


if __name__ == "__main__":
    sys.exit(main())
