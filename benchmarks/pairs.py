"""The comparisons: which two commands, prepared how, and the target ratio.

Each function builds one :class:`Pair` on a :class:`Workspace`; the order of
:data:`PAIRS` is the order of the table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.realhosts import REGISTRY
from benchmarks.timing import Side, run_once
from benchmarks.workspace import BIN_DIR, Workspace
from ecr_tasks import naming

EMPTY_TASKS_PY = ""
PIPELINE = (
    "aws ecr get-login-password"
    ' | docker login --username AWS --password-stdin "$INVOKE_ECR_REGISTRY"'
)
# Two accounts in two regions: four registries, two GetAuthorizationToken calls.
ACCOUNTS = ("123456789012", "210987654321")
REGIONS = ("us-east-1", "eu-west-1")
IMAGE = "bench-app"
IMAGE_MIB = 50


@dataclass
class Pair:
    """``ours`` against ``baseline``; the pair holds when ours / baseline <= target."""

    key: str
    title: str
    ours: Side
    baseline: Side
    target: float
    #: At most this many rounds and warm-up rounds, when fewer than the run's.
    rounds: int | None = None
    warmup: int | None = None
    #: GetAuthorizationToken calls per run, by side label, where a pair counts them.
    calls: dict[str, list[int]] | None = None
    #: The most calls a run of ours may make for the pair to hold.
    max_calls: int | None = None


def pipeline_side(ws: Workspace, env: dict[str, str]) -> Side:
    return Side("AWS CLI pipeline", PIPELINE, ws.root, env, expect=["Login Succeeded"])


def login_empty_cache(ws: Workspace, env: dict[str, str]) -> Pair:
    project = ws.project("login", None)
    ours = Side(
        "inv login, empty cache",
        "inv login",
        project,
        env,
        prepare=ws.fresh_cache,
        expect=["Logged in to"],
    )
    return Pair(
        "login-empty",
        "`inv login`, empty cache / AWS CLI pipeline",
        ours,
        pipeline_side(ws, env),
        0.8,
    )


def login_cached(ws: Workspace, env: dict[str, str]) -> Pair:
    project = ws.project("login", None)
    cached = {**env, **ws.warm_cache(env, project, "warm")}
    ours = Side("inv login, cached token", "inv login", project, cached, expect=["Logged in to"])
    return Pair(
        "login-cached",
        "`inv login`, valid cached token / AWS CLI pipeline",
        ours,
        pipeline_side(ws, env),
        0.3,
    )


def list_tasks(ws: Workspace, env: dict[str, str]) -> Pair:
    ours = Side(
        "inv --list, our tasks.py",
        "inv --list",
        ws.project("login", None),
        env,
        expect=["login", "push"],
    )
    # invoke exits 1 when tasks.py defines no task; that is the empty baseline.
    empty = Side(
        "inv --list, empty tasks.py",
        "inv --list",
        ws.project("empty", EMPTY_TASKS_PY),
        env,
        expect=["No tasks found"],
        returncode=1,
    )
    return Pair(
        "list", "`inv --list` with our `tasks.py` / with an empty `tasks.py`", ours, empty, 1.25
    )


def login_four_registries(ws: Workspace, env: dict[str, str]) -> Pair:
    hosts = {naming.registry_host(a, r): a for a in ACCOUNTS for r in REGIONS}
    local = ws.start_registries(hosts)
    shim_dir = ws.engine_shim(local)
    # No ecr.registry: the hosts are the real ECR names, reached through the shim.
    shimmed = {
        k: v
        for k, v in env.items()
        if k not in ("INVOKE_ECR_REGISTRY", "INVOKE_ECR_ACCOUNT", "INVOKE_ECR_REGION")
    }
    shimmed["PATH"] = f"{shim_dir}:{env['PATH']}"
    project = ws.project("four", None)
    flags = (
        " ".join(f"--account {a}" for a in ACCOUNTS)
        + " "
        + " ".join(f"--region {r}" for r in REGIONS)
    )
    four = Side(
        "inv login, 4 registries",
        f"inv login {flags}",
        project,
        shimmed,
        prepare=ws.fresh_cache,
        expect=["Logged in to"],
        expect_count=4,
    )
    one = Side(
        "inv login, 1 registry",
        f"inv login --account {ACCOUNTS[0]} --region {REGIONS[0]}",
        project,
        shimmed,
        prepare=ws.fresh_cache,
        expect=["Logged in to"],
    )
    return Pair(
        "login-four", "`inv login` to 4 registries / to 1 registry (empty cache)", four, one, 1.5
    )


def push(ws: Workspace, env: dict[str, str]) -> Pair:
    project = ws.project("push", None)
    ws.stack.create_repository(IMAGE)  # as on ECR, a push needs the repository first
    pushing = {**env, "INVOKE_ECR_REPO": IMAGE, **ws.warm_cache(env, project, "push")}
    ws.make_image(f"{IMAGE}:v1", IMAGE_MIB, pushing)
    remote = f"{env['INVOKE_ECR_REGISTRY']}/{IMAGE}:v1"

    def fresh_registry() -> dict[str, str]:
        # Drop the remote tag too, so that both sides tag for real.
        ws.untag(remote, pushing)
        ws.empty_registry()
        return {}

    ours = Side(
        "inv push --tag v1",
        "inv push --tag v1",
        project,
        pushing,
        prepare=fresh_registry,
        expect=[": Pushed", "Pushed " + remote + " sha256:"],
    )
    cli = Side(
        "docker tag + docker push",
        f"docker tag {IMAGE}:v1 {remote} && docker push {remote}",
        project,
        pushing,
        prepare=fresh_registry,
        expect=[": Pushed", "digest: sha256:"],
    )
    return Pair(
        "push",
        f"`inv push --tag v1` / `docker tag` + `docker push` ({IMAGE_MIB} MiB image)",
        ours,
        cli,
        1.15,
        rounds=9,
        warmup=1,
    )


# -- the credential helper against the Amazon ECR credential helper -------------

CROWD = 10


@dataclass
class HelperBench:
    """What the helper pairs share: the real-hosts stand-in, a pushed image,
    and one engine config per helper holding only its credHelpers entry."""

    standin: Any
    ref: str
    env: dict[str, str]
    configs: dict[str, str]
    cwd: Path


def helper_bench(ws: Workspace) -> HelperBench:
    found = getattr(ws, "helper_bench", None)
    if found is not None:
        return found
    standin = ws.real_hosts()
    env = {k: v for k, v in standin.env.items() if k != "XDG_CACHE_HOME"}
    env.update(HOME=str(ws.root / "home"), PATH=os.pathsep.join((str(BIN_DIR), os.defpath)))
    cwd = ws.project("helper", None)
    setup = {**env, "DOCKER_CONFIG": str(ws.root / "helper-setup-config"),
             "XDG_CACHE_HOME": str(ws.root / "caches" / "helper-setup")}  # fmt: skip
    ref = standin.push_image("bench/pull", setup, cwd)
    configs = {}
    for helper in ("ecr-tasks", "ecr-login"):
        folder = ws.root / f"config-{helper}"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"credHelpers": {REGISTRY: helper}}))
        configs[helper] = str(folder)
    ws.helper_bench = HelperBench(standin, ref, env, configs, cwd)  # type: ignore[attr-defined]
    return ws.helper_bench  # type: ignore[attr-defined]


class _Counted:
    """Prepares each run of one helper's side (image removed, maybe an empty
    cache) and counts the tokens the API issued during it."""

    def __init__(self, ws: Workspace, bench: HelperBench, helper: str, cache_variable: str,
                 cold: bool) -> None:  # fmt: skip
        self.ws, self.bench, self.helper = ws, bench, helper
        self.cache_variable, self.cold = cache_variable, cold
        self.calls: list[int] = []
        self._before = 0

    def prepare(self) -> dict[str, str]:
        bench = self.bench
        bench.standin.run(f"docker image rm -f {bench.ref} >/dev/null 2>&1; true", bench.env,
                          bench.cwd)  # fmt: skip
        changes = {}
        if self.cold:
            self.ws._counter += 1
            folder = self.ws.root / "caches" / f"{self.helper}-{self.ws._counter}"
            changes[self.cache_variable] = str(folder)
        self._before = bench.standin.issued()
        return changes

    def after(self, _output: str) -> None:
        self.calls.append(self.bench.standin.issued() - self._before)


# The cache each helper keeps between runs: ours under XDG_CACHE_HOME, the
# Amazon ECR credential helper's where AWS_ECR_CACHE_DIR says.
_HELPERS = (("ecr-tasks", "XDG_CACHE_HOME"), ("ecr-login", "AWS_ECR_CACHE_DIR"))


def _helper_pair(ws: Workspace, key: str, what: str, target: float, cold: bool,
                 crowd: int, max_calls: int) -> Pair:  # fmt: skip
    bench = helper_bench(ws)
    if crowd == 1:
        line, expect = f"docker pull {bench.ref}", ["Downloaded newer image"]
    else:
        # All at once; the line fails if any pull does.
        line = (
            f'pids=""; for i in $(seq {crowd}); do docker pull -q {bench.ref} >/dev/null & '
            'pids="$pids $!"; done; rc=0; for p in $pids; do wait "$p" || rc=1; done; '
            'echo crowd-done; exit "$rc"'
        )
        expect = ["crowd-done"]
    sides, calls = [], {}
    for helper, cache_variable in _HELPERS:
        counted = _Counted(ws, bench, helper, cache_variable, cold)
        label = f"{what}, {helper}"
        calls[label] = counted.calls
        warm_cache = str(ws.root / "caches" / f"{helper}-warm")
        env = {**bench.env, "DOCKER_CONFIG": bench.configs[helper], cache_variable: warm_cache}
        sides.append(Side(label, bench.standin.enter(line, bench.cwd), bench.cwd, env,
                          prepare=counted.prepare, expect=expect, after=counted.after))  # fmt: skip
    if not cold:
        # Fill both caches first, so that every counted run is a cached one.
        for side, counted_calls in zip(sides, calls.values(), strict=True):
            run_once(side)
            counted_calls.clear()
    title = (
        f"{what}: `docker pull` via docker-credential-ecr-tasks / via docker-credential-ecr-login"
    )
    rounds, warmup = (7, 1) if crowd > 1 else (11, 2)
    return Pair(key, title, sides[0], sides[1], target, rounds=rounds, warmup=warmup,
                calls=calls, max_calls=max_calls)  # fmt: skip


def helper_warm(ws: Workspace, env: dict[str, str]) -> Pair:
    return _helper_pair(ws, "helper-warm", "cached token", 1.10, False, 1, max_calls=0)


def helper_cold(ws: Workspace, env: dict[str, str]) -> Pair:
    return _helper_pair(ws, "helper-cold", "empty cache", 1.25, True, 1, max_calls=1)


def helper_crowd(ws: Workspace, env: dict[str, str]) -> Pair:
    what = f"{CROWD} at once, empty cache"
    return _helper_pair(ws, "helper-crowd", what, 1.25, True, CROWD, max_calls=1)


PAIRS: dict[str, Callable[[Workspace, dict[str, str]], Pair]] = {
    "login-empty": login_empty_cache,
    "login-cached": login_cached,
    "list": list_tasks,
    "login-four": login_four_registries,
    "push": push,
    "helper-warm": helper_warm,
    "helper-cold": helper_cold,
    "helper-crowd": helper_crowd,
}
