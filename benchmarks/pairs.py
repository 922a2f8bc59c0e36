"""The comparisons: which two commands, prepared how, and the target ratio.

Each function builds one :class:`Pair` on a :class:`Workspace`; the order of
:data:`PAIRS` is the order of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.timing import Side
from benchmarks.workspace import Workspace
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


PAIRS: dict[str, Callable[[Workspace, dict[str, str]], Pair]] = {
    "login-empty": login_empty_cache,
    "login-cached": login_cached,
    "list": list_tasks,
    "login-four": login_four_registries,
    "push": push,
}
