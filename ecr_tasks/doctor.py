"""``inv doctor``: what works and what does not, one line per check.

Each check is a small function that returns a :class:`Check` (a status, a
detail and, where something can be done, a hint) so a test can call it with
fakes. :func:`diagnose` runs them in order, skipping those whose inputs an
earlier check could not provide; the task only prints the lines. Checks
read and never change anything: no login, no cache write, no engine state.
No check ever prints a password or a token: the credential store check
says where a token lives, never what it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from invoke import task
from invoke.exceptions import Exit

from ecr_tasks import authfile, awsconfig, naming, settings
from ecr_tasks.cache import is_fresh
from ecr_tasks.errors import ConfigError, EcrTasksError, RepositoryNotFound, exits_cleanly
from ecr_tasks.login import host_for
from ecr_tasks.token_source import Target, TokenSource

if TYPE_CHECKING:
    from ecr_tasks.aws import Aws
    from ecr_tasks.cache import NullCache, TokenCache

Status = Literal["ok", "fail", "skip"]
OK: Status = "ok"
FAIL: Status = "fail"
SKIP: Status = "skip"

MARKS: dict[Status, str] = {OK: "\u2713", FAIL: "\u2717", SKIP: "\u2013"}  # ✓ ✗ and a dash
ASCII_MARKS: dict[Status, str] = {OK: "+", FAIL: "x", SKIP: "-"}

#: Seconds any one probe (an engine command, the registry's /v2/) may take:
#: a doctor that hangs on a dead TCP DOCKER_HOST would be no help.
PROBE_TIMEOUT = 8.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check: one line of output."""

    label: str
    status: Status
    detail: str
    hint: str = ""


# -- output ------------------------------------------------------------------


def marks_for(stream: Any) -> dict[Status, str]:
    """The check marks ``stream`` can print: :data:`MARKS`, else plain ASCII."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "".join(MARKS.values()).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_MARKS
    return MARKS


def format_checks(checks: Sequence[Check], marks: Mapping[Status, str] = MARKS) -> list[str]:
    """One line per check: mark, label (in a column), detail, then any hint or warning."""
    width = max((len(check.label) for check in checks), default=0)
    lines = []
    for check in checks:
        line = f"{marks[check.status]} {check.label:<{width}}  {check.detail}"
        if check.hint:
            # A hint on a passing check is a warning: it works, but mind this.
            line += f"  {'hint' if check.status == FAIL else 'warning'}: {check.hint}"
        lines.append(line)
    return lines


def exit_code(checks: Sequence[Check]) -> int:
    """1 when any check failed; skipped checks do not count as failures."""
    return 1 if any(check.status == FAIL for check in checks) else 0


# -- the engine --------------------------------------------------------------

Probe = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_probe(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a read-only engine command, capturing its output, within the timeout."""
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _probe(label: str, argv: list[str], run: Probe, hint: str, where: str) -> Check | str:
    """The first line ``argv`` prints, or the failed check that says why there is none."""
    try:
        done = run(argv)
    except FileNotFoundError:
        return Check(label, FAIL, f"{argv[0]} not found on PATH", hint)
    except subprocess.TimeoutExpired:
        return Check(label, FAIL, f"no answer from {where} in {PROBE_TIMEOUT:g} s", hint)
    except OSError as error:
        return Check(label, FAIL, f"cannot run {argv[0]}: {error.strerror}", hint)
    if done.returncode != 0 or not done.stdout.strip():
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1][:200] if lines else "no error output"
        return Check(label, FAIL, f"{where} failed: {reason}", hint)
    return _first_line(done.stdout)


def check_engine_installed(engine: str, run: Probe = run_probe) -> Check:
    """``<engine> --version`` runs."""
    hint = f"install {engine} or set ecr.engine (INVOKE_ECR_ENGINE)"
    found = _probe("engine", [engine, "--version"], run, hint, f"`{engine} --version`")
    return found if isinstance(found, Check) else Check("engine", OK, found)


# A read-only command that needs the daemon (or, for podman, the local store)
# and prints its version; each engine's own spelling.
_DAEMON_PROBES: dict[str, tuple[str, ...]] = {
    "docker": ("version", "--format", "{{.Server.Version}}"),
    "podman": ("info", "--format", "{{.Version.Version}}"),
    "nerdctl": ("info", "--format", "{{.ServerVersion}}"),
    "finch": ("info", "--format", "{{.ServerVersion}}"),
}


def engine_endpoint(engine: str, environ: Mapping[str, str]) -> str:
    """Where the engine's client looks for its daemon, as the environment says."""
    if engine == "podman":
        host = environ.get("CONTAINER_HOST")
        return f"CONTAINER_HOST={host}" if host else "the local podman store"
    if environ.get("DOCKER_HOST"):
        return f"DOCKER_HOST={environ['DOCKER_HOST']}"
    if environ.get("DOCKER_CONTEXT"):
        return f"DOCKER_CONTEXT={environ['DOCKER_CONTEXT']}"
    return "its default socket"


