"""Property-based tests: arbitrary text in every flag and every ``ecr.*`` setting.

Each call must end either in commands that are valid (every argument that
came from the user follows its rule, and each command line splits back into
exactly the intended argument list) or in ``Exit`` with code 1 and one line;
never in another exception, never with an extra command run.

The rules below are written from the product's facts (GUIDE-FACTS), not
imported from ``ecr_tasks.naming``, so the code is checked against an
independent statement of them. Everything is offline: a fake AWS, a fake
engine process for ``login``, and a context that records commands.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shlex
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import (
    ACCOUNT,
    DIGEST,
    PASSWORD_PREFIX,
    REGION,
    REGISTRY,
    FakeAws,
    FakeEngineProcess,
    NoAws,
    RecordingContext,
    isolate,
    make_config,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invoke.exceptions import Exit

from ecr_tasks import aws, engine, naming, registry_api, tasks, token_source
from ecr_tasks import login as login_module
from ecr_tasks import settings as ecr_settings

# When a property fails, hypothesis imports libcst to write a patch, and an
# old libcst warns on import; with filterwarnings=error that warning would
# replace the failure report with an INTERNALERROR.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

#: How many inputs each property tried, and how they ended; printed at the end.
COUNTS: Counter[str] = Counter()

# Per property; the whole module stays well under 30 s. ECR_TASKS_EXAMPLES
# raises the fuzzing count for a longer hunt.
EXAMPLES = int(os.environ.get("ECR_TASKS_EXAMPLES", "200"))
VALID_EXAMPLES = 60

# -- the rules, from the facts ------------------------------------------------------

REPO_RULE = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
TAG_RULE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
ACCOUNT_RULE = re.compile(r"[0-9]{12}")
DIGEST_RULE = re.compile(r"sha256:[a-f0-9]{64}")
REGION_SHAPE = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
HOST_RULE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?")
# What an image reference may look like on a command line: no option-like
# start, no whitespace, no shell metacharacters.
SAFE_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")
ENGINES = {"docker", "podman", "nerdctl", "finch"}
BOOL_WORDS = {"1", "true", "yes", "on", "0", "false", "no", "off", ""}
PROFILES = {"default": "eu-central-1", "dev": "ap-southeast-2", "noregion": None}
FIXED_WORDS = {"tag", "push", "pull", "login", "--username", "AWS", "--password-stdin"}


def repo_ok(value: object) -> bool:
    return isinstance(value, str) and 2 <= len(value) <= 256 and bool(REPO_RULE.fullmatch(value))


def tag_ok(value: object) -> bool:
    return isinstance(value, str) and bool(TAG_RULE.fullmatch(value))


def account_ok(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads an unquoted id as a number; one that needed a leading zero
        # was read as octal and cannot be told apart, so it must be refused.
        return 10**11 <= value < 10**12
    return isinstance(value, str) and bool(ACCOUNT_RULE.fullmatch(value))


def host_ok(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 255 or not HOST_RULE.fullmatch(value):
        return False
    _, _, port = value.partition(":")
    return not port or 0 < int(port) < 65536


def bool_ok(value: object) -> bool:
    # None is the declared default of a switch: "not set".
    return (
        value is None
        or isinstance(value, bool)
        or (isinstance(value, str) and value.lower() in BOOL_WORDS)
    )


def as_bool(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def as_list(value: object) -> list:
    if value is None or value == "" or value == []:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# -- strategies -----------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "-",
    "--",
    "-v1",
    "--help",
    "--force",
    "-p",
    "$(id)",
    "`id`",
    "${HOME}",
    "a;id",
    "a && id",
    "a|id",
    "a>x",
    "a b",
    "a\nb",
    "a\tb",
    "a\r",
    "'",
    '"',
    "\\",
    "*",
    "?",
    "~",
    "#",
    "%s",
    "{command}",
    "..",
    "../x",
    "\x00",
    "\u2028",
    "ü",
    "中文",
    "\uff21",  # fullwidth A
    "\uff11\uff12\uff13",  # fullwidth digits
    "x" * 300,
]

# Built from pieces rather than regexes: generation is most of each example's cost.
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
tags_valid = st.builds(
    str.__add__,
    st.sampled_from(_ALNUM + "ABCXYZ_"),
    st.text(alphabet=_ALNUM + "ABCXYZ_.-", max_size=12),
)
_component = st.builds(
    "".join,
    st.lists(
        st.text(alphabet=_ALNUM, min_size=1, max_size=5),
        min_size=1,
        max_size=3,
    ).flatmap(
        lambda words: st.lists(
            st.sampled_from([".", "_", "__", "-", "--"]),
            min_size=len(words) - 1,
            max_size=len(words) - 1,
        ).map(lambda seps: [w + s for w, s in zip(words, [*seps, ""], strict=True)])
    ),
)
repos_valid = (
    st.lists(_component, min_size=1, max_size=3).map("/".join).filter(lambda repo: len(repo) >= 2)
)
accounts_valid = st.integers(0, 10**12 - 1).map("{:012d}".format)
regions_valid = st.sampled_from(
    ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "eusc-de-east-1", "us-iso-east-1"]
)
digests_valid = st.binary(min_size=32, max_size=32).map(lambda b: f"sha256:{b.hex()}")
hosts_valid = st.sampled_from(
    ["127.0.0.1:5000", "localhost", "registry.example.com", "mirror.example.com:443"]
)
images_valid = st.one_of(
    repos_valid,
    st.builds("{}:{}".format, repos_valid, tags_valid),
    st.builds("localhost:5001/{}:{}".format, repos_valid, tags_valid),
    st.builds("{}@{}".format, repos_valid, digests_valid),
)
profiles_valid = st.sampled_from(sorted(PROFILES))
kms_valid = st.sampled_from(["alias/app", "arn:aws:kms:us-east-1:123456789012:key/abc-1"])


def fuzz(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid values, arbitrary text, nasty text, and valid values made nasty."""
    nasty = st.sampled_from(NASTY)
    return st.one_of(
        valid,
        st.text(max_size=20),
        nasty,
        st.builds(str.__add__, valid, nasty),
        st.builds(str.__add__, nasty, valid),
        valid.map(str.upper),
        valid.map(lambda v: f"-{v}"),
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


Spec = tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]


