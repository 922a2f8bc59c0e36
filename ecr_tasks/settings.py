"""Settings: every ``ecr.*`` key, its default, and how a value is chosen.

Precedence, highest first: the task's flag, invoke's configuration
(invoke.yaml, ``INVOKE_ECR_*``), the AWS environment (``AWS_REGION``,
``AWS_DEFAULT_REGION``, ``AWS_PROFILE``), then the profile's own config file.
Every value is checked here, wherever it came from, before any command runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecr_tasks import awsconfig, naming
from ecr_tasks.errors import BadValue, ConfigError

#: The ``ecr`` configuration tree and its defaults. Declaring every key is
#: what lets invoke.yaml and INVOKE_ECR_* environment variables reach it.
DEFAULTS: dict[str, Any] = {
    "repo": None,
    "region": None,
    "profile": None,
    "account": None,
    "registry": None,
    "engine": "docker",
    # Switches default to None, not a bool: invoke casts INVOKE_ECR_* text
    # for a bool default by truthiness, so "false" would turn them on.
    "fips": None,
    "dualstack": None,
    "cache": None,
    "helper": None,
    "public_registry": naming.PUBLIC_REGISTRY,
}

#: The help of the flags every task takes, for tasks.py and images.py alike.
WHERE_HELP: dict[str, str] = {
    "account": "12-digit AWS account id of the registry (default: ecr.account, else asked of AWS)",
    "region": "AWS region of the registry (default: ecr.region, AWS_REGION, the profile's region)",
    "profile": "AWS profile for credentials (default: ecr.profile, AWS_PROFILE)",
}


@dataclass
class Settings:
    """Resolved, checked settings for one task call."""

    repo: str | None = None
    regions: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    profile: str | None = None
    registry: str | None = None
    engine: str = "docker"
    fips: bool = False
    dualstack: bool = False
    cache: bool = True
    helper: bool = False
    public_registry: str = naming.PUBLIC_REGISTRY

    @property
    def region(self) -> str:
        """The one region a single-registry task works in."""
        if not self.regions:
            raise ConfigError(
                "no AWS region: pass --region, set ecr.region (INVOKE_ECR_REGION) or AWS_REGION"
            )
        return self.regions[0]

    def required_repo(self) -> str:
        """The repository, for a task that cannot do without one."""
        if self.repo is None:
            raise ConfigError("no repository: pass --repo or set ecr.repo (INVOKE_ECR_REPO)")
        return self.repo

    @property
    def account(self) -> str | None:
        return self.accounts[0] if self.accounts else None


def _as_list(value: Any) -> list[Any]:
    if value in (None, "", []):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_SWITCH_DEFAULTS = {"fips": False, "dualstack": False, "cache": True, "helper": False}
#: The words a switch may be set to, since environment variables give text.
_SWITCH_WORDS = dict.fromkeys(("1", "true", "yes", "on"), True)
_SWITCH_WORDS.update(dict.fromkeys(("", "0", "false", "no", "off"), False))


def _accounts(value: Any) -> list[str]:
    """Checked account ids; ``111111111111,222222222222`` names several, as the
    registries input of the amazon-ecr-login action does."""
    found: list[str] = []
    for item in _as_list(value):
        if isinstance(item, str) and "," in item:
            parts = item.split(",")
            if not all(naming.ACCOUNT_RE.fullmatch(part) for part in parts):
                raise BadValue("account id", item, "expected 12-digit ids separated by commas")
            found += parts
        else:
            found.append(naming.check_account(item))
    return list(dict.fromkeys(found))


def _flag_bool(name: str, value: Any) -> bool:
    if value is None:
        return _SWITCH_DEFAULTS[name]
    if isinstance(value, bool):
        return value
    # INVOKE_ECR_* values for keys whose default is not a bool arrive as text.
    if isinstance(value, str) and value.lower() in _SWITCH_WORDS:
        return _SWITCH_WORDS[value.lower()]
    raise BadValue(f"ecr.{name} setting", value, "expected true or false")


def resolve(
    config: Mapping[str, Any],
    *,
    repo: str | None = None,
    region: str | list[str] | None = None,
    account: str | list[str] | None = None,
    profile: str | None = None,
    cache: bool | None = None,
    helper: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Combine flags (keyword arguments) with ``config`` (the ``ecr`` tree)."""
    environ = os.environ if environ is None else environ
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise BadValue("setting", f"ecr.{unknown[0]}", f"known keys are {', '.join(DEFAULTS)}")

    def pick(flag: Any, key: str) -> Any:
        return flag if flag not in (None, [], "") else config.get(key, DEFAULTS[key])

    profile_value = pick(profile, "profile")
    if profile_value is not None:
        profile_value = _check_profile(profile_value, environ)
    else:
        _check_profile_variable(environ)

    region_values = _as_list(pick(region, "region")) or _as_list(
        environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or awsconfig.profile_region(profile_value or environ.get("AWS_PROFILE"), environ)
    )

    registry = pick(None, "registry")
    dualstack = _flag_bool("dualstack", pick(None, "dualstack"))
    public_registry = pick(None, "public_registry")
    if dualstack and public_registry == naming.PUBLIC_REGISTRY:
        # AWS's dual-stack name for ECR Public, unless another host was set.
        public_registry = naming.PUBLIC_REGISTRY_DUALSTACK
    return Settings(
        repo=naming.check_repo(r) if (r := pick(repo, "repo")) is not None else None,
        regions=list(dict.fromkeys(check_region(r, environ) for r in region_values)),
        accounts=_accounts(pick(account, "account")),
        profile=profile_value,
        registry=naming.check_registry(registry) if registry else None,
        engine=naming.check_engine(pick(None, "engine")),
        fips=_flag_bool("fips", pick(None, "fips")),
        dualstack=dualstack,
        cache=_flag_bool("cache", pick(cache, "cache")),
        helper=_flag_bool("helper", pick(helper, "helper")),
        public_registry=naming.check_registry(public_registry),
    )