def check_daemon(
    engine: str, run: Probe = run_probe, environ: Mapping[str, str] = os.environ
) -> Check:
    """The engine's daemon answers a version query within the timeout."""
    label = "engine daemon"
    where = engine_endpoint(engine, environ)
    hint = (
        "start podman's socket or fix CONTAINER_HOST"
        if engine == "podman"
        else f"start the {engine} daemon or point DOCKER_HOST at a running one"
    )
    argv = [engine, *_DAEMON_PROBES.get(engine, ("info",))]
    found = _probe(label, argv, run, hint, where)
    if isinstance(found, Check):
        return found
    return Check(label, OK, f"{engine} server {found} at {where}")


# -- AWS -----------------------------------------------------------------------


def region_source(
    config: Mapping[str, Any],
    flag: Any,
    profile: str | None,
    environ: Mapping[str, str],
) -> str:
    """Where the region came from, in the order settings.resolve looks."""
    if flag:
        return "--region"
    if config.get("region"):
        if environ.get("INVOKE_ECR_REGION") == config["region"]:
            return "INVOKE_ECR_REGION"
        return "ecr.region in the invoke config"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            return name
    name = profile or environ.get("AWS_PROFILE") or "default"
    return f"profile {name} in {awsconfig.config_path(environ)}"


def check_region(s: settings.Settings, source: str) -> Check:
    """A region is set; say which and where it came from."""
    if not s.regions:
        return Check(
            "region",
            FAIL,
            "no AWS region",
            "pass --region, set ecr.region (INVOKE_ECR_REGION) or AWS_REGION",
        )
    more = f"; first of {', '.join(s.regions)}" if len(s.regions) > 1 else ""
    return Check("region", OK, f"{s.region} (from {source}{more})")


def account_of_arn(arn: str) -> str | None:
    """The account id field of an ARN, if it holds one."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and naming.ACCOUNT_RE.fullmatch(parts[4]) else None


def check_credentials(aws: Aws, region: str, profile: str | None) -> tuple[Check, str | None]:
    """STS GetCallerIdentity: the principal's ARN, and its account for later checks."""
    label = "AWS credentials"
    try:
        arn = aws.caller_arn(region)
    except EcrTasksError as error:
        # A ConfigError already says what to do; an API refusal may need a second look.
        hint = (
            "" if isinstance(error, ConfigError) else "`aws sts get-caller-identity` asks the same"
        )
        return Check(label, FAIL, str(error), hint), None
    via = f" (profile {profile})" if profile else ""
    return Check(label, OK, f"{arn}{via}"), account_of_arn(arn)


def check_repository(aws: Aws, region: str, account: str | None, repo: str) -> Check:
    """DescribeRepositories finds ``repo``."""
    label = "repository"
    try:
        found = aws.describe_repository(region, account, repo)
    except RepositoryNotFound:
        return Check(label, FAIL, f"{repo} not found in {region}", "push with --create to make it")
    except EcrTasksError as error:
        return Check(label, FAIL, str(error), "the principal needs ecr:DescribeRepositories")
    mutability = str(found.get("imageTagMutability", "MUTABLE")).lower()
    return Check(label, OK, f"{repo} exists ({mutability} tags)")


# -- the registry ------------------------------------------------------------


def check_registry(host: str, source: str = "", timeout: float = PROBE_TIMEOUT) -> Check:
    """``GET /v2/`` answers like a registry: 200, or 401 since we send no credentials."""
    import urllib.error
    import urllib.request

    from ecr_tasks.registry_api import scheme

    label = "registry"
    url = f"{scheme(host)}://{host}/v2/"
    named = f"{host} ({source})" if source else host
    hint = "check the network and proxy settings" + (", and ecr.registry" if source else "")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - http(s) only
            code = answer.status
    except urllib.error.HTTPError as error:
        code = error.code
        error.close()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        return Check(label, FAIL, f"{named} unreachable: {reason}", hint)
    if code in (200, 401):
        return Check(label, OK, f"{named} answers GET /v2/ (HTTP {code})")
    return Check(
        label, FAIL, f"{named} answered GET /v2/ with HTTP {code}: not a registry API", hint
    )


# -- the token cache ---------------------------------------------------------


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(stamp))


