"""The images of a repository, as Docker Hub users look for them: ``tags``
(the Tags tab), ``untag`` (delete tag) and ``mirror`` (bring an image over
from Docker Hub or any registry).

The pure parts (table rows, sizes, relative times, Docker's short names, the
copy plan) are plain functions a test calls directly; the tasks resolve the
settings, ask AWS through :class:`ecr_tasks.aws.Aws` and run commands through
invoke. skopeo reads every credential from a private auth file written here
through :mod:`ecr_tasks.authfile`, never from its argv.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from invoke import task

from ecr_tasks import authfile, engine, naming, registry_checks, settings
from ecr_tasks.cache import Token
from ecr_tasks.errors import (
    ConfigError,
    EcrTasksError,
    EngineError,
    RepositoryNotFound,
    exits_cleanly,
)
from ecr_tasks.login import Logins
from ecr_tasks.token_source import Target

DOCKER_HUB = "docker.io"
#: The names Docker's own config.json may file a Docker Hub login under.
_HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io")
#: What a dry run shows for skopeo's auth file, never written.
_DRY_AUTH = Path("<private auth file>")


# -- the Tags tab: rows, sizes and times -------------------------------------------


def short_digest(digest: str) -> str:
    """``sha256:`` and the first 12 hex digits, as Docker Hub shows a digest."""
    algorithm, _, hex_digits = digest.partition(":")
    return f"{algorithm}:{hex_digits[:12]}" if hex_digits else digest


def human_size(size: int | None) -> str:
    """``512 B``, ``12.3 MB``: powers of 1000, as ``docker images`` counts."""
    if size is None:
        return "-"
    amount = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000:
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"


_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
          ("day", 86400), ("hour", 3600), ("minute", 60))  # fmt: skip


def relative_time(then: datetime, now: datetime) -> str:
    """``3 days ago``, ``1 hour ago``, ``just now``: the largest whole unit."""
    seconds = (now - then).total_seconds()
    for name, length in _UNITS:
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {name}{'s' if count > 1 else ''} ago"
    return "just now"


def _is_index(image: Mapping[str, Any]) -> bool:
    from ecr_tasks.registry_api import INDEX_TYPES  # urllib.request: not on ``inv --list``

    return image.get("imageManifestMediaType") in INDEX_TYPES


def scan_status(image: Mapping[str, Any]) -> str:
    """``COMPLETE (2 HIGH, 1 LOW)``, ``IN_PROGRESS``; empty where ECR has none."""
    status = (image.get("imageScanStatus") or {}).get("status") or ""
    counts = (image.get("imageScanFindingsSummary") or {}).get("findingSeverityCounts") or {}
    found = ", ".join(f"{n} {severity}" for severity, n in counts.items() if n)
    return f"{status} ({found})" if status and found else status


def tag_rows(images: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per tag of DescribeImages' ``imageDetails``, newest first: the object
    ``--json`` prints, the push time still a datetime. A scan status is there where
    ECR has one; an index's ``platforms`` are filled in by :func:`_with_platforms`."""
    rows = []
    for image in images:
        row: dict[str, Any] = {
            "digest": image["imageDigest"],
            "pushed_at": image.get("imagePushedAt"),
            "size": image.get("imageSizeInBytes"),
        }
        if scan := scan_status(image):
            row["scan"] = scan
        if _is_index(image):
            row["platforms"] = []
        rows += [{"tag": tag, **row} for tag in image.get("imageTags") or []]
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: r["tag"])
    rows.sort(key=lambda r: r["pushed_at"] or oldest, reverse=True)
    return rows


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; a column empty in every row is left out."""
    keep = [i for i in range(len(header)) if any(row[i] for row in rows)]
    keep = keep or list(range(len(header)))
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in keep]
    lines = []
    for row in [list(header), *rows]:
        cells = [row[i].ljust(width) for i, width in zip(keep, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_tags(rows: Sequence[Mapping[str, Any]], now: datetime) -> list[str]:
    """The Tags tab as text; PUSHED shows the local time and how long ago."""
    cells = []
    for row in rows:
        pushed, then = "", row["pushed_at"]
        if then is not None:
            pushed = f"{then.astimezone().strftime('%Y-%m-%d %H:%M')} ({relative_time(then, now)})"
        platforms = ", ".join(p["platform"] for p in row.get("platforms", ()))
        size = human_size(row["size"])
        cells.append(
            [row["tag"], short_digest(row["digest"]), size, pushed, platforms, row.get("scan", "")]
        )
    return table(("TAG", "DIGEST", "SIZE", "PUSHED", "PLATFORMS", "SCAN"), cells)


def format_repositories(repositories: Sequence[Mapping[str, Any]]) -> list[str]:
    """Repositories as ``--all-repos --json`` lists them: URI, tag count, tag mutability."""
    cells = [
        [r["name"], r["uri"] or "", str(r["tags"]), r["tag_mutability"] or ""] for r in repositories
    ]
    return table(("REPOSITORY", "URI", "TAGS", "MUTABILITY"), cells)


# -- the tasks: tags and untag ------------------------------------------------------


def _with_platforms(logins: Logins, target: Target, repo: str, rows: list[dict[str, Any]]) -> None:
    """Fill in each index row's platforms, asked of the registry (one GET per index)."""
    indexes = dict.fromkeys(r["digest"] for r in rows if "platforms" in r)
    if not indexes:
        return
    from ecr_tasks import registry_api  # urllib.request: only when an index is listed

    host, _ = logins.token_and_host(target)
    for digest in indexes:
        ask = functools.partial(registry_api.index_entries, host, repo, digest)
        entries = logins.tokens.retrying(target, ask)
        indexes[digest] = [{"platform": p, "digest": d} for p, d in entries if isinstance(d, str)]
    for row in rows:
        if "platforms" in row:
            row["platforms"] = indexes[row["digest"]]


