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

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from invoke import task
from invoke.exceptions import Exit

from ecr_tasks import authfile, awsconfig, naming, settings
from ecr_tasks.cache import TokenCache, cache_dir, is_fresh
from ecr_tasks.errors import BadValue, ConfigError, EcrTasksError, RepositoryNotFound, exits_cleanly
from ecr_tasks.login import host_for
from ecr_tasks.token_source import Target, TokenSource

if TYPE_CHECKING:
    from ecr_tasks.aws import Aws
    from ecr_tasks.cache import NullCache

OK, FAIL, SKIP = "ok", "fail", "skip"  # a check's status

MARKS = {OK: "\u2713", FAIL: "\u2717", SKIP: "\u2013"}  # ✓ ✗ and a dash
ASCII_MARKS = {OK: "+", FAIL: "x", SKIP: "-"}

#: Seconds any one probe (an engine command, the registry's /v2/) may take:
#: a doctor that hangs on a dead TCP DOCKER_HOST would be no help.
PROBE_TIMEOUT = 8.0


class Check(NamedTuple):
    """The outcome of one check: one line of output."""

    label: str
    status: str
    detail: str
    hint: str = ""


# -- output ------------------------------------------------------------------


def marks_for(stream: Any) -> dict[str, str]:
    """The check marks ``stream`` can print: :data:`MARKS`, else plain ASCII."""
    try:
        "".join(MARKS.values()).encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_MARKS
    return MARKS


def format_checks(checks: Sequence[Check], marks: Mapping[str, str] = MARKS) -> list[str]:
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


def _probe(label: str, argv: list[str], run: Probe, hint: str, where: str) -> Check:
    """Passes with the first line ``argv`` prints, else fails saying why there is none."""
    try:
        done = run(argv)
    except FileNotFoundError:
        return Check(label, FAIL, f"{argv[0]} not found on PATH", hint)
    except subprocess.TimeoutExpired:
        return Check(label, FAIL, f"no answer from {where} in {PROBE_TIMEOUT:g} s", hint)
    except OSError as error:
        return Check(label, FAIL, f"cannot run {argv[0]}: {error.strerror}", hint)
    if done.returncode != 0 or not done.stdout.strip():
        lines = done.stderr.strip().splitlines()
        reason = lines[-1].strip()[:200] if lines else "no error output"
        return Check(label, FAIL, f"{where} failed: {reason}", hint)
    return Check(label, OK, done.stdout.strip().splitlines()[0].strip())


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
    names = ["CONTAINER_HOST"] if engine == "podman" else ["DOCKER_HOST", "DOCKER_CONTEXT"]
    found = next((f"{name}={environ[name]}" for name in names if environ.get(name)), None)
    return found or ("the local podman store" if engine == "podman" else "its default socket")


def check_engine(
    engine: str, run: Probe = run_probe, environ: Mapping[str, str] = os.environ
) -> list[Check]:
    """``<engine> --version`` runs, then its daemon answers a version query."""
    hint = f"install {engine} or set ecr.engine (INVOKE_ECR_ENGINE)"
    installed = _probe("engine", [engine, "--version"], run, hint, f"`{engine} --version`")
    if installed.status != OK:
        return [installed, Check("engine daemon", SKIP, f"needs {engine} installed")]
    where = engine_endpoint(engine, environ)
    hint = f"start the {engine} daemon or point DOCKER_HOST at a running one"
    hint = "start podman's socket or fix CONTAINER_HOST" if engine == "podman" else hint
    argv = [engine, *_DAEMON_PROBES.get(engine, ("info",))]
    daemon = _probe("engine daemon", argv, run, hint, where)
    if daemon.status == OK:
        daemon = daemon._replace(detail=f"{engine} server {daemon.detail} at {where}")
    return [installed, daemon]


# -- AWS -----------------------------------------------------------------------


def region_source(
    config: Mapping[str, Any], flag: Any, profile: str | None, environ: Mapping[str, str]
) -> str:
    """Where the region came from, in the order settings.resolve looks."""
    if flag:
        return "--region"
    if config.get("region"):
        invoke_env = environ.get("INVOKE_ECR_REGION") == config["region"]
        return "INVOKE_ECR_REGION" if invoke_env else "ecr.region in the invoke config"
    name = profile or environ.get("AWS_PROFILE") or "default"
    in_profile = f"profile {name} in {awsconfig.config_path(environ)}"
    return next((n for n in ("AWS_REGION", "AWS_DEFAULT_REGION") if environ.get(n)), in_profile)