def check_token_cache(cache: TokenCache | NullCache, key: str, now: float | None = None) -> Check:
    """The state of this registry's cached token: fresh until when, stale, none, or off."""
    label = "token cache"
    if not cache.enabled:
        return Check(label, SKIP, "disabled (ecr.cache is false)")
    now = time.time() if now is None else now
    token = cache.peek(key)
    if token is None:
        if cache.path(key).exists():
            name = cache.path(key).name
            return Check(label, OK, f"unreadable entry {name}: the next login rewrites it")
        return Check(label, OK, f"no token cached for this registry in {cache.directory}")
    if is_fresh(token, now):
        return Check(
            label, OK, f"fresh until {_when(token.renew_at)}, expires {_when(token.expires_at)}"
        )
    if now < token.expires_at:
        return Check(label, OK, f"stale since {_when(token.renew_at)}: the next login asks AWS")
    return Check(label, OK, f"expired at {_when(token.expires_at)}: the next login asks AWS")


# -- where the engine keeps credentials --------------------------------------


def check_credential_store(
    engine: str,
    host: str,
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
) -> Check:
    """Whether this registry's token sits in a credential helper or, in plain base64, in a file."""
    label = "credential store"
    path = authfile.path(engine, environ)
    try:
        data = authfile.read(path)
    except ConfigError as error:
        return Check(label, FAIL, str(error), f"fix or remove {path}")
    if not path.exists():
        return Check(
            label, OK, f"no {path} yet: a login writes it, in plain base64 unless credsStore is set"
        )
    host = host.lower()
    helper = authfile.helper_for(data, host)
    source = "credHelpers" if host in authfile.section(data, "credHelpers") else "credsStore"
    plain = authfile.has_secret(authfile.section(data, "auths").get(host))
    if helper:
        program = f"docker-credential-{helper}"
        if which(program) is None:
            return Check(
                label,
                FAIL,
                f"{source} in {path} names {helper}, but {program} is not on PATH",
                f"install {program} or remove {source} from {path}",
            )
        if plain:
            return Check(
                label,
                OK,
                f"{program} ({source}), but a plain base64 entry for {host} is left in {path}",
                f"delete auths[{host}] from {path}: anyone who can read it can use the token",
            )
        return Check(label, OK, f"{program} ({source} in {path})")
    if plain:
        mode = path.stat().st_mode & 0o777
        exposed = f" (mode {mode:o}: other users can read it)" if mode & 0o044 else ""
        return Check(
            label,
            OK,
            f"plain base64 in {path}{exposed}",
            "anyone who can read that file can use the token until it expires; "
            "set credsStore or credHelpers to keep it in a credential helper",
        )
    return Check(
        label, OK, f"no login for {host} in {path} yet; plain base64 there unless credsStore is set"
    )


def check_engine_logins(
    engine: str,
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
) -> Check:
    """Every registry in the engine's config: which ask a credential helper,
    which keep a plain password, and helper entries whose program is missing.

    A missing program (``docker-credential-desktop: executable file not
    found``) breaks every pull from the hosts it covers, not only ECR's.
    """
    label = "engine logins"
    path = authfile.path(engine, environ)
    try:
        data = authfile.read(path)
    except ConfigError as error:
        return Check(label, FAIL, str(error), f"fix or remove {path}")
    if not path.exists():
        return Check(label, OK, f"no {path}: no password stored, no helper set")
    helpers = {
        host: name
        for host, name in authfile.section(data, "credHelpers").items()
        if isinstance(name, str) and name
    }
    store = data.get("credsStore") if isinstance(data.get("credsStore"), str) else None
    plain = sorted(
        host
        for host, entry in authfile.section(data, "auths").items()
        if authfile.has_secret(entry) and host not in helpers and not store
    )
    missing = {
        name: sorted(h for h, v in helpers.items() if v == name) or ["every other registry"]
        for name in sorted(set(helpers.values()) | ({store} if store else set()))
        if which(f"docker-credential-{name}") is None
    }
    if missing:
        broken = "; ".join(
            f"docker-credential-{name} (for {', '.join(hosts)})" for name, hosts in missing.items()
        )
        return Check(
            label,
            FAIL,
            f"{path} names credential helpers that are not on PATH: {broken}",
            "install them or remove those credHelpers/credsStore entries: the engine fails "
            "every pull from those registries (executable file not found)",
        )
    parts = []
    by_program: dict[str, list[str]] = {}
    for host, name in sorted(helpers.items()):
        by_program.setdefault(name, []).append(host)
    parts += [f"{name} helper for {', '.join(hosts)}" for name, hosts in by_program.items()]
    parts += [f"{store} helper (credsStore) for every other registry"] if store else []
    parts += [f"plain passwords for {', '.join(plain)}"] if plain else []
    hint = "inv login --helper stores no password for ECR registries" if plain else ""
    return Check(label, OK, f"{'; '.join(parts) or 'nothing stored'} ({path})", hint)


# -- all together --------------------------------------------------------------