@task(
    auto_shortflags=False,
    help={
        **settings.WHERE_HELP,
        "repo": "repository whose tags to list (default: ecr.repo)",
        "json": "print a JSON list for scripts, one object per tag (or per repository)",
        "all-repos": "list the registry's repositories instead: name, URI, tag count, mutability",
    },
)
@exits_cleanly
def tags(
    c: Any,
    repo: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    json: bool = False,
    all_repos: bool = False,
) -> None:
    """List a repository's tags, newest first, as Docker Hub's Tags tab does.

    Each tag shows its short digest, its size, when it was pushed (local time
    and how long ago), the platforms of a multi-platform index and the scan
    status where ECR has one. It reads every page of DescribeImages (1,000
    images a page). With ``--all-repos``, or when no repository is set, it
    lists the repositories instead. ``--json`` prints a list for scripts with
    the full digest, the push time in ISO 8601 and the size in bytes.
    """
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    logins, listing_repos = Logins(c, s), all_repos or s.repo is None
    if c.config.run.dry:
        what = "DescribeRepositories and ListImages" if listing_repos else "DescribeImages"
        print(f"# would ask ECR in {s.region}: {what}, 1000 a page, and print a table")
        return
    aws = logins.tokens.aws
    if listing_repos:
        found = aws.describe_repositories(s.region, s.account)
        listed = []
        for r in sorted(found, key=lambda r: r["repositoryName"]):
            ids = aws.list_images(s.region, s.account, r["repositoryName"])
            listed.append(
                {
                    "name": r["repositoryName"],
                    "uri": r.get("repositoryUri"),
                    "tags": sum(1 for i in ids if i.get("imageTag")),
                    "tag_mutability": r.get("imageTagMutability"),
                }
            )
        if json:
            _print_json(listed)
        elif listed:
            print("\n".join(format_repositories(listed)))
        else:
            print(f"no repositories in {s.region}")
        return
    assert s.repo is not None  # listing_repos otherwise
    rows = tag_rows(aws.describe_images(s.region, s.account, s.repo))
    _with_platforms(logins, Target(s.region, s.account), s.repo, rows)
    if json:
        _print_json(rows)
    elif rows:
        print("\n".join(format_tags(rows, datetime.now(timezone.utc))))
    else:
        print(f"{s.repo} has no tags")