def optional(valid: st.SearchStrategy[str]) -> Spec:
    """A flag: (absent or valid, anything)."""
    return maybe(valid), fuzz(valid)


def repeated(valid: st.SearchStrategy[str], max_size: int = 3) -> Spec:
    """An iterable flag: (absent or valid values, a list of anything or a bare
    string, as a caller from Python might pass)."""
    return (
        st.one_of(st.none(), st.lists(valid, min_size=1, max_size=max_size), valid),
        st.one_of(st.lists(fuzz(valid), max_size=max_size), fuzz(valid)),
    )


def switch(valid: st.SearchStrategy[bool] | None = None) -> Spec:
    return (st.booleans() if valid is None else valid), st.booleans()


odd_types = st.one_of(st.none(), st.integers(), st.booleans(), st.floats(allow_nan=False))

#: A fuzzed value for every ecr.* key, from its valid values outward.
CONFIG_FUZZ: dict[str, st.SearchStrategy[Any]] = {
    "repo": st.one_of(fuzz(repos_valid), odd_types),
    "region": st.one_of(fuzz(regions_valid), st.lists(fuzz(regions_valid), max_size=2), odd_types),
    "profile": st.one_of(fuzz(profiles_valid), odd_types),
    "account": st.one_of(
        fuzz(accounts_valid), st.integers(-1, 10**13), st.lists(fuzz(accounts_valid), max_size=2)
    ),
    "registry": st.one_of(fuzz(hosts_valid), odd_types),
    "engine": st.one_of(fuzz(st.sampled_from(sorted(ENGINES))), odd_types),
    "fips": st.one_of(st.booleans(), st.sampled_from(sorted(BOOL_WORDS)), fuzz(st.just("yes"))),
    "dualstack": st.one_of(st.booleans(), fuzz(st.just("no")), st.integers()),
    "cache": st.one_of(st.booleans(), fuzz(st.just("true")), odd_types),
    "public_registry": st.one_of(fuzz(hosts_valid), odd_types),
}