def check_region(value: Any, environ: Mapping[str, str] = os.environ) -> str:
    """``value`` if botocore lists it as a region, or if the escape hatch
    (``ECR_TASKS_ALLOW_UNKNOWN_REGION=1``) lets a newer region through."""
    text = environ.get(naming.ALLOW_UNKNOWN_REGION, "")
    if text.lower() not in _SWITCH_WORDS:
        raise ConfigError(f"invalid {naming.ALLOW_UNKNOWN_REGION} {text!r}: expected 1 or 0")
    return naming.check_known_region(value, allow_unknown=_SWITCH_WORDS[text.lower()])


def _check_profile(value: Any, environ: Mapping[str, str]) -> str:
    if (
        not isinstance(value, str)
        or not value
        or value.startswith("-")
        or any(ch.isspace() or not ch.isprintable() or ch in "[]" for ch in value)
    ):
        raise BadValue("profile", value, "expected a profile name from your AWS config")
    _require_profile(value, environ)
    return value


def _check_profile_variable(environ: Mapping[str, str]) -> None:
    """Check the profile an AWS variable names, as ``--profile`` is checked,
    before botocore reads it and fails with a sentence of its own."""
    # The variables botocore takes a profile name from, in its order.
    variable = next((v for v in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE") if environ.get(v)), None)
    # botocore needs no section for "default": it then has no settings at all.
    if variable and environ[variable] != "default":
        _require_profile(environ[variable], environ, f" in {variable}")


def _require_profile(name: str, environ: Mapping[str, str], source: str = "") -> None:
    if awsconfig.profile_settings(name, environ) is None:
        known = ", ".join(awsconfig.profile_names(environ)) or "none"
        raise ConfigError(
            f"unknown AWS profile {name!r}{source}: not in {awsconfig.config_path(environ)} "
            f"or {awsconfig.credentials_path(environ)}; profiles there: {known}"
        )


def from_context(c: Any, **flags: Any) -> Settings:
    """:func:`resolve` with a task's flags and the ``ecr`` tree of its context's config."""
    return resolve(dict(c.config.get("ecr") or {}), **flags)