def _print_json(data: Any) -> None:
    """``data`` for scripts, each time (a datetime) in ISO 8601, UTC."""
    import json as json_module  # the task's --json flag takes the module's name

    print(
        json_module.dumps(data, indent=2, default=lambda t: t.astimezone(timezone.utc).isoformat())
    )


def check_untag(
    images: Sequence[Mapping[str, Any]], tags: Sequence[str], digests: Sequence[str], force: bool
) -> None:
    """Every check ``untag`` makes before its first change: :class:`EcrTasksError` for a
    missing tag or digest, or for a tag that holds a multi-platform index unless ``force``."""
    by_tag = {t: i for i in images for t in i.get("imageTags") or []}
    for tag in tags:
        if tag not in by_tag:
            raise EcrTasksError(f"tag {tag!r} not found in the repository: nothing was removed")
        if _is_index(by_tag[tag]) and not force:
            raise EcrTasksError(
                f"tag {tag!r} holds a multi-platform image index: pass --force to remove it;"
                " nothing was removed"
            )
    known = {i["imageDigest"] for i in images}
    for digest in digests:
        if digest not in known:
            raise EcrTasksError(f"image {digest} not found in the repository: nothing was removed")


@task(
    auto_shortflags=False,
    iterable=["tag", "digest"],
    help={
        **settings.WHERE_HELP,
        "repo": "repository to remove tags from (default: ecr.repo)",
        "tag": "tag to remove; repeat for several",
        "digest": "delete the image with this digest (sha256:...) and all its tags; repeatable",
        "force": "also remove a tag that holds a multi-platform image index",
    },
)
@exits_cleanly
def untag(
    c: Any,
    tag: str | list[str] | None = None,
    digest: str | list[str] | None = None,
    repo: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    force: bool = False,
) -> None:
    """Remove tags from a repository, as Docker Hub's delete tag does.

    BatchDeleteImage by tag: when the image keeps another tag, only the
    tag goes; when it was the image's last tag, ECR deletes the image with
    it. An image is deleted by digest only when ``--digest`` names it. A tag
    that holds a multi-platform index is removed only with ``--force``, as
    push guards it. ``inv --dry untag`` shows the plan and changes nothing.
    """
    tags = list(dict.fromkeys(naming.check_tag(t) for t in _as_list(tag)))
    digests = list(dict.fromkeys(naming.check_digest(d) for d in _as_list(digest)))
    if not tags and not digests:
        raise ConfigError("nothing to remove: pass --tag TAG (repeat it), or --digest sha256:...")
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    repo = s.required_repo()
    if c.config.run.dry:
        for line in [f"remove tag {t}" for t in tags] + [f"delete image {d}" for d in digests]:
            print(f"# would {line} in {repo} (BatchDeleteImage)")
        return
    aws = Logins(c, s).tokens.aws
    images = aws.describe_images(s.region, s.account, repo)
    check_untag(images, tags, digests, force)
    ids = [{"imageTag": t} for t in tags] + [{"imageDigest": d} for d in digests]
    answer = aws.batch_delete_image(s.region, s.account, repo, ids)
    for line in untag_report(images, answer, repo):
        print(line)
    if answer.get("failures"):
        failure = answer["failures"][0]
        raise EcrTasksError(
            f"ECR did not remove {failure.get('imageId')}: {failure.get('failureReason')}"
        )


def _as_list(value: str | list[str] | None) -> list[str]:
    if isinstance(value, str):  # untag(c, tag="v1") from Python: one tag, not its letters
        return [value]
    return list(value or [])


