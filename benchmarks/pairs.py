"""The comparisons: which two commands, prepared how, and the target ratio.

Each function builds one :class:`Pair` on a :class:`Workspace`; the order of
:data:`PAIRS` is the order of the table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.realhosts import REGISTRY
from benchmarks.timing import BenchError, Side, run_once
from benchmarks.workspace import BIN_DIR, Workspace
from ecr_tasks import naming
from ecr_tasks.cache import entry_text, read_entry

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
    #: None when only the API calls are a target (the ratio is shown, not judged).
    target: float | None
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


def cached_login_side(ws: Workspace, env: dict[str, str]) -> Side:
    """``inv login`` with a fresh cached token that the engine already holds.

    It has an engine config of its own, which no other side writes to: the
    AWS CLI pipeline logs in with a new token on every run, and ours would
    then find the engine holding another token and log in again.
    """
    project = ws.project("login", None)
    own = {**env, "DOCKER_CONFIG": str(ws.root / "config-cached-login")}
    cached = {**own, **ws.warm_cache(own, project, "warm")}
    # The warm-up login wrote the token into that config: no engine command follows.
    return Side("inv login, cached token", "inv login", project, cached, expect=["Logged in to"])


def login_cached(ws: Workspace, env: dict[str, str]) -> Pair:
    return Pair(
        "login-cached",
        "`inv login`, valid cached token the engine holds / AWS CLI pipeline",
        cached_login_side(ws, env),
        pipeline_side(ws, env),
        0.35,
    )


TRIVIAL_TASKS_PY = """from invoke import task


@task
def hello(c):
    print("hello")
"""


def login_cached_floor(ws: Workspace, env: dict[str, str]) -> Pair:
    trivial = Side(
        "inv hello, one trivial task",
        "inv hello",
        ws.project("trivial", TRIVIAL_TASKS_PY),
        env,
        expect=["hello"],
    )
    return Pair(
        "login-floor",
        "`inv login`, valid cached token the engine holds / `inv` running one trivial task",
        cached_login_side(ws, env),
        trivial,
        1.15,
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
OURS, GO, FLOOR = "ecr-tasks", "ecr-login", "ecr-floor"
# What each helper's side is called in a title.
_VIA = {
    OURS: "docker-credential-ecr-tasks",
    GO: "docker-credential-ecr-login",
    FLOOR: "a Python helper that only prints a stored answer",
}
# The cache each helper keeps between runs: ours under XDG_CACHE_HOME, the
# Amazon ECR credential helper's where AWS_ECR_CACHE_DIR says; the floor
# helper keeps none.
_CACHE_VARIABLE = {OURS: "XDG_CACHE_HOME", GO: "AWS_ECR_CACHE_DIR", FLOOR: None}

# The floor: Python started without site (-I -S), printing what our helper
# answered once, and nothing else. No helper written in Python can be faster.
FLOOR_HELPER = """#!{python} -IS
import sys
sys.stdin.read()
if sys.argv[1:] == ["get"]:
    sys.stdout.write({answer!r})