def check_region(s: settings.Settings, source: str) -> Check:
    """A region is set; say which and where it came from."""
    if not s.regions:
        hint = "pass --region, set ecr.region (INVOKE_ECR_REGION) or AWS_REGION"
        return Check("region", FAIL, "no AWS region", hint)
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
    except ConfigError as error:  # it already says what to do
        return Check(label, FAIL, str(error)), None
    except EcrTasksError as error:  # an API refusal may need a second look
        return Check(label, FAIL, str(error), "`aws sts get-caller-identity` asks the same"), None
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
    other = f"{named} answered GET /v2/ with HTTP {code}: not a registry API"
    return Check(label, FAIL, other, hint)


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
        fresh = f"fresh until {_when(token.renew_at)}, expires {_when(token.expires_at)}"
        return Check(label, OK, fresh)
    if now < token.expires_at:
        return Check(label, OK, f"stale since {_when(token.renew_at)}: the next login asks AWS")
    return Check(label, OK, f"expired at {_when(token.expires_at)}: the next login asks AWS")


# -- the engine's stored logins ----------------------------------------------

PLAIN_HINT = (
    "anyone who can read that file can use the token until it expires; "
    "set credsStore or credHelpers to keep it in a credential helper"
)
MISSING_HINT = (
    "install them or remove those credHelpers/credsStore entries: the engine fails every pull "
    "from those registries (executable file not found)"
)


def password_of(entry: object) -> str:
    """The password in an ``auths`` entry, whose ``auth`` is base64 of user:password."""
    try:
        auth = entry.get("auth") if isinstance(entry, dict) else None
        return base64.b64decode(str(auth or ""), validate=True).decode().partition(":")[2]
    except ValueError:  # not base64, or not UTF-8
        return ""


def password_expiry(password: str) -> float | None:
    """When an ECR password expires, or None. Best-effort: undocumented, but ECR's passwords
    are commonly base64 of a JSON document with an ``expiration`` in seconds since the epoch."""
    try:
        found = json.loads(base64.b64decode(password, validate=True)).get("expiration")
    except (ValueError, AttributeError):
        return None
    return float(found) if type(found) in (int, float) else None


def _region(host: str) -> str | None:
    try:
        return naming.parse_registry_host(host).region
    except BadValue:
        return None


def check_logins(
    engine: str,
    host: str | None = None,
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    now: float | None = None,
) -> list[Check]:
    """The engine's logins: ``credential store`` (``host``'s, when known),
    ``engine logins`` (every registry's helper or plain password; a helper
    program that is missing fails every pull from its hosts), then one
    ``stored login`` line per problem with an ECR host's (or ``host``'s)
    login. Never a password or any part of one."""
    path, this = authfile.path(engine, environ), (host or "").lower()
    labels = ["credential store", "engine logins"][0 if host else 1 :]
    try:
        data = authfile.read(path)
    except ConfigError as error:
        return [Check(label, FAIL, str(error), f"fix or remove {path}") for label in labels]
    if not path.exists():
        nothing = f"no {path} yet: a login writes it, in plain base64 unless credsStore is set"
        return [Check(label, OK, nothing) for label in labels]
    auths, helpers = authfile.section(data, "auths"), authfile.section(data, "credHelpers")
    stored = sorted(name for name, entry in auths.items() if authfile.has_secret(entry))
    plain = [name for name in stored if not authfile.helper_for(data, name)]

    served: dict[str, list[str]] = {}  # each helper program, and whom it answers for
    for name, helper in sorted(helpers.items()):
        if isinstance(helper, str) and helper:
            served.setdefault(helper, []).append(name)
    parts = [f"{name} helper for {', '.join(hosts)}" for name, hosts in served.items()]
    if isinstance(store := data.get("credsStore"), str) and store:
        parts.append(f"{store} helper (credsStore) for every other registry")
        served.setdefault(store, []).append("every other registry")
    parts += [f"plain passwords for {', '.join(plain)}"] if plain else []
    absent = sorted(name for name in served if which(f"docker-credential-{name}") is None)
    checks = [_credential_store(this, data, path, absent)] if this else []
    if absent:
        missing = "; ".join(f"docker-credential-{n} (for {', '.join(served[n])})" for n in absent)
        detail = f"{path} names credential helpers that are not on PATH: {missing}"
        checks.append(Check("engine logins", FAIL, detail, MISSING_HINT))
    else:
        # Only for ECR's own names: the helper cannot answer for a proxy or the
        # stand-in's default mode (ecr.registry), whose logins stay plain.
        ecr_plain = [name for name in plain if _region(name)]
        hint = "inv login --helper stores no password for ECR registries" if ecr_plain else ""
        detail = f"{'; '.join(parts) or 'nothing stored'} ({path})"
        checks.append(Check("engine logins", OK, detail, hint))

    cache = TokenCache(cache_dir(environ))
    entries = (cache.peek(key) for key in cache.entry_keys())
    ours = {token.password: token for token in entries if token}  # to know a login as ours
    now = time.time() if now is None else now
    for name in (name for name in stored if _region(name) or name == this):
        if helper := authfile.helper_for(data, name):
            ignored = f"auths[{name}] holds a password the engine ignores: it asks {helper} instead"
            checks.append(Check("stored login", OK, ignored, f"delete auths[{name}] from {path}"))
            continue
        renew = f"`inv login{'' if name == this else f' --registry {name}'}` renews it"
        token = ours.get(password_of(auths[name]))
        expires = token.expires_at if token else password_expiry(password_of(auths[name]))
        region, theirs = _region(name), _region(token.host) if token else None
        if expires is not None and expires <= now:
            expired = f"stored login for {name} expired at {_when(expires)}"
            checks.append(Check("stored login", FAIL, expired, renew))
        elif expires is not None and expires < now + 3600:  # within the hour
            soon = f"stored login for {name} expires in {int(expires - now) // 60} min"
            checks.append(Check("stored login", OK, soon, renew))
        if region and theirs and theirs != region:
            elsewhere = f"stored login for {name} holds a token for {theirs}, not {region}"
            checks.append(Check("stored login", FAIL, elsewhere, renew))
    return checks