def _summary(s: settings.Settings) -> str:
    parts = [f"engine {s.engine}"]
    parts += [f"repo {s.repo}"] if s.repo else []
    parts += [f"account {s.account}"] if s.account else []
    parts += [f"registry override {s.registry}"] if s.registry else []
    parts += ["FIPS"] if s.fips else []
    parts += ["dual-stack"] if s.dualstack else []
    parts += [] if s.cache else ["token cache off"]
    return ", ".join(parts)


# The checks after the engine's, in order; all need valid settings.
_AWS_LABELS = (
    "region",
    "AWS credentials",
    "registry",
    "repository",
    "token cache",
    "credential store",
)


def diagnose(
    config: Mapping[str, Any],
    *,
    repo: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    account: str | None = None,
    environ: Mapping[str, str] | None = None,
    run: Probe = run_probe,
    aws: Aws | None = None,
) -> list[Check]:
    """Every check in order; one whose input is missing is skipped, saying why."""
    environ = os.environ if environ is None else environ
    try:
        s = settings.resolve(
            config, repo=repo, region=region, account=account, profile=profile, environ=environ
        )
    except EcrTasksError as error:
        checks = [Check("settings", FAIL, str(error), "fix the flag or the ecr.* setting it names")]
        try:
            engine = naming.check_engine(config.get("engine", "docker"))
        except EcrTasksError:
            return checks
        checks += _engine_checks(engine, run, environ)
        checks += [Check(label, SKIP, "needs valid settings") for label in _AWS_LABELS]
        return [*checks, check_engine_logins(engine, environ)]

    checks = [Check("settings", OK, _summary(s))]
    checks += _engine_checks(s.engine, run, environ)
    checks.append(check_region(s, region_source(config, region, s.profile, environ)))
    if not s.regions:
        checks += [Check(label, SKIP, "needs a region") for label in _AWS_LABELS[1:]]
        return [*checks, check_engine_logins(s.engine, environ)]

    tokens = TokenSource(s, environ)
    aws = aws if aws is not None else tokens.aws
    credentials, caller_account = check_credentials(aws, s.region, s.profile)
    checks.append(credentials)

    host = host_for(s, tokens, Target(s.region, s.account or caller_account))
    if host is None:
        checks.append(
            Check("registry", SKIP, "needs the account: pass --account or fix credentials")
        )
    else:
        checks.append(check_registry(host, "ecr.registry" if s.registry else ""))

    if s.repo is None:
        checks.append(Check("repository", SKIP, "no repository set (--repo or ecr.repo)"))
    elif credentials.status != OK:
        checks.append(Check("repository", SKIP, "needs AWS credentials"))
    else:
        checks.append(check_repository(aws, s.region, s.account, s.repo))

    # The same cache entry `login` would use: same target, same key.
    checks.append(check_token_cache(tokens.cache, tokens.key(Target(s.region, s.account))))
    if host is None:
        checks.append(Check("credential store", SKIP, "needs the registry host"))
    else:
        checks.append(check_credential_store(s.engine, host, environ))
    checks.append(check_engine_logins(s.engine, environ))
    return checks


def _engine_checks(engine: str, run: Probe, environ: Mapping[str, str]) -> list[Check]:
    installed = check_engine_installed(engine, run)
    if installed.status != OK:
        return [installed, Check("engine daemon", SKIP, f"needs {engine} installed")]
    return [installed, check_daemon(engine, run, environ)]


@task(
    auto_shortflags=False,
    help={
        "repo": "also check that this repository exists (default: ecr.repo)",
        "region": "AWS region of the registry (default: ecr.region, AWS_REGION, the profile's)",
        "profile": "AWS profile for credentials (default: ecr.profile, AWS_PROFILE)",
        "account": "12-digit account id of the registry (default: ecr.account, else your own)",
    },
)
@exits_cleanly
def doctor(
    c: Any,
    repo: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    account: str | None = None,
) -> None:
    """Check the engine, AWS credentials, region, registry, repository and token cache.

    One line per check, marked ✓ (passed), ✗ (failed, with a hint) or a
    dash (skipped); exit code 1 when any check failed. Nothing is changed and no
    password is printed.
    """
    if c.config.run.dry:
        # Every check calls AWS or the engine, which --dry promises not to.
        print("doctor: no checks run under --dry")
        return
    config = c.config.get("ecr") or {}
    checks = diagnose(
        {key: config[key] for key in config},
        repo=repo,
        region=region,
        profile=profile,
        account=account,
    )
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    for line in format_checks(checks, marks_for(sys.stdout)):
        # Engine or AWS text may hold characters the terminal cannot show either.
        print(line.encode(encoding, "replace").decode(encoding))
    if exit_code(checks):
        raise Exit(code=1)