def untag_report(
    before: Sequence[Mapping[str, Any]], answer: Mapping[str, Any], repo: str
) -> list[str]:
    """What BatchDeleteImage did, in words: a line per tag, and what became of its image."""
    by_digest = {i["imageDigest"]: i for i in before}
    removed_tags: dict[str, set[str]] = {}
    lines = []
    for item in answer.get("imageIds") or []:
        digest, tag = item.get("imageDigest", ""), item.get("imageTag")
        removed_tags.setdefault(digest, set())
        if tag:
            removed_tags[digest].add(tag)
            lines.append(f"Removed tag {tag} from {repo} ({short_digest(digest)})")
        else:
            lines.append(f"Deleted image {digest} from {repo}")
    for digest, gone in removed_tags.items():
        image = by_digest.get(digest) or {}
        if set(image.get("imageTags") or []) - gone:
            continue  # the image keeps another tag
        if _is_index(image):
            lines.append(
                f"{short_digest(digest)} had no other tag, so ECR deleted the index; its platform"
                " images stay untagged, and lifecycle rules decide what happens to them"
            )
        elif gone:
            lines.append(
                f"{short_digest(digest)} had no other tag, so ECR deleted the image; untagged"
                " images are for lifecycle rules to expire"
            )
    return lines


# -- mirror: Docker's short names, and the copy ------------------------------------


class Source(NamedTuple):
    """A source image, its name expanded as docker reads it."""

    registry: str
    repo: str
    tag: str | None
    digest: str | None

    @property
    def ref(self) -> str:
        return naming.image_ref(self.registry, self.repo, self.tag, self.digest)


def expand_source(value: object) -> Source:
    """Read an image name as ``docker pull`` does.

    ``nginx:1.27`` is ``docker.io/library/nginx:1.27``, ``me/app`` is
    ``docker.io/me/app:latest``; the first part names a registry only when it
    holds a dot or a port, or is ``localhost``.
    """
    domain, path, tag, digest = naming.split_image(value)
    if domain is None or domain in _HUB_KEYS:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if digest is not None:
        naming.check_digest(digest)
    return Source(domain, path, tag or (None if digest else "latest"), digest)


def source_auth(engine_auth: Mapping[str, Any], registry: str) -> dict[str, Any]:
    """What the engine's auth file holds for ``registry``, for skopeo's own file:
    an ``auths`` entry with its secret, or the credential helper that keeps it
    (``credHelpers``, or ``credsStore`` for a login the file lists without a
    secret, as docker writes it); {} when the engine has no login there."""
    keys = _HUB_KEYS if registry == DOCKER_HUB else (registry.lower(),)
    auths = authfile.section(engine_auth, "auths")
    for key in keys:
        if authfile.has_secret(auths.get(key)):
            return {"auths": {registry: auths[key]}}
    helpers = authfile.section(engine_auth, "credHelpers")
    for key in keys:
        helper = authfile.helper_for(engine_auth, key)
        if helper and (key in helpers or key in auths):
            return {"credHelpers": {registry: helper}}
    return {}


def skopeo_auth(source: Mapping[str, Any], host: str, token: Token) -> dict[str, Any]:
    """A private auth file's content: the source's entry and ECR's token for ``host``."""
    basic = base64.b64encode(f"{token.user}:{token.password}".encode()).decode()
    data: dict[str, Any] = {"auths": {**source.get("auths", {}), host: {"auth": basic}}}
    if source.get("credHelpers"):
        data["credHelpers"] = dict(source["credHelpers"])
    return data


@contextlib.contextmanager
def private_auth_file(data: Mapping[str, Any]) -> Iterator[Path]:
    """A 0600 auth file in a 0700 directory of its own, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="ecr-tasks-mirror-"))
    try:
        file = directory / "auth.json"
        authfile.write(file, data)
        yield file
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def tls_flags(source: Source, host: str) -> list[str]:
    """Plain HTTP for loopback registries, as docker itself allows them."""
    from ecr_tasks.registry_api import scheme

    plain = {"--src-tls-verify=false": source.registry, "--dest-tls-verify=false": host}
    return [flag for flag, name in plain.items() if scheme(name) == "http"]


def skopeo_inspect_argv(source: Source, auth: Path, tls: Sequence[str]) -> list[str]:
    """``skopeo inspect --raw``: the source's manifest as stored, to check it is there."""
    plain = ["--tls-verify=false"] if "--src-tls-verify=false" in tls else []
    return ["skopeo", "inspect", "--raw", "--authfile", str(auth), *plain,
            f"docker://{source.ref}"]  # fmt: skip