def _credential_store(host: str, data: Mapping[str, Any], path: Path, absent: list[str]) -> Check:
    """Where ``host``'s login lives: a credential helper (``absent`` are those not on PATH),
    or plain base64 in the file."""
    label, helper = "credential store", authfile.helper_for(data, host)
    if helper:
        source = "credHelpers" if host in authfile.section(data, "credHelpers") else "credsStore"
        program = f"docker-credential-{helper}"
        if helper in absent:
            detail = f"{source} in {path} names {helper} for {host}, but {program} is not on PATH"
            return Check(label, FAIL, detail, f"install {program} or remove {source} from {path}")
        return Check(label, OK, f"{program} ({source} in {path})")
    if authfile.has_secret(authfile.section(data, "auths").get(host)):
        mode = path.stat().st_mode & 0o777
        exposed = f" (mode {mode:o}: other users can read it)" if mode & 0o044 else ""
        return Check(label, OK, f"plain base64 in {path}{exposed}", PLAIN_HINT)
    none = f"no login for {host} in {path} yet; plain base64 there unless credsStore is set"
    return Check(label, OK, none)


# -- all together --------------------------------------------------------------


def _summary(s: settings.Settings) -> str:
    named = {"repo": s.repo, "account": s.account, "registry override": s.registry}
    switches = {"FIPS": s.fips, "dual-stack": s.dualstack, "token cache off": not s.cache}
    parts = [f"engine {s.engine}", *(f"{what} {value}" for what, value in named.items() if value)]
    return ", ".join(parts + [name for name, on in switches.items() if on])


# The checks after the engine's, in order; all need valid settings.
_AWS_LABELS: tuple[str, ...] = ("region", "AWS credentials", "registry", "repository")
_AWS_LABELS += ("token cache", "credential store")


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
        checks += check_engine(engine, run, environ)
        checks += [Check(label, SKIP, "needs valid settings") for label in _AWS_LABELS]
        return [*checks, *check_logins(engine, None, environ)]

    checks = [Check("settings", OK, _summary(s)), *check_engine(s.engine, run, environ)]
    checks.append(check_region(s, region_source(config, region, s.profile, environ)))
    if not s.regions:
        checks += [Check(label, SKIP, "needs a region") for label in _AWS_LABELS[1:]]
        return [*checks, *check_logins(s.engine, None, environ)]

    tokens = TokenSource(s, environ)
    aws = aws if aws is not None else tokens.aws
    credentials, caller_account = check_credentials(aws, s.region, s.profile)
    checks.append(credentials)

    host = host_for(s, tokens, Target(s.region, s.account or caller_account))
    if host is None:
        no_account = "needs the account: pass --account or fix credentials"
        checks.append(Check("registry", SKIP, no_account))
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
    return [*checks, *check_logins(s.engine, host, environ)]


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
    config = dict(c.config.get("ecr") or {})
    checks = diagnose(config, repo=repo, region=region, profile=profile, account=account)
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    for line in format_checks(checks, marks_for(sys.stdout)):
        # Engine or AWS text may hold characters the terminal cannot show either.
        print(line.encode(encoding, "replace").decode(encoding))
    if exit_code(checks):
        raise Exit(code=1)