"""


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
    # The benchmark's own bin folder, first on PATH on every side alike: it
    # holds the floor helper, written once our helper has an answer to store.
    own_bin = ws.root / "bin"
    own_bin.mkdir(exist_ok=True)
    env = {k: v for k, v in standin.env.items() if k != "XDG_CACHE_HOME"}
    env.update(HOME=str(ws.root / "home"),
               PATH=os.pathsep.join((str(own_bin), str(BIN_DIR), os.defpath)))  # fmt: skip
    cwd = ws.project("helper", None)
    setup = {**env, "DOCKER_CONFIG": str(ws.root / "helper-setup-config"),
             "XDG_CACHE_HOME": str(ws.root / "caches" / "helper-setup")}  # fmt: skip
    ref = standin.push_image("bench/pull", setup, cwd)
    configs = {}
    for helper in (OURS, GO, FLOOR):
        folder = ws.root / f"config-{helper}"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"credHelpers": {REGISTRY: helper}}))
        configs[helper] = str(folder)
    # Our helper's answer, which also fills the cache its cached-token side uses.
    ours = {**env, "XDG_CACHE_HOME": _warm_cache(ws, OURS)}
    answer = standin.run(f"echo {REGISTRY} | docker-credential-ecr-tasks get", ours, cwd)
    if '"Secret"' not in answer:
        raise BenchError(f"our helper gave no answer to store: {answer[:200]!r}")
    floor = own_bin / f"docker-credential-{FLOOR}"
    floor.write_text(FLOOR_HELPER.format(python=sys.executable, answer=answer))
    floor.chmod(0o700)
    ws.helper_bench = HelperBench(standin, ref, env, configs, cwd)  # type: ignore[attr-defined]
    return ws.helper_bench  # type: ignore[attr-defined]


def _warm_cache(ws: Workspace, helper: str) -> str:
    """The folder of the cache a helper keeps between cached-token runs."""
    return str(ws.root / "caches" / f"{helper}-warm")


class _Counted:
    """Prepares each run of one helper's side (image removed, maybe an empty
    cache) and counts the tokens the API issued during it."""

    def __init__(self, ws: Workspace, bench: HelperBench, helper: str, cold: bool) -> None:
        self.ws, self.bench, self.helper, self.cold = ws, bench, helper, cold
        self.calls: list[int] = []
        self._before = 0

    def prepare(self) -> dict[str, str]:
        bench = self.bench
        bench.standin.run(f"docker image rm -f {bench.ref} >/dev/null 2>&1; true", bench.env,
                          bench.cwd)  # fmt: skip
        changes = {}
        variable = _CACHE_VARIABLE[self.helper]
        if self.cold and variable is not None:
            self.ws._counter += 1
            folder = self.ws.root / "caches" / f"{self.helper}-{self.ws._counter}"
            changes[variable] = str(folder)
        self._before = bench.standin.issued()
        return changes

    def after(self, _output: str) -> None:
        self.calls.append(self.bench.standin.issued() - self._before)


def _helper_pair(ws: Workspace, key: str, what: str, target: float | None, cold: bool,
                 crowd: int, max_calls: int,
                 helpers: tuple[str, str] = (OURS, GO)) -> Pair:  # fmt: skip
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
    for helper in helpers:
        counted = _Counted(ws, bench, helper, cold)
        label = f"{what}, {helper}"
        calls[label] = counted.calls
        env = {**bench.env, "DOCKER_CONFIG": bench.configs[helper]}
        variable = _CACHE_VARIABLE[helper]
        if variable is not None:
            env[variable] = _warm_cache(ws, helper)
        sides.append(Side(label, bench.standin.enter(line, bench.cwd), bench.cwd, env,
                          prepare=counted.prepare, expect=expect, after=counted.after))  # fmt: skip
    if not cold:
        # Fill the caches first, so that every counted run is a cached one.
        for side, counted_calls in zip(sides, calls.values(), strict=True):
            run_once(side)
            counted_calls.clear()
    title = f"{what}: `docker pull` via {_VIA[helpers[0]]} / via {_VIA[helpers[1]]}"
    rounds, warmup = (7, 1) if crowd > 1 else (11, 2)
    return Pair(key, title, sides[0], sides[1], target, rounds=rounds, warmup=warmup,
                calls=calls, max_calls=max_calls)  # fmt: skip


def helper_warm(ws: Workspace, env: dict[str, str]) -> Pair:
    return _helper_pair(ws, "helper-warm", "cached token", 1.15, False, 1, max_calls=0)


def helper_floor(ws: Workspace, env: dict[str, str]) -> Pair:
    return _helper_pair(ws, "helper-floor", "cached token", 1.10, False, 1, max_calls=0,
                        helpers=(OURS, FLOOR))  # fmt: skip


def helper_cold(ws: Workspace, env: dict[str, str]) -> Pair:
    return _helper_pair(ws, "helper-cold", "empty cache", 2.0, True, 1, max_calls=1)


def helper_crowd(ws: Workspace, env: dict[str, str]) -> Pair:
    what = f"{CROWD} at once, empty cache"
    return _helper_pair(ws, "helper-crowd", what, None, True, CROWD, max_calls=1)


# -- refresh ahead: a token past half of its life answers at once ----------------

#: How far into its life the stale side's token is before each run (valid, not fresh).
STALE_AT = 0.6


def _refreshers(cache: str) -> list[int]:
    """Running refreshers started for the cache folder ``cache``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"ecr_tasks.refresher" not in (proc / "cmdline").read_bytes():
                continue
            variables = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        if f"XDG_CACHE_HOME={cache}".encode() in variables:
            found.append(int(proc.name))
    return found


