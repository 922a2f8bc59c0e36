"""The task collection ``ns``: ``login``, ``logout``, ``uri``, ``tag``, ``push`` and ``pull``
here, ``doctor`` and the Docker Hub habits (``tags``, ``untag``, ``mirror``) from their modules.

Task bodies stay short: they resolve settings, call the functions that do
the work, and print one line per result. Every flag is checked before any
command runs; a user's mistake ends in one line and exit code 1. Each task
reads only its own flags: in ``inv login push --region eu-west-1`` the
region is push's, as invoke hands it, and push logs in by itself.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any, cast

from invoke import Collection, task
from invoke.exceptions import Exit

from ecr_tasks import engine, naming, registry_checks, settings
from ecr_tasks.errors import (
    BadValue,
    ConfigError,
    EcrTasksError,
    ImageNotFound,
    RepositoryNotFound,
    exits_cleanly,
)
from ecr_tasks.login import Logins, Outcome
from ecr_tasks.token_source import Target

# Long flags only: invoke would hand out single letters by argument order,
# so -r would mean --region in one task and --repo in the next.
_WHERE = {
    **settings.WHERE_HELP,
    "repo": "repository name, e.g. team/my-app (default: ecr.repo)",
}
_IMAGE_FLAGS = {
    **_WHERE,
    "tag": "tag to give the image in the registry; repeat for several tags",
    "image": "local image to publish (default: <repo>:<first tag>)",
}


def _need_tags(tags: str | list[str] | None) -> list[str]:
    if isinstance(tags, str):  # push(c, tag="v1") from Python: one tag, not its letters
        tags = [tags]
    if not tags:
        raise ConfigError("no tag: pass --tag TAG (repeat it for several tags)")
    return list(dict.fromkeys(naming.check_tag(t) for t in tags))


def _report(outcomes: list[Outcome], helper: bool) -> None:
    failures = [o for o in outcomes if o.error is not None]
    how = " (credential helper ecr-tasks, no password stored)" if helper else ""
    for outcome in outcomes:
        if outcome.error is None:
            print(f"Logged in to {outcome.host}{how}")
    if failures:
        if len(outcomes) == 1:
            raise cast(EcrTasksError, failures[0].error)  # failures hold an error
        for outcome in failures:
            print(f"ecr-tasks: {outcome.host}: {outcome.error}", file=sys.stderr)
        raise Exit(f"ecr-tasks: {len(failures)} of {len(outcomes)} logins failed", code=1)


def _host_target(s: settings.Settings, host: str) -> Target:
    """The registry a host names: ``ecr.registry`` itself, or a parsed ECR host."""
    if s.registry and host.lower() == s.registry.lower():
        return Target(s.region, s.account)
    found = naming.parse_registry_host(host)
    settings.check_region(found.region)  # a look-alike region in a host is refused too
    return Target(found.region, found.account, found.public, found.host)  # public: no account


def _image_parts(image: str) -> tuple[str, str, str | None, str | None]:
    """(registry host, repository, tag, digest) of a full image reference."""
    domain, path, tag, digest = naming.split_image(image)
    if domain is None:  # team/app:v1 names a repository on Docker Hub, not a registry
        raise BadValue(
            "image",
            image,
            "expected a full reference with its registry, such as "
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1",
        )
    return domain, naming.check_repo(path), tag, digest


@task(
    auto_shortflags=False,
    iterable=["region", "account", "registry"],
    help={
        "region": "region to log in to; repeat to log in to several",
        "account": "registry account id; repeat to log in to several (default: your own)",
        "profile": _WHERE["profile"],
        "registry": "ECR registry host to log in to, as in a full image reference; repeatable",
        "public": "also log in to ECR Public (public.ecr.aws), token from us-east-1",
        "no-cache": "ignore the token cache and ask AWS for a new token",
        "helper": "store no password: point the engine's credHelpers at "
        "docker-credential-ecr-tasks, which answers from the token cache (default: ecr.helper)",
    },
)
@exits_cleanly
def login(
    c: Any,
    region: str | list[str] | None = None,
    account: str | list[str] | None = None,
    profile: str | None = None,
    registry: list[str] | None = None,
    public: bool = False,
    no_cache: bool = False,
    helper: bool = False,
) -> None:
    """Log the container engine in to Amazon ECR; the password goes on stdin.

    One GetAuthorizationToken call per region (none while a cached token is
    fresh), then ``<engine> login --username AWS --password-stdin <registry>``
    for every account and region pair, one line per registry. ``--registry``
    names a registry by its host instead, as a full image reference holds it.
    push, pull and tag log in by themselves; ``login`` is for logging in
    ahead of time, or to several registries at once. ``--helper`` stores no
    password: the engine asks ``docker-credential-ecr-tasks`` each time.
    """
    s = settings.from_context(
        c,
        region=region,
        account=account,
        profile=profile,
        cache=False if no_cache else None,
        helper=True if helper else None,
    )
    targets = _login_targets(s, registry or [], public, bool(region or account), "login")
    _report(Logins(c, s).login(targets), s.helper)  # no outcomes under --dry


@task(
    auto_shortflags=False,
    iterable=["region", "account", "registry"],
    help={
        "region": "region to log out of; repeat for several",
        "account": "registry account id; repeat for several (default: your own)",
        "profile": _WHERE["profile"],
        "registry": "ECR registry host to log out of, as in a full image reference; repeatable",
        "public": "also log out of ECR Public (public.ecr.aws)",
    },
)
@exits_cleanly
def logout(
    c: Any,
    region: str | list[str] | None = None,
    account: str | list[str] | None = None,
    profile: str | None = None,
    registry: list[str] | None = None,
    public: bool = False,
) -> None:
    """Log the container engine out of Amazon ECR and drop the cached tokens.

    ``<engine> logout <registry>`` for each registry, as ``docker logout``
    does it, and the token cache forgets their tokens, so the next login
    asks AWS afresh. Takes the flags of ``login``.
    """
    s = settings.from_context(c, region=region, account=account, profile=profile)
    targets = _login_targets(s, registry or [], public, bool(region or account), "logout")
    logins = Logins(c, s)
    for target in targets:
        host = logins.logout(target)
        if not c.config.run.dry:
            print(f"Logged out of {host}")


def _login_targets(
    s: settings.Settings, hosts: list[str], public: bool, explicit: bool, task_name: str
) -> list[Target]:
    """The registries ``login`` and ``logout`` work with, checked before any is. Regions
    and accounts add to --registry hosts only when given as flags, not from the settings."""
    by_host = [_host_target(s, naming.check_registry(h)) for h in hosts]
    targets: list[Target] = []
    if not hosts or explicit:
        targets = [Target(r, a) for r in s.regions for a in (s.accounts or (None,))]
        if not public and not targets:
            raise ConfigError(
                f"no AWS region for {task_name}: pass --region after {task_name} (each flag"
                " belongs to the task it follows), set ecr.region (INVOKE_ECR_REGION) or AWS_REGION"
            )
        if s.registry and len(targets) > 1:
            raise ConfigError("ecr.registry names one registry: drop it to log in to several")
    targets += by_host
    if public:
        targets.append(Target(naming.PUBLIC_REGION, public=True))
    return list(dict.fromkeys(targets))


@task(
    auto_shortflags=False,
    help={
        **_WHERE,
        "tag": "tag to add to the reference",
        "digest": "print the tag's digest reference <registry>/<repo>@sha256:...",
    },
)
@exits_cleanly
def uri(
    c: Any,
    repo: str | None = None,
    tag: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    digest: bool = False,
) -> None:
    """Print the full registry reference of a repository and tag.

    The line is ``<registry>/<repo>[:<tag>]``. With no repository it prints
    the registry host alone. Without ``--digest``, when the account and
    region are known, it makes no network call and needs no credentials;
    ``--digest`` asks the registry.
    """
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    tag = naming.check_tag(tag) if tag is not None else None
    logins = Logins(c, s)
    if not digest:
        print(naming.image_ref(logins.registry(s.region), s.repo, tag))
        return
    name, tag, target = s.required_repo(), tag or "latest", Target(s.region, s.account)
    # The registry is asked over HTTP with the token: no engine, no engine login.
    host, _ = logins.token_and_host(target)
    found = registry_checks.registry_digest(logins.tokens, target, host, name, tag)
    if found is None:
        raise EcrTasksError(f"{naming.image_ref(host, name, tag)} not found in the registry")
    print(naming.image_ref(host, name, digest=found))


def _tag_all(
    c: Any, s: settings.Settings, host: str, tags: list[str], image: str | None
) -> dict[str, str]:
    repo = s.required_repo()
    source = image if image is not None else f"{repo}:{tags[0]}"  # callers checked image
    tag_of = {naming.image_ref(host, repo, t): t for t in tags}
    for ref in tag_of:
        engine.run(c, [s.engine, "tag", source, ref], "tag", source)
    return tag_of


def _new_names(
    c: Any, s: settings.Settings, host: str, tags: list[str], image: str | None
) -> list[str]:
    """The registry names a push would tag that the engine does not hold yet, to remove if
    the push fails. None under ``--dry``, nor when the source may be a bare image id, which
    our name alone might keep (removing it would remove the image)."""
    if c.config.run.dry or (image is not None and re.fullmatch(r"sha256:.*|[0-9a-f]{4,64}", image)):
        return []
    refs = [naming.image_ref(host, s.required_repo(), t) for t in tags]
    return [ref for ref in refs if not engine.image_exists(c, s.engine, ref)]


@task(iterable=["tag"], help=_IMAGE_FLAGS, auto_shortflags=False)
@exits_cleanly
def tag(
    c: Any,
    tag: str | list[str] | None = None,
    image: str | None = None,
    repo: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> None:
    """Tag a local image with its full ECR name.

    The new name is ``<registry>/<repo>:<tag>``, once per ``--tag``.
    The source defaults to ``<repo>:<first tag>``, what
    ``docker build -t <repo>:<tag> .`` produced.
    """
    tags = _need_tags(tag)
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    if image is not None:
        naming.check_image(image)
    s.required_repo()
    host = Logins(c, s).ensure(Target(s.region, s.account))
    refs = _tag_all(c, s, host, tags, image)
    if not c.config.run.dry:
        for ref in refs:
            print(f"Tagged {ref}")


@task(
    auto_shortflags=False,
    iterable=["tag"],
    help={
        **_IMAGE_FLAGS,
        "create": "create the repository first if it does not exist",
        "immutable": "with --create: make tags immutable",
        "scan-on-push": "with --create: scan images for vulnerabilities on push",
        "kms-key": "with --create: encrypt with this KMS key (default: AES256)",
        "no-verify": "skip asking the registry whether each tag resolves to the pushed digest",
        "force": "push even over a tag that holds a multi-platform image index",
    },
)
@exits_cleanly
def push(
    c: Any,
    tag: str | list[str] | None = None,
    image: str | None = None,
    repo: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    create: bool = False,
    immutable: bool = False,
    scan_on_push: bool = False,
    kms_key: str | None = None,
    no_verify: bool = False,
    force: bool = False,
) -> None:
    """Tag and push a local image to ECR, then print the pushed digest.

    ``--tag`` repeats: ``inv push --tag v1 --tag latest`` pushes the local
    ``<repo>:v1`` under both tags. Each tag is then checked against the
    registry, which must resolve it to the digest the engine reported.
    It logs in by itself when the engine does not hold the token yet.

    Nothing is lost silently: a tag that holds a multi-platform image index
    is not pushed over without ``--force``, and ``--create`` flags that an
    existing repository does not match stop the push before it starts. A
    push that fails removes the registry names it gave local images; names
    the engine held before are left alone.
    """
    tags = _need_tags(tag)
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    if image is not None:
        naming.check_image(image)
    if kms_key is not None and (
        not isinstance(kms_key, str) or not re.fullmatch(r"[A-Za-z0-9:/_+=,.@-]{1,2048}", kms_key)
    ):
        raise BadValue("KMS key", kms_key, "expected a key id, alias/NAME or key ARN")
    if (immutable or scan_on_push or kms_key) and not create:
        raise ConfigError("--immutable, --scan-on-push and --kms-key only apply with --create")
    logins = Logins(c, s)
    tokens, repo_name, target = logins.tokens, s.required_repo(), Target(s.region, s.account)
    logins.refuse_helper_for(target)  # before the checks below fetch a token
    # Every check before the first change: the repository's settings, then
    # what each tag holds now; only then the engine login, tag and push.
    if not c.config.run.dry:
        locked = False
        if create:
            found = registry_checks.ensure_repository(
                tokens, s, repo_name, immutable, scan_on_push, kms_key
            )
            locked = found.get("imageTagMutability", "").startswith("IMMUTABLE")
        host, _ = logins.token_and_host(target)
        registry_checks.refuse_overwrites(
            tokens, target, host, repo_name, tags, locked=locked, force=force
        )
    host = logins.ensure(target)
    made = _new_names(c, s, host, tags, image)
    pushed: dict[str, str | None] = {}
    try:
        tag_of = _tag_all(c, s, host, tags, image)
        for ref, the_tag in tag_of.items():
            push_it = functools.partial(engine.run, c, [s.engine, "push", ref], "push", ref)
            out = logins.run(target, host, push_it)
            if out is not None:
                pushed[ref] = engine.pushed_digests(out).get(the_tag)
    except EcrTasksError:
        # A failed push leaves no registry-named tags of its own making behind.
        engine.untag(c, s.engine, made)
        raise
    if not no_verify:
        pushed = registry_checks.verify_digests(tokens, target, host, repo_name, tag_of, pushed)
    for ref, digest in pushed.items():
        # Only an engine that prints no digest (podman) under --no-verify lacks one.
        print(f"Pushed {ref} {digest}" if digest else f"Pushed {ref}")


@task(
    auto_shortflags=False,
    help={
        **_WHERE,
        "tag": "tag to pull (default: latest)",
        "digest": "pull this exact digest (sha256:...) instead of a tag",
        "image": "full reference to pull, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1",
    },
)
@exits_cleanly
def pull(
    c: Any,
    tag: str | None = None,
    digest: str | None = None,
    repo: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    image: str | None = None,
) -> None:
    """Pull an image from ECR by tag or by digest, logging in first if needed.

    ``--image`` takes a full reference, as Terraform outputs and deploy
    files hold it: the account, region, repository and tag or digest all
    come from it.
    """
    if tag is not None and digest is not None:
        raise ConfigError("pass --tag or --digest, not both")
    if image is not None and any(v is not None for v in (tag, digest, repo, account, region)):
        raise ConfigError(
            "--image names the registry, repository and tag: drop --repo, --tag, --digest, "
            "--account and --region"
        )
    if image is not None:
        domain, repo, tag, digest = _image_parts(image)
    tag = naming.check_tag(tag) if tag is not None else None
    digest = naming.check_digest(digest) if digest is not None else None
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    target = Target(s.region, s.account) if image is None else _host_target(s, domain)
    logins = Logins(c, s)
    repo_name = s.required_repo()
    host = logins.ensure(target)
    the_tag = None if digest else tag or "latest"
    ref = naming.image_ref(host, repo_name, the_tag, digest)
    try:
        out = logins.run(target, host, lambda: engine.run(c, [s.engine, "pull", ref], "pull", ref))
    except RepositoryNotFound:
        raise RepositoryNotFound(
            f"repository {repo_name} does not exist in {host}: check the name, account and region"
        ) from None
    except ImageNotFound as missing:
        if the_tag is None or target.public:
            raise
        raise _missing_tag(logins, target, repo_name, ref, the_tag) or missing from None
    if out is not None:
        found = re.search(r"Digest: (sha256:[a-f0-9]{64})", out)
        pulled = found.group(1) if found else digest
        if pulled is None and the_tag is not None:
            # podman prints the image id, not the digest: the registry knows it.
            pulled = registry_checks.registry_digest(
                logins.tokens, target, host, repo_name, the_tag
            )
        print(f"Pulled {ref}" + (f" {pulled}" if pulled else ""))


def _missing_tag(
    logins: Logins, target: Target, repo: str, ref: str, tag: str
) -> ImageNotFound | None:
    """The missing tag's line, naming the repository's five tags nearest to it;
    None if they cannot be listed (the engine's line is then enough)."""
    import difflib

    try:
        account = target.account or logins.tokens.local_account(target.region)
        tags = logins.tokens.aws.image_tags(target.region, account, repo, 100)
    except EcrTasksError:
        return None
    if not tags:
        return ImageNotFound(f"{ref} not found in the registry: {repo} holds no tagged image")
    nearest = difflib.get_close_matches(tag, tags, n=5, cutoff=0)
    more = ", ..." if len(tags) > len(nearest) else ""
    return ImageNotFound(f"{ref} not found in the registry; tags there: {', '.join(nearest)}{more}")


# Imported here, beside the collection it joins: doctor.py owns its task.
from ecr_tasks.doctor import doctor  # noqa: E402
from ecr_tasks.images import mirror, tags, untag  # noqa: E402

ns = Collection("ecr", login, logout, uri, tag, push, pull, doctor, tags, untag, mirror)
ns.configure({"ecr": dict(settings.DEFAULTS)})