def skopeo_copy_argv(source: Source, dest: str, auth: Path, tls: Sequence[str]) -> list[str]:
    """``skopeo copy --all``: every platform, every digest as it is."""
    return ["skopeo", "copy", "--all", "--authfile", str(auth), *tls,
            f"docker://{source.ref}", f"docker://{dest}"]  # fmt: skip


def source_problem(output: str, source: Source, engine_name: str) -> EcrTasksError:
    """One line for a source that cannot be read: unknown, private, or missing the tag."""
    text = output.lower()
    host = source.registry
    if (
        "manifest unknown" in text
        or "not found: manifest" in text
        or ("manifest for" in text and "not found" in text)
    ):
        return EcrTasksError(
            f"source tag {source.tag or source.digest!r} not found in {host}/{source.repo}"
        )
    if any(w in text for w in ("unauthorized", "authentication required", "denied", "401")):
        return EcrTasksError(
            f"source {source.ref} is private or unknown, and {host} accepted no credentials:"
            f" log in with `{engine_name} login {host}` first, or check the name"
        )
    if any(w in text for w in ("name unknown", "not known to registry", "repository not found")):
        return EcrTasksError(f"source {source.ref} not found: check the registry and repository")
    if any(w in text for w in ("no such host", "connection refused", "dial tcp", "i/o timeout")):
        return EcrTasksError(
            f"source registry {host} is unreachable: check its name and the network"
        )
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return EcrTasksError(
        f"reading {source.ref} failed: {lines[-1][:300] if lines else 'no output'}"
    )


def _run(c: Any, argv: Sequence[str], hide: str = "both") -> Any:
    """Run a command through invoke (``--echo`` and ``--dry`` apply); its Result."""
    try:
        return c.run(engine.command_line(argv), warn=True, hide=hide, pty=False, in_stream=False)
    except FileNotFoundError:
        raise EngineError(f"{argv[0]} not found on PATH") from None


def _copy_with_skopeo(
    c: Any, logins: Logins, target: Target, src: Source, repo: str, tag: str, create: bool
) -> str | None:
    """``skopeo inspect --raw`` (the source is there and readable), then ``skopeo copy
    --all`` into ECR, retried once with a fresh token if refused; the source's digest."""
    engine_name = logins.settings.engine
    if logins.dry:
        host = logins.registry(target.region)
        dest = naming.image_ref(host, repo, tag)
        _run(c, skopeo_inspect_argv(src, _DRY_AUTH, tls_flags(src, "")))
        _run(c, skopeo_copy_argv(src, dest, _DRY_AUTH, tls_flags(src, host)))
        return None
    engine_auth = authfile.read(authfile.path(engine_name, logins.tokens.environ))
    from_source = source_auth(engine_auth, src.registry)
    with private_auth_file(from_source or {"auths": {}}) as auth:
        found = _run(c, skopeo_inspect_argv(src, auth, tls_flags(src, "")))
    if found.exited != 0:
        raise source_problem(found.stderr + found.stdout, src, engine_name)
    _need_repository(logins, repo, create)
    host, _ = logins.token_and_host(target)
    dest, tls = naming.image_ref(host, repo, tag), tls_flags(src, host)

    def attempt(token: Token) -> None:
        with private_auth_file(skopeo_auth(from_source, host, token)) as auth:
            done = _run(c, skopeo_copy_argv(src, dest, auth, tls))
        if done.exited == 0:
            return
        # The source's fault in the source's words; ECR's as the engine's would read
        # (an AuthRejected there is retried once with a fresh token).
        if "initializing source" in done.stderr or "reading manifest" in done.stderr:
            raise source_problem(done.stderr, src, engine_name)
        raise engine.classify("skopeo", "copy", done.stderr, dest)

    logins.tokens.retrying(target, attempt)
    import hashlib  # only for a copy through skopeo; OpenSSL's load costs inv 2 ms

    return "sha256:" + hashlib.sha256(found.stdout.encode()).hexdigest()