#: Valid values for every ecr.* key: what a key holds when it is not fuzzed.
CONFIG_VALID: dict[str, st.SearchStrategy[Any]] = {
    "repo": st.one_of(st.just("app"), repos_valid),
    "region": st.one_of(st.just(REGION), regions_valid),
    "profile": maybe(profiles_valid),
    "account": st.one_of(st.just(ACCOUNT), accounts_valid, st.integers(10**11, 10**12 - 1)),
    "registry": st.one_of(st.sampled_from([REGISTRY, None]), hosts_valid),
    "engine": st.sampled_from(sorted(ENGINES)),
    "fips": st.one_of(st.none(), st.booleans(), st.sampled_from(sorted(BOOL_WORDS))),
    "dualstack": st.one_of(st.none(), st.booleans(), st.sampled_from(["yes", "off"])),
    "cache": st.one_of(st.none(), st.booleans(), st.sampled_from(["true", "0"])),
    "public_registry": st.one_of(st.just(naming.PUBLIC_REGISTRY), hosts_valid),
}


@st.composite
def task_input(draw: st.DrawFn, specs: dict[str, Spec]) -> tuple[dict, dict]:
    """``(config, flags)``: all valid, one flag or setting broken, or many broken."""
    names = [*specs, *(f"ecr.{key}" for key in CONFIG_VALID)]
    mode = draw(st.sampled_from(["valid", "one", "one", "many"]))
    if mode == "valid":
        broken: set[str] = set()
    elif mode == "one":
        broken = {draw(st.sampled_from(names))}
    else:
        broken = set(draw(st.lists(st.sampled_from(names), unique=True)))
    flags = {name: draw(spec[name in broken]) for name, spec in specs.items()}
    config = {
        key: draw(CONFIG_FUZZ[key] if f"ecr.{key}" in broken else valid)
        for key, valid in CONFIG_VALID.items()
    }
    if mode == "many" and draw(st.booleans()):
        config[draw(st.sampled_from(["colour", "Repo", "regions", "tag"]))] = "x"
    return config, flags


# -- running a task and judging the outcome ---------------------------------------------

ENGINE_PROCESS = FakeEngineProcess()