class _Stale(_Counted):
    """Before each run, the cached token is aged to past half of its life (the
    same token, still valid); after it, the wait (untimed) for the refresher
    the helper started to end, and a check that it renewed the entry, before the
    calls are counted."""

    def __init__(self, ws: Workspace, bench: HelperBench, cache: str) -> None:
        super().__init__(ws, bench, OURS, cold=False)
        self.cache = cache
        self._aged_at = 0.0

    def entry(self) -> Path:
        entries = sorted((Path(self.cache) / "ecr-tasks").glob("*.token"))
        if len(entries) != 1:
            raise BenchError(f"expected one token cache entry, found {len(entries)}")
        return entries[0]

    def prepare(self) -> dict[str, str]:
        changes = super().prepare()
        path = self.entry()
        token = read_entry(path, path.stem)
        if token is None:
            raise BenchError(f"cannot read the token cache entry {path.name}")
        life = token.expires_at - token.issued_at
        token.issued_at = time.time() - STALE_AT * life
        token.expires_at = token.issued_at + life
        self._aged_at = token.issued_at
        path.write_text(entry_text(path.stem, token), encoding="utf-8")  # keeps its mode, 0600
        return changes

    def after(self, output: str) -> None:
        deadline = time.monotonic() + 90
        while _refreshers(self.cache) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _refreshers(self.cache):
            raise BenchError("a refresher was still running after 90 s")
        token = read_entry(self.entry(), self.entry().stem)
        if token is None or token.issued_at <= self._aged_at:
            raise BenchError("the refresher did not renew the aged token")
        super().after(output)


def helper_refresh(ws: Workspace, env: dict[str, str]) -> Pair:
    bench = helper_bench(ws)
    line = bench.standin.enter(f"docker pull {bench.ref}", bench.cwd)
    sides, calls = [], {}
    for name, label in (("stale", "token past half its life"), ("fresh", "fresh token")):
        cache = str(ws.root / "caches" / f"ecr-tasks-{name}")
        counted = _Stale(ws, bench, cache) if name == "stale" else _Counted(ws, bench, OURS, False)
        label = f"refresh ahead, {label}, {OURS}"
        calls[label] = counted.calls
        env = {**bench.env, "DOCKER_CONFIG": bench.configs[OURS], "XDG_CACHE_HOME": cache}
        side = Side(label, line, bench.cwd, env, prepare=counted.prepare,
                    expect=["Downloaded newer image"], after=counted.after)  # fmt: skip
        if name == "stale":
            # The first pull fills the cache; every counted one then finds it aged.
            filler = _Counted(ws, bench, OURS, cold=False)
            run_once(replace(side, prepare=filler.prepare, after=None))
        run_once(side)
        counted.calls.clear()
        sides.append(side)
    return Pair(
        "helper-refresh",
        "refresh ahead: `docker pull` via docker-credential-ecr-tasks, "
        "cached token past half its life / fresh cached token",
        sides[0], sides[1], 1.10, rounds=11, warmup=2, calls=calls, max_calls=1,
    )  # fmt: skip


PAIRS: dict[str, Callable[[Workspace, dict[str, str]], Pair]] = {
    "login-empty": login_empty_cache,
    "login-cached": login_cached,
    "login-floor": login_cached_floor,
    "list": list_tasks,
    "login-four": login_four_registries,
    "push": push,
    "helper-warm": helper_warm,
    "helper-floor": helper_floor,
    "helper-cold": helper_cold,
    "helper-crowd": helper_crowd,
    "helper-refresh": helper_refresh,
}