def _copy_with_engine(
    c: Any, logins: Logins, target: Target, src: Source, repo: str, tag: str, create: bool
) -> None:
    """``<engine> pull`` (the image for the engine's own platform), tag and push, and
    say which platform that was."""
    engine_name = logins.settings.engine
    pulled = _run(c, [engine_name, "pull", src.ref])
    if not logins.dry:
        if pulled.exited != 0:
            raise source_problem(pulled.stderr + pulled.stdout, src, engine_name)
        _need_repository(logins, repo, create)
    host = logins.ensure(target)
    dest = naming.image_ref(host, repo, tag)
    engine.run(c, [engine_name, "tag", src.ref, dest], "tag", dest)
    push = functools.partial(engine.run, c, [engine_name, "push", dest], "push", dest)
    if logins.run(target, host, push) is None:
        return  # --dry
    inspect = [engine_name, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", src.ref]
    platform = engine.run(c, inspect, "inspect", src.ref, hide="both")
    which = (platform or "").strip() or "the engine's own"
    print(
        f"skopeo not found: copied one platform ({which}) only;"
        " install skopeo to copy every platform with its digest"
    )


@task(
    auto_shortflags=False,
    help={
        **settings.WHERE_HELP,
        "source": "image to copy, as docker names it: nginx:1.27, me/app:v1, ghcr.io/org/app:v1",
        "repo": "ECR repository to copy into (default: ecr.repo)",
        "tag": "tag to give the copy (default: the source's tag)",
        "create": "create the ECR repository first if it does not exist",
    },
)
@exits_cleanly
def mirror(
    c: Any,
    source: str,
    tag: str | None = None,
    repo: str | None = None,
    account: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    create: bool = False,
) -> None:
    """Copy an image from Docker Hub or any registry into the ECR repository.

    ``SOURCE`` is read as docker reads it: ``nginx:1.27`` is
    ``docker.io/library/nginx:1.27``. With skopeo installed, ``skopeo copy
    --all`` copies registry to registry: a multi-platform index comes whole,
    and every platform keeps its digest, so signatures and pins keep
    working. Without skopeo the engine pulls, tags and pushes one platform,
    and says which. Credentials come from the engine's auth file and the
    token cache, through a private auth file; no password is put in a
    command line.
    """
    src = expand_source(source)
    the_tag = naming.check_tag(tag) if tag is not None else src.tag
    if the_tag is None:
        raise ConfigError("the source names a digest, not a tag: pass --tag for the copy")
    s = settings.from_context(c, repo=repo, region=region, account=account, profile=profile)
    repo = s.required_repo()
    logins, target = Logins(c, s), Target(s.region, s.account)
    copy = _copy_with_skopeo if shutil.which("skopeo") else _copy_with_engine
    digest = copy(c, logins, target, src, repo, the_tag, create)
    if logins.dry:
        return
    host, _ = logins.token_and_host(target)
    dest = naming.image_ref(host, repo, the_tag)
    served = registry_checks.registry_digest(logins.tokens, target, host, repo, the_tag)
    if served is None:
        raise EcrTasksError(f"digest check failed: the registry does not serve {dest}")
    if digest is not None and served != digest:
        raise EcrTasksError(f"digest check failed: {dest} is {served}, not the source's {digest}")
    print(f"Mirrored {src.ref} to {dest} {served}")


def _need_repository(logins: Logins, repo: str, create: bool) -> None:
    """The repository to copy into: created with ``create``, else it must exist. Asked
    after the source is read: a missing tag or a private image creates no repository."""
    s = logins.settings
    if create:
        registry_checks.ensure_repository(logins.tokens, s, repo, False, False, None)
        return
    try:
        logins.tokens.aws.describe_repository(s.region, s.account, repo)
    except RepositoryNotFound:
        raise RepositoryNotFound(
            f"ECR repository {repo!r} not found in {s.region}: create it, or pass --create"
        ) from None