@pytest.fixture(scope="module", autouse=True)
def offline(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[None]:
    """AWS, the engine's login and the registry are fakes for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        isolate(patch, tmp_path_factory.mktemp("properties"))
        patch.setattr(aws, "Aws", FakeAws)
        patch.setattr(engine, "subprocess", ENGINE_PROCESS)
        patch.setattr(registry_api, "manifest_digest", lambda *args, **kwargs: DIGEST)
        patch.setattr(registry_api, "manifest", lambda *args, **kwargs: None)
        yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(
                f"hypothesis inputs tried: {sum(COUNTS.values())} ("
                + ", ".join(f"{key}={value}" for key, value in sorted(COUNTS.items()))
                + ")"
            )


@contextlib.contextmanager
def no_aws_client() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aws, "Aws", NoAws)
        yield


class Outcome:
    """What one task call did: commands, engine logins, output, or its Exit."""

    def __init__(self, c: RecordingContext, exit: Exit | None, out: str, err: str) -> None:
        self.commands = list(c.recorded)
        self.logins = list(ENGINE_PROCESS.calls)
        self.aws_calls = [call for fake in FakeAws.instances for call in fake.calls]
        self.exit = exit
        self.out = out
        self.err = err


def call(name: str, config: dict, flags: dict, capsys: Any, dry: bool = False) -> Outcome:
    """Run task ``name`` offline; any exception but Exit fails the test."""
    ENGINE_PROCESS.calls.clear()
    FakeAws.instances.clear()
    token_source._known_accounts.clear()
    login_module._shown_logins.clear()
    capsys.readouterr()
    c = RecordingContext(make_config(dry=dry, **config))
    exit = None
    try:
        getattr(tasks, name)(c, **flags)
    except Exit as raised:
        exit = raised
    captured = capsys.readouterr()
    outcome = Outcome(c, exit, captured.out, captured.err)
    # No password in anything printed or in the exit line, whatever happened.
    for text in (outcome.out, outcome.err, str(exit.message if exit else "")):
        assert PASSWORD_PREFIX not in text
    return outcome


def inputs_of(config: dict, flags: dict) -> list[object]:
    values: list[object] = []
    for value in [*config.values(), *flags.values()]:
        values += value if isinstance(value, list) else [value]
    return values


def check_exit(name: str, outcome: Outcome, config: dict, flags: dict) -> None:
    """Exit code 1, one line, nothing run; a bad value is named in the line."""
    assert outcome.exit is not None
    message = outcome.exit.message
    assert outcome.exit.code == 1
    assert isinstance(message, str)
    assert message.startswith("ecr-tasks: ")
    assert len(message.splitlines()) == 1, message
    assert outcome.commands == [], f"{name} ran {outcome.commands} before failing"
    assert outcome.logins == []
    if message.startswith("ecr-tasks: invalid "):
        named = [v for v in inputs_of(config, flags) if repr(v) in message]
        named += [k for k in config if f"'ecr.{k}'" in message]
        assert named, f"the message names none of the inputs: {message}"
    COUNTS[f"{name}:exit"] += 1


def violations(name: str, config: dict, flags: dict) -> list[str]:
    """Why this input must fail, by the rules above (empty: it may succeed)."""
    found: list[str] = []

    def effective(key: str) -> Any:
        flag = flags.get(key)
        return flag if flag not in (None, "", []) else config.get(key, ecr_settings.DEFAULTS[key])

    unknown = set(config) - set(ecr_settings.DEFAULTS)
    if unknown:
        found.append(f"unknown setting {sorted(unknown)}")
    repo = effective("repo")
    if repo is not None and not repo_ok(repo):
        found.append("repo")
    regions = as_list(effective("region"))
    if any(not (isinstance(r, str) and REGION_SHAPE.fullmatch(r)) for r in regions):
        found.append("region")
    accounts = as_list(effective("account"))
    if not all(account_ok(a) for a in accounts):
        found.append("account")
    profile = effective("profile")
    if profile is not None and profile not in PROFILES:
        found.append("profile")
    registry = config.get("registry")
    if registry and not host_ok(registry):
        found.append("registry")
    if not host_ok(config.get("public_registry", naming.PUBLIC_REGISTRY)):
        found.append("public_registry")
    if config.get("engine", "docker") not in ENGINES:
        found.append("engine")
    for key in ("fips", "dualstack") + (() if flags.get("no_cache") else ("cache",)):
        if not bool_ok(config.get(key)):
            found.append(key)
    no_region = not regions and (profile if profile in PROFILES else "default") == "noregion"
    if no_region and not (name == "login" and flags.get("public")):
        found.append("no region")

    if name in ("tag", "push"):
        tags = flags.get("tag")
        tags = [tags] if isinstance(tags, str) else tags
        if not tags or not all(tag_ok(t) for t in tags):
            found.append("tag")
        image = flags.get("image")
        if image is not None and not (isinstance(image, str) and SAFE_IMAGE.fullmatch(image)):
            found.append("image")
    if name in ("tag", "push", "pull") and repo is None:
        found.append("no repo")
    if name == "push":
        kms = flags.get("kms_key")
        if kms is not None and (not kms or any(ch.isspace() for ch in kms)):
            found.append("kms key")
        if (flags.get("immutable") or flags.get("scan_on_push") or kms) and not flags.get("create"):
            found.append("--create options without --create")
        elif flags.get("immutable") or flags.get("scan_on_push") or kms:
            # The fake's repository exists with every default (mutable tags,
            # no scan on push, AES256): what was asked for differs from it.
            found.append("--create settings an existing repository lacks")
    if name == "pull":
        if flags.get("tag") is not None and flags.get("digest") is not None:
            found.append("tag and digest")
        if flags.get("tag") is not None and not tag_ok(flags["tag"]):
            found.append("tag")
        if flags.get("digest") is not None and not (
            isinstance(flags["digest"], str) and DIGEST_RULE.fullmatch(flags["digest"])
        ):
            found.append("digest")
    if name == "uri":
        if flags.get("tag") is not None and not tag_ok(flags["tag"]):
            found.append("tag")
        if flags.get("digest") and repo is None:
            found.append("no repo")
    targets = len(set(map(str, regions)) or {None}) * len(set(map(str, accounts)) or {None})
    if name == "login" and registry and targets > 1:  # repeated values count once
        found.append("registry with several targets")
    return found


def expected_host(config: dict, flags: dict) -> str:
    """The registry host the model expects, for an input that passed."""
    registry = config.get("registry")
    if registry:
        return registry

    def effective(key: str) -> Any:
        flag = flags.get(key)
        return flag if flag not in (None, "", []) else config.get(key)

    regions = as_list(effective("region"))
    profile = effective("profile") or "default"
    region = regions[0] if regions else PROFILES[profile]
    accounts = as_list(effective("account"))
    account = naming.check_account(accounts[0]) if accounts else ACCOUNT
    return naming.registry_host(
        account,
        region,
        fips=as_bool(config.get("fips", False)),
        dualstack=as_bool(config.get("dualstack", False)),
    )


def login_targets(config: dict, flags: dict) -> int:
    """How many registries the model expects a successful login to reach."""

    def effective(key: str) -> Any:
        flag = flags.get(key)
        return flag if flag not in (None, "", []) else config.get(key)

    regions = set(as_list(effective("region")))
    if not regions:
        regions = {PROFILES[effective("profile") or "default"]} - {None}
    accounts = {naming.check_account(a) for a in as_list(effective("account"))}
    return len(regions) * max(1, len(accounts)) + bool(flags.get("public"))


def split_all(commands: list[str]) -> list[list[str]]:
    argvs = [shlex.split(command) for command in commands]
    # Quoting once, in one place: re-quoting the split words gives the same line.
    assert [shlex.join(argv) for argv in argvs] == commands
    return argvs


def check_user_words(argv: list[str]) -> None:
    """No word that came from the user can pass for an option."""
    for word in argv[1:]:
        assert word in FIXED_WORDS or not word.startswith("-"), argv
        assert not any(ch.isspace() for ch in word), argv


BEYOND_THE_MODEL = tuple(f"ecr-tasks: invalid {what} " for what in ("region", "image", "KMS key"))


def judge(name: str, config: dict, flags: dict, outcome: Outcome) -> None:
    """The property itself: a valid run, or one clean line."""
    must_fail = violations(name, config, flags)
    if outcome.exit is not None:
        check_exit(name, outcome, config, flags)
        if not must_fail:
            # What the model leaves to finer rules: botocore's partition table,
            # Docker's full reference grammar, the KMS key id format.
            assert outcome.exit.message.startswith(BEYOND_THE_MODEL), (
                f"rejected an input the rules accept: {outcome.exit.message}"
            )
        return
    assert not must_fail, f"{name} accepted {config} {flags} despite {must_fail}"
    COUNTS[f"{name}:ok"] += 1
    CHECKS[name](config, flags, outcome)


def _tags(flags: dict) -> list[str]:
    tags = flags["tag"]
    return list(dict.fromkeys([tags] if isinstance(tags, str) else tags))


def _repo(config: dict, flags: dict) -> str:
    return flags.get("repo") or config["repo"]


def check_tag_commands(config: dict, flags: dict, outcome: Outcome) -> None:
    host, repo, tags = expected_host(config, flags), _repo(config, flags), _tags(flags)
    engine_name = config.get("engine", "docker")
    source = flags.get("image") or f"{repo}:{tags[0]}"
    refs = [f"{host}/{repo}:{t}" for t in tags]
    argvs = split_all(outcome.commands)
    assert argvs[: len(refs)] == [[engine_name, "tag", source, ref] for ref in refs]
    for argv in argvs:
        check_user_words(argv)
        assert argv[0] in ENGINES
        assert SAFE_IMAGE.fullmatch(argv[-1])


def check_self_login(config: dict, flags: dict, outcome: Outcome) -> None:
    """tag, push and pull log in by themselves: to their own registry, at most
    once, the password on stdin only."""
    assert len(outcome.logins) <= 1
    engine_name = config.get("engine", "docker")
    login_argv = [engine_name, "login", "--username", "AWS", "--password-stdin"]
    for argv, stdin in outcome.logins:
        assert argv == [*login_argv, expected_host(config, flags)]
        assert stdin is not None and stdin.startswith(PASSWORD_PREFIX)


def check_tag(config: dict, flags: dict, outcome: Outcome) -> None:
    check_self_login(config, flags, outcome)
    check_tag_commands(config, flags, outcome)
    assert len(outcome.commands) == len(_tags(flags))
    host, repo = expected_host(config, flags), _repo(config, flags)
    assert outcome.out == "".join(f"Tagged {host}/{repo}:{t}\n" for t in _tags(flags))


def check_push(config: dict, flags: dict, outcome: Outcome) -> None:
    host, repo, tags = expected_host(config, flags), _repo(config, flags), _tags(flags)
    refs = [f"{host}/{repo}:{t}" for t in tags]
    engine_name = config.get("engine", "docker")
    # First the question which registry names exist locally (to remove the new
    # ones if the push fails), unless the source may be a bare image id.
    inspects = [[engine_name, "image", "inspect", r] for r in refs]
    asked = split_all(outcome.commands)[: len(refs)]
    if asked == inspects:
        outcome = copy.copy(outcome)
        outcome.commands = outcome.commands[len(refs) :]
    check_self_login(config, flags, outcome)
    check_tag_commands(config, flags, outcome)
    assert split_all(outcome.commands)[len(refs) :] == [[engine_name, "push", r] for r in refs]
    # The fake says every repository exists: nothing is created, nothing else printed.
    assert outcome.out.splitlines() == [f"Pushed {r} {DIGEST}" for r in refs]
    assert [call for call in outcome.aws_calls if call[0] == "create_repository"] == []


def check_pull(config: dict, flags: dict, outcome: Outcome) -> None:
    check_self_login(config, flags, outcome)
    host, repo = expected_host(config, flags), _repo(config, flags)
    digest = flags.get("digest")
    ref = f"{host}/{repo}@{digest}" if digest else f"{host}/{repo}:{flags.get('tag') or 'latest'}"
    assert split_all(outcome.commands) == [[config.get("engine", "docker"), "pull", ref]]
    check_user_words(shlex.split(outcome.commands[0]))
    assert outcome.out == f"Pulled {ref} {DIGEST}\n"


def check_uri(config: dict, flags: dict, outcome: Outcome) -> None:
    assert outcome.commands == [] and outcome.logins == []
    host = expected_host(config, flags)
    repo = flags.get("repo") or config.get("repo")
    if flags.get("digest"):
        assert outcome.out == f"{host}/{repo}@{DIGEST}\n"
    else:
        assert outcome.out == naming.image_ref(host, repo, flags.get("tag")) + "\n"
    assert len(outcome.out.splitlines()) == 1


def check_login(config: dict, flags: dict, outcome: Outcome) -> None:
    assert outcome.commands == []
    lines = outcome.out.splitlines()
    assert len(outcome.logins) == login_targets(config, flags)
    for argv, stdin in outcome.logins:
        assert argv[:5] == [
            config.get("engine", "docker"),
            "login",
            "--username",
            "AWS",
            "--password-stdin",
        ]
        assert len(argv) == 6 and host_ok(argv[5])
        assert stdin is not None and stdin.startswith(PASSWORD_PREFIX)
        assert not any(PASSWORD_PREFIX in word for word in argv)
    assert sorted(lines) == sorted(f"Logged in to {argv[5]}" for argv, _ in outcome.logins)
    assert PASSWORD_PREFIX not in outcome.out
    if config.get("registry"):
        public = config.get("public_registry", naming.PUBLIC_REGISTRY)
        if public == naming.PUBLIC_REGISTRY and str(config.get("dualstack")).lower() in (
            "1", "true", "yes", "on"
        ):  # fmt: skip
            public = naming.PUBLIC_REGISTRY_DUALSTACK  # ECR Public's dual-stack host
        assert {argv[5] for argv, _ in outcome.logins} <= {config["registry"], public}


CHECKS = {
    "tag": check_tag,
    "push": check_push,
    "pull": check_pull,
    "uri": check_uri,
    "login": check_login,
}

# -- the fuzzing properties: every flag, every setting ------------------------------------

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WHERE_SPECS = {
    "repo": optional(repos_valid),
    "account": optional(accounts_valid),
    "region": optional(regions_valid),
    "profile": optional(profiles_valid),
}
IMAGE_SPECS = {"tag": repeated(tags_valid), "image": optional(images_valid), **WHERE_SPECS}


@SETTINGS
@given(task_input(IMAGE_SPECS))
def test_tag_any_input(capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]) -> None:
    config, flags = given_input
    judge("tag", config, flags, call("tag", config, flags, capsys))


@SETTINGS
@given(
    task_input(
        {
            **IMAGE_SPECS,
            "create": switch(),
            "immutable": switch(st.just(False)),
            "scan_on_push": switch(st.just(False)),
            "kms_key": (st.none(), fuzz(kms_valid)),
            "no_verify": switch(),
        }
    )
)
def test_push_any_input(capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]) -> None:
    config, flags = given_input
    judge("push", config, flags, call("push", config, flags, capsys))


@SETTINGS
@given(
    task_input(
        {
            "tag": optional(tags_valid),
            "digest": (st.none(), fuzz(digests_valid)),
            **WHERE_SPECS,
        }
    )
)
def test_pull_any_input(capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]) -> None:
    config, flags = given_input
    judge("pull", config, flags, call("pull", config, flags, capsys))


@SETTINGS
@given(task_input({"tag": optional(tags_valid), "digest": switch(), **WHERE_SPECS}))
def test_uri_any_input(capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]) -> None:
    config, flags = given_input
    judge("uri", config, flags, call("uri", config, flags, capsys))


@SETTINGS
@given(
    task_input(
        {
            "region": repeated(regions_valid, 2),
            "account": repeated(accounts_valid, 2),
            "profile": optional(profiles_valid),
            "public": switch(),
            "no_cache": switch(),
        }
    )
)
def test_login_any_input(capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]) -> None:
    config, flags = given_input
    judge("login", config, flags, call("login", config, flags, capsys))


@SETTINGS
@given(task_input({"public": switch()}))
def test_login_dry_any_setting(
    capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]
) -> None:
    # --dry: the commands are printed, and nothing reaches AWS or the engine.
    config, flags = given_input
    with no_aws_client():
        outcome = call("login", config, flags, capsys, dry=True)
    if outcome.exit is not None:
        check_exit("login-dry", outcome, config, flags)
        return
    assert not violations("login", config, flags)
    COUNTS["login-dry:ok"] += 1
    assert outcome.logins == [] and outcome.aws_calls == []
    lines = outcome.out.splitlines()
    assert lines
    for line in lines:
        argv = shlex.split(re.sub(r"\x1b\[[0-9;]*m", "", line))
        assert argv[:5] == [
            config.get("engine", "docker"),
            "login",
            "--username",
            "AWS",
            "--password-stdin",
        ]
        check_user_words(argv)


# -- all-valid inputs always succeed, with the exact commands -------------------------------

VALID = settings(SETTINGS, max_examples=VALID_EXAMPLES)
valid_where = st.fixed_dictionaries(
    {"repo": repos_valid, "account": accounts_valid, "region": regions_valid}
)


@VALID
@given(
    where=valid_where,
    tags=st.lists(tags_valid, min_size=1, max_size=3),
    image=maybe(images_valid),
    registry=maybe(hosts_valid),
    engine_name=st.sampled_from(sorted(ENGINES)),
    fips=st.booleans(),
)
def test_valid_tag_and_push_succeed(
    capsys: pytest.CaptureFixture,
    where: dict,
    tags: list[str],
    image: str | None,
    registry: str | None,
    engine_name: str,
    fips: bool,
) -> None:
    config = {"registry": registry, "engine": engine_name, "fips": fips}
    flags = {"tag": tags, "image": image, **where}
    for name in ("tag", "push"):
        extra = {"no_verify": True} if name == "push" else {}
        outcome = call(name, config, {**flags, **extra}, capsys)
        assert outcome.exit is None, outcome.exit.message
        judge(name, config, flags, outcome)
        # Account and region known: a token (or the cache) and one login, no STS.
        assert len(outcome.logins) == 1
        assert {call[0] for call in outcome.aws_calls} <= {"registry_tokens"}


@VALID
@given(where=valid_where, tag=maybe(tags_valid), registry=maybe(hosts_valid))
def test_valid_uri_never_builds_an_aws_client(
    capsys: pytest.CaptureFixture, where: dict, tag: str | None, registry: str | None
) -> None:
    config = {"registry": registry}
    flags = {"tag": tag, **where}
    with no_aws_client():
        outcome = call("uri", config, flags, capsys)
    assert outcome.exit is None, outcome.exit.message
    judge("uri", config, flags, outcome)


@VALID
@given(where=valid_where, tag=tags_valid, digest=maybe(digests_valid))
def test_valid_pull_succeeds(
    capsys: pytest.CaptureFixture, where: dict, tag: str, digest: str | None
) -> None:
    flags = {"tag": None if digest else tag, "digest": digest, **where}
    outcome = call("pull", {"registry": REGISTRY}, flags, capsys)
    assert outcome.exit is None, outcome.exit.message
    judge("pull", {"registry": REGISTRY}, flags, outcome)


@VALID
@given(
    regions=st.lists(regions_valid, min_size=1, max_size=3, unique=True),
    accounts=st.lists(accounts_valid, max_size=3, unique=True),
    engine_name=st.sampled_from(sorted(ENGINES)),
)
def test_valid_login_logs_in_to_every_pair(
    capsys: pytest.CaptureFixture, regions: list[str], accounts: list[str], engine_name: str
) -> None:
    config = {"engine": engine_name, "cache": False}
    flags = {"region": regions, "account": accounts}
    outcome = call("login", config, flags, capsys)
    assert outcome.exit is None, outcome.exit.message
    judge("login", config, flags, outcome)
    assert len(outcome.logins) == len(regions) * max(1, len(accounts))
    # One GetAuthorizationToken call per region, whatever the number of accounts.
    assert sorted(c[1] for c in outcome.aws_calls) == sorted(regions)


# -- doctor, when the collection has it ------------------------------------------------------


@SETTINGS
@given(task_input(WHERE_SPECS))
def test_doctor_any_input(capsys: pytest.CaptureFixture, given_input: tuple[dict, dict]) -> None:
    config, flags = given_input
    if "doctor" not in tasks.ns.task_names:
        pytest.skip("no doctor task in the collection yet")
    from ecr_tasks import doctor as doctor_module

    answers = FakeEngineProcess(stdout="27.0.1\n")
    with pytest.MonkeyPatch.context() as patch:
        # Its probes: a fake engine that answers, and no network for the registry check.
        patch.setattr(doctor_module, "subprocess", answers)
        patch.setattr(
            doctor_module,
            "check_registry",
            lambda host, source="", **kw: doctor_module.Check("registry", "ok", host),
        )
        c = RecordingContext(make_config(**config))
        ENGINE_PROCESS.calls.clear()
        capsys.readouterr()
        try:
            tasks.ns["doctor"](c, **flags)
        except Exit as raised:
            assert raised.code == 1
            assert not raised.message or len(str(raised.message).splitlines()) == 1
            COUNTS["doctor:exit"] += 1
        else:
            COUNTS["doctor:ok"] += 1
    out = capsys.readouterr().out
    assert c.recorded == [] and ENGINE_PROCESS.calls == []
    marks = set(doctor_module.MARKS.values()) | set(doctor_module.ASCII_MARKS.values())
    for line in out.splitlines():
        assert line[:1] in marks, line
    assert PASSWORD_PREFIX not in out
    assert all(argv[0] in ENGINES for argv, _ in answers.calls)
