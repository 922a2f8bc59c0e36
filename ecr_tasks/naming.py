"""Names: the rules values must follow, and the registry hosts ECR uses.

Pure functions with no I/O beyond reading botocore's partition table once,
so every rule can be tested directly and nothing here needs AWS.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, NamedTuple

from ecr_tasks.errors import BadValue, NotEcrHost, UnknownRegion

# ECR Public's names and host_of live below, for the helper; offered here too.
from ecr_tasks.hostnames import PUBLIC_REGION as PUBLIC_REGION
from ecr_tasks.hostnames import PUBLIC_REGISTRY as PUBLIC_REGISTRY
from ecr_tasks.hostnames import PUBLIC_REGISTRY_DUALSTACK as PUBLIC_REGISTRY_DUALSTACK
from ecr_tasks.hostnames import host_of as host_of


class _Pattern:
    """A regular expression compiled on first use (``re`` keeps it then): a
    task uses a few of them, and compiling all costs every start 2 ms."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern, text)


# The ECR API's own pattern for repository names (2 to 256 characters).
_REPO_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPO_RE = _Pattern(rf"{_REPO_COMPONENT}(?:/{_REPO_COMPONENT})*")
# Docker's tag grammar.
TAG_RE = _Pattern(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
ACCOUNT_RE = _Pattern(r"[0-9]{12}")
DIGEST_RE = _Pattern(r"sha256:[a-f0-9]{64}")
# Shape of every AWS region name; the partition table decides if it is real.
REGION_RE = _Pattern(r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}")
# host[:port], as Docker accepts a registry domain (IPv6 literals left out).
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
HOST_RE = _Pattern(rf"(?:{_HOST_LABEL})(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?")
# Docker's reference grammar: [domain/]path[:tag][@digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_RE = _Pattern(
    rf"(?:(?P<domain>{HOST_RE.pattern})/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{TAG_RE.pattern}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
ENGINES = ("docker", "podman", "nerdctl", "finch")
#: Our credential helper's name in credHelpers, and the program engines run for it.
HELPER = "ecr-tasks"
HELPER_PROGRAM = f"docker-credential-{HELPER}"


def check_repo(value: object) -> str:
    """Return ``value`` if it is a valid ECR repository name."""
    text = _text("repository name", value)
    if not (2 <= len(text) <= 256 and REPO_RE.fullmatch(text)):
        raise BadValue(
            "repository name",
            value,
            "expected 2-256 lowercase letters, digits and . _ - separators, "
            "with / between path components (e.g. team/my-app)",
        )
    return text


def check_tag(value: object) -> str:
    """Return ``value`` if it is a tag Docker accepts."""
    text = _text("tag", value)
    if not TAG_RE.fullmatch(text):
        raise BadValue("tag", value, "expected 1-128 of A-Z a-z 0-9 _ . - not starting with . or -")
    return text


def check_account(value: object) -> str:
    """Return ``value`` as a string if it is a 12-digit AWS account id."""
    if isinstance(value, int) and not isinstance(value, bool):
        # An unquoted id in invoke.yaml arrives as a number, and YAML reads one
        # with a leading zero as octal (012345670123 -> 1402433619): padding
        # it back would name another account, so only 12-digit numbers pass.
        if not 10**11 <= value < 10**12:
            raise BadValue("account id", value, "expected 12 digits; quote it in YAML files")
        value = str(value)
    text = _text("account id", value)
    if not ACCOUNT_RE.fullmatch(text):
        raise BadValue("account id", value, "expected exactly 12 digits")
    return text


def check_digest(value: object) -> str:
    """Return ``value`` if it is a ``sha256:`` image digest."""
    text = _text("digest", value)
    if not DIGEST_RE.fullmatch(text):
        raise BadValue("digest", value, "expected sha256: followed by 64 lowercase hex digits")
    return text


def check_region(value: object) -> str:
    """Return ``value`` if it names a region of a known AWS partition."""
    text = _text("region", value)
    if not REGION_RE.fullmatch(text) or partition_of(text) is None:
        raise BadValue(
            "region", value, "expected an AWS region name such as us-east-1 or cn-north-1"
        )
    return text


#: Set to 1 to accept a region botocore's data does not list yet (a region
#: newer than the installed botocore), when its partition's pattern claims it.
ALLOW_UNKNOWN_REGION = "ECR_TASKS_ALLOW_UNKNOWN_REGION"


def check_known_region(value: object, allow_unknown: bool = False) -> str:
    """Return ``value`` if botocore's partition table lists it as a region.

    A partition's pattern alone accepts typos (``eu-wset-1``), so the name
    must be listed; the nearest listed name is suggested. ``allow_unknown``
    lets through any name :func:`check_region` accepts.
    """
    text = check_region(value)
    listed = known_regions()
    if allow_unknown or text in listed:
        return text
    import difflib  # only for a name that is not listed

    near = difflib.get_close_matches(text, listed, n=1)
    raise UnknownRegion(value, near[0] if near else None)


def known_regions() -> list[str]:
    """Every region botocore's partition table lists, pseudo-regions left out."""
    return sorted(
        region
        for partition in _partition_table()
        for region in partition.get("regions", {})
        if REGION_RE.fullmatch(region)
    )


def check_registry(value: object) -> str:
    """Return ``value`` if it is a registry ``host[:port]``."""
    text = _text("registry", value)
    if len(text) > 255 or not HOST_RE.fullmatch(text) or not _port_ok(text):
        raise BadValue("registry", value, "expected a host or host:port such as 127.0.0.1:5000")
    return text


def check_image(value: object) -> str:
    """Return ``value`` if it is a local image reference in Docker's grammar."""
    text = _text("image", value)
    match = IMAGE_RE.fullmatch(text)
    if not match or len(match.group("path")) > 255 or not _port_ok(match.group("domain") or ""):
        raise BadValue(
            "image",
            value,
            "expected an image reference like my-app:v1 or registry.example.com/team/app:v1",
        )
    return text


def split_image(value: object) -> tuple[str | None, str, str | None, str | None]:
    """(registry, repository path, tag, digest) of an image reference, read as
    docker reads it: the first component names a registry only when it looks
    like a host (a dot, a port, or localhost); in ``team/app`` it is a path."""
    match = IMAGE_RE.fullmatch(check_image(value))
    assert match is not None  # check_image passed
    domain, path = match["domain"], match["path"]
    if domain is not None and not ("." in domain or ":" in domain or domain == "localhost"):
        domain, path = None, f"{domain}/{path}"
    return domain, path, match["tag"], match["digest"]


def check_engine(value: object) -> str:
    """Return ``value`` if it is an engine whose login takes ``--password-stdin``."""
    text = _text("engine", value)
    if text not in ENGINES:
        raise BadValue("engine", value, f"expected one of {', '.join(ENGINES)}")
    return text


def _text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise BadValue(what, value, "expected a non-empty string")
    return value


def _port_ok(host: str) -> bool:
    _, _, port = host.partition(":")
    return not port or 0 < int(port) < 65536


class Partition(NamedTuple):
    """The facts of one AWS partition that registry names depend on."""

    name: str
    dns_suffix: str
    dualstack_suffix: str


@functools.cache
def _partition_table() -> list[dict[str, Any]]:
    # Read botocore's own data file without importing botocore (which costs
    # a tenth of a second and is not needed to name a registry).
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "partitions.json"
    partitions: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["partitions"]
    return partitions


def partition_of(region: str) -> Partition | None:
    """The partition ``region`` belongs to, or None when no partition claims it."""
    table = _partition_table()
    # botocore's own order: a listed region wins over a pattern match.
    found = next((p for p in table if region in p.get("regions", {})), None)
    if found is None:
        found = next((p for p in table if re.fullmatch(p["regionRegex"], region)), None)
    if found is None:
        return None
    outputs = found["outputs"]
    # ECR's dual-stack hosts live under "on.<domain>" where other services use
    # "api.<domain>": on.aws for the commercial and GovCloud partitions.
    dualstack = outputs.get("dualStackDnsSuffix", "")
    dualstack = "on." + dualstack.removeprefix("api.") if dualstack else ""
    return Partition(found["id"], outputs["dnsSuffix"], dualstack)


def registry_host(account: str, region: str, *, fips: bool = False, dualstack: bool = False) -> str:
    """The private registry host of ``account`` in ``region``.

    >>> registry_host("123456789012", "eu-west-1")
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    """
    check_account(account)
    check_region(region)
    partition = partition_of(region)
    assert partition is not None  # check_region guarantees it
    if dualstack:
        if not partition.dualstack_suffix:
            raise BadValue("region", region, "dual-stack endpoints are not offered there")
        service = "dkr-ecr-fips" if fips else "dkr-ecr"
        return f"{account}.{service}.{region}.{partition.dualstack_suffix}"
    service = "dkr.ecr-fips" if fips else "dkr.ecr"
    return f"{account}.{service}.{region}.{partition.dns_suffix}"


class RegistryHost(NamedTuple):
    """What an ECR registry host name says about the registry it names: a
    small frozen record (account, region, partition, fips, dualstack, public).

    ``account`` is None for ECR Public, whose host names no account.
    """

    account: str | None
    region: str
    partition: str
    fips: bool = False
    dualstack: bool = False
    public: bool = False

    @property
    def host(self) -> str:
        """The host name again, as :func:`registry_host` builds it."""
        if self.public:
            return PUBLIC_REGISTRY_DUALSTACK if self.dualstack else PUBLIC_REGISTRY
        assert self.account is not None  # every private host names one
        return registry_host(self.account, self.region, fips=self.fips, dualstack=self.dualstack)


# <account>.<service>.<region>.<domain>, the service label saying FIPS and
# dual-stack; the domain must then be exactly the region's partition's own.
_PRIVATE_HOST_RE = _Pattern(
    r"(?P<account>[0-9]{12})\.(?P<service>dkr\.ecr|dkr\.ecr-fips|dkr-ecr|dkr-ecr-fips)"
    r"\.(?P<region>[a-z0-9-]+)\.(?P<domain>[a-z0-9.-]+)"
)


def parse_registry_host(host: object) -> RegistryHost:
    """The account, region and endpoint kind an ECR registry host names.

    The inverse of :func:`registry_host` (and of ECR Public's two names):
    every host those build parses back to the same record. Anything else,
    look-alikes included (another domain after the partition's, a missing
    account, a wrong service label, a port), raises :class:`NotEcrHost`,
    a :class:`BadValue`.

    >>> parse_registry_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com").region
    'eu-west-1'
    """
    text = _text("registry", host)
    # DNS names ignore case; a trailing dot names the same host.
    name = text.lower().removesuffix(".")
    if name in (PUBLIC_REGISTRY, PUBLIC_REGISTRY_DUALSTACK):
        return RegistryHost(
            None, PUBLIC_REGION, "aws", dualstack=name == PUBLIC_REGISTRY_DUALSTACK, public=True
        )
    match = _PRIVATE_HOST_RE.fullmatch(name)
    if match is None or not REGION_RE.fullmatch(match["region"]):
        raise NotEcrHost(host)
    partition = partition_of(match["region"])
    dualstack = match["service"].startswith("dkr-ecr")
    domain = partition and (partition.dualstack_suffix if dualstack else partition.dns_suffix)
    if partition is None or not domain or match["domain"] != domain:
        raise NotEcrHost(host)
    return RegistryHost(
        match["account"],
        match["region"],
        partition.name,
        fips=match["service"].endswith("-fips"),
        dualstack=dualstack,
    )


def image_ref(
    registry: str, repo: str | None = None, tag: str | None = None, digest: str | None = None
) -> str:
    """``<registry>/<repo>[:<tag>][@<digest>]``, or the registry alone."""
    if repo is None:
        return registry
    ref = f"{registry}/{repo}"
    if tag:
        ref += f":{tag}"
    if digest:
        ref += f"@{digest}"
    return ref


def host_of_endpoint(proxy_endpoint: str) -> str:
    """The registry host in a GetAuthorizationToken ``proxyEndpoint`` URL."""
    from urllib.parse import urlsplit  # not needed to read a host, only a token's URL

    return urlsplit(proxy_endpoint).netloc or proxy_endpoint


def account_of_host(host: str) -> str | None:
    """The account id a private ECR host starts with, if it does."""
    first = host.split(".", 1)[0]
    return first if ACCOUNT_RE.fullmatch(first) else None
