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
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class TagRow:
    """One tag as the Tags tab shows it."""

    tag: str
    digest: str
    size: int | None
    pushed_at: datetime | None
    scan: str = ""
    index: bool = False
    platforms: tuple[tuple[str, str], ...] = ()


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


def tag_rows(images: Sequence[Mapping[str, Any]]) -> list[TagRow]:
    """One row per tag of DescribeImages' ``imageDetails``, newest first."""
    rows = [
        TagRow(
            tag=tag,
            digest=image["imageDigest"],
            size=image.get("imageSizeInBytes"),
            pushed_at=image.get("imagePushedAt"),
            scan=scan_status(image),
            index=_is_index(image),
        )
        for image in images
        for tag in image.get("imageTags") or []
    ]
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: r.tag)
    rows.sort(key=lambda r: r.pushed_at or oldest, reverse=True)
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


def format_tags(rows: Sequence[TagRow], now: datetime) -> list[str]:
    """The Tags tab as text; PUSHED shows the local time and how long ago."""
    cells = []
    for row in rows:
        pushed = ""
        if row.pushed_at is not None:
            local = row.pushed_at.astimezone().strftime("%Y-%m-%d %H:%M")
            pushed = f"{local} ({relative_time(row.pushed_at, now)})"
        platforms = ", ".join(p for p, _ in row.platforms)
        cells.append([row.tag, short_digest(row.digest), human_size(row.size), pushed,
                      platforms, row.scan])  # fmt: skip
    return table(("TAG", "DIGEST", "SIZE", "PUSHED", "PLATFORMS", "SCAN"), cells)


def tags_json(rows: Sequence[TagRow]) -> list[dict[str, Any]]:
    """The rows for scripts: full digest, ISO 8601 push time, size in bytes."""
    found = []
    for row in rows:
        pushed = row.pushed_at.astimezone(timezone.utc).isoformat() if row.pushed_at else None
        item: dict[str, Any] = {
            "tag": row.tag,
            "digest": row.digest,
            "pushed_at": pushed,
            "size": row.size,
        }
        if row.scan:
            item["scan"] = row.scan
        if row.index:
            item["platforms"] = [{"platform": p, "digest": d} for p, d in row.platforms]
        found.append(item)
    return found


def format_repositories(
    repositories: Sequence[Mapping[str, Any]], tag_counts: Mapping[str, int]
) -> list[str]:
    """Repositories by name: URI, number of tags, tag mutability."""
    cells = [
        [r["repositoryName"], r.get("repositoryUri", ""),
         str(tag_counts.get(r["repositoryName"], 0)), r.get("imageTagMutability", "")]
        for r in sorted(repositories, key=lambda r: r["repositoryName"])
    ]  # fmt: skip
    return table(("REPOSITORY", "URI", "TAGS", "MUTABILITY"), cells)


# -- the tasks: tags and untag ------------------------------------------------------


def _with_platforms(logins: Logins, target: Target, repo: str, rows: list[TagRow]) -> list[TagRow]:
    """Each index row with its platforms, asked of the registry (one GET per index)."""
    if not any(row.index for row in rows):
        return rows
    from ecr_tasks import registry_api  # urllib.request: only when an index is listed

    host, _ = logins.token_and_host(target)

    def entries(digest: str) -> tuple[tuple[str, str], ...]:
        ask = functools.partial(registry_api.index_entries, host, repo, digest)
        return tuple((p, d) for p, d in logins.tokens.retrying(target, ask) if isinstance(d, str))

    platforms = {d: entries(d) for d in dict.fromkeys(r.digest for r in rows if r.index)}
    return [replace(r, platforms=platforms[r.digest]) if r.index else r for r in rows]


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
        counts = {
            r["repositoryName"]: sum(
                1 for i in aws.list_images(s.region, s.account, r["repositoryName"])
                if i.get("imageTag")
            )
            for r in found
        }  # fmt: skip
        if json:
            _print_json([
                {"name": r["repositoryName"], "uri": r.get("repositoryUri"),
                 "tags": counts[r["repositoryName"]],
                 "tag_mutability": r.get("imageTagMutability")}
                for r in sorted(found, key=lambda r: r["repositoryName"])
            ])  # fmt: skip
        elif found:
            print("\n".join(format_repositories(found, counts)))
        else:
            print(f"no repositories in {s.region}")
        return
    assert s.repo is not None  # listing_repos otherwise
    rows = tag_rows(aws.describe_images(s.region, s.account, s.repo))
    rows = _with_platforms(logins, Target(s.region, s.account), s.repo, rows)
    if json:
        _print_json(tags_json(rows))
    elif rows:
        print("\n".join(format_tags(rows, datetime.now(timezone.utc))))
    else:
        print(f"{s.repo} has no tags")


def _print_json(data: Any) -> None:
    import json as json_module  # the task's --json flag takes the module's name

    print(json_module.dumps(data, indent=2))


def plan_untag(
    images: Sequence[Mapping[str, Any]], tags: Sequence[str], digests: Sequence[str], force: bool
) -> list[str]:
    """What ``untag`` will do, one line each; :class:`EcrTasksError` for a missing tag or
    digest, or for a tag that holds a multi-platform index unless ``force``."""
    by_tag = {t: i for i in images for t in i.get("imageTags") or []}
    by_digest = {i["imageDigest"]: i for i in images}
    lines = []
    for tag in tags:
        image = by_tag.get(tag)
        if image is None:
            raise EcrTasksError(f"tag {tag!r} not found in the repository: nothing was removed")
        if _is_index(image) and not force:
            raise EcrTasksError(
                f"tag {tag!r} holds a multi-platform image index: pass --force to remove it;"
                " nothing was removed"
            )
        rest = [t for t in image.get("imageTags") or [] if t not in tags]
        left = f"; the image keeps {', '.join(rest)}" if rest else ""
        lines.append(f"remove tag {tag} ({short_digest(image['imageDigest'])}){left}")
    for digest in digests:
        image = by_digest.get(digest)
        if image is None:
            raise EcrTasksError(f"image {digest} not found in the repository: nothing was removed")
        held = ", ".join(image.get("imageTags") or []) or "no tag"
        lines.append(f"delete image {digest} ({held})")
    return lines


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
    plan_untag(images, tags, digests, force)  # every check before the first change
    ids = [{"imageTag": t} for t in tags] + [{"imageDigest": d} for d in digests]
    answer = aws.batch_delete_image(s.region, s.account, repo, ids)
    for line in untag_report(images, answer, repo):
        print(line)
    if answer.get("failures"):
        failure = answer["failures"][0]
        raise EcrTasksError(
            f"ECR did not remove {failure.get('imageId')}: {failure.get('failureReason')}"
        )


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


def _as_list(value: str | list[str] | None) -> list[str]:
    if isinstance(value, str):  # untag(c, tag="v1") from Python: one tag, not its letters
        return [value]
    return list(value or [])


# -- mirror: Docker's short names, and the copy ------------------------------------


@dataclass(frozen=True)
class Source:
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
    text = naming.check_image(value)
    match = naming.IMAGE_RE.fullmatch(text)
    assert match is not None  # check_image passed
    domain, path = match["domain"], match["path"]
    if domain is not None and not ("." in domain or ":" in domain or domain == "localhost"):
        domain, path = None, f"{domain}/{path}"
    if domain is None or domain in _HUB_KEYS:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    digest = match["digest"]
    if digest is not None:
        naming.check_digest(digest)
    tag = match["tag"] or (None if digest else "latest")
    return Source(domain, path, tag, digest)


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


@dataclass
class Copy:
    """One mirror's copy: the source read first, then the copy into ``dest``."""

    c: Any
    logins: Logins
    target: Target
    source: Source
    source_auth: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None  # the source's, as skopeo read it

    def read_with_skopeo(self) -> None:
        """``skopeo inspect --raw``: the source is there and readable; its digest."""
        s, source = self.logins.settings, self.source
        if self.logins.dry:
            _run(self.c, skopeo_inspect_argv(source, _DRY_AUTH, tls_flags(source, "")))
            return
        engine_auth = authfile.read(authfile.path(s.engine, self.logins.tokens.environ))
        self.source_auth = source_auth(engine_auth, source.registry)
        with private_auth_file(self.source_auth or {"auths": {}}) as auth:
            found = _run(self.c, skopeo_inspect_argv(source, auth, tls_flags(source, "")))
        if found.exited != 0:
            raise source_problem(found.stderr + found.stdout, source, s.engine)
        import hashlib  # only for a copy through the engine; OpenSSL's load costs inv 2 ms

        self.digest = "sha256:" + hashlib.sha256(found.stdout.encode()).hexdigest()

    def copy_with_skopeo(self, repo: str, tag: str) -> None:
        """``skopeo copy --all`` into ECR, retried once with a fresh token if refused."""
        logins, target = self.logins, self.target
        host = logins.registry(target.region) if logins.dry else logins.token_and_host(target)[0]
        dest, tls = naming.image_ref(host, repo, tag), tls_flags(self.source, host)
        if logins.dry:
            _run(self.c, skopeo_copy_argv(self.source, dest, _DRY_AUTH, tls))
            return

        def attempt(token: Token) -> None:
            with private_auth_file(skopeo_auth(self.source_auth, host, token)) as auth:
                done = _run(self.c, skopeo_copy_argv(self.source, dest, auth, tls))
            if done.exited != 0:
                raise _copy_problem(done.stderr, dest, self.source, logins.settings.engine)

        logins.tokens.retrying(target, attempt)

    def read_with_engine(self) -> None:
        """``<engine> pull``: the image for the engine's own platform."""
        engine_name = self.logins.settings.engine
        pulled = _run(self.c, [engine_name, "pull", self.source.ref])
        if not self.logins.dry and pulled.exited != 0:
            raise source_problem(pulled.stderr + pulled.stdout, self.source, engine_name)

    def copy_with_engine(self, repo: str, tag: str) -> None:
        """Tag and push through the engine, then say which platform that was."""
        c, engine_name, ref = self.c, self.logins.settings.engine, self.source.ref
        host = self.logins.ensure(self.target)
        dest = naming.image_ref(host, repo, tag)
        engine.run(c, [engine_name, "tag", ref, dest], "tag", dest)
        push = functools.partial(engine.run, c, [engine_name, "push", dest], "push", dest)
        if self.logins.run(self.target, host, push) is None:
            return  # --dry
        platform = engine.run(
            c, [engine_name, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", ref],
            "inspect", ref, hide="both",
        )  # fmt: skip
        which = (platform or "").strip() or "the engine's own"
        print(
            f"skopeo not found: copied one platform ({which}) only;"
            " install skopeo to copy every platform with its digest"
        )


def _copy_problem(stderr: str, dest: str, source: Source, engine_name: str) -> EcrTasksError:
    """The source's fault in the source's words; ECR's as the engine's would read
    (an :class:`AuthRejected` there is retried once with a fresh token)."""
    if "initializing source" in stderr or "reading manifest" in stderr:
        return source_problem(stderr, source, engine_name)
    return engine.classify("skopeo", "copy", stderr, dest)


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
    copy, skopeo = Copy(c, logins, target, src), shutil.which("skopeo") is not None
    # The source first: a missing tag or a private image creates no repository.
    read, write = (
        (copy.read_with_skopeo, copy.copy_with_skopeo)
        if skopeo
        else (copy.read_with_engine, copy.copy_with_engine)
    )
    read()
    if not logins.dry:
        _need_repository(logins, s, repo, create)
    write(repo, the_tag)
    if logins.dry:
        return
    host, _ = logins.token_and_host(target)
    dest = naming.image_ref(host, repo, the_tag)
    served = registry_checks.registry_digest(logins.tokens, target, host, repo, the_tag)
    if served is None:
        raise EcrTasksError(f"digest check failed: the registry does not serve {dest}")
    if copy.digest is not None and served != copy.digest:
        raise EcrTasksError(
            f"digest check failed: {dest} is {served}, not the source's {copy.digest}"
        )
    print(f"Mirrored {src.ref} to {dest} {served}")


def _need_repository(logins: Logins, s: settings.Settings, repo: str, create: bool) -> None:
    if create:
        registry_checks.ensure_repository(logins.tokens, s, repo, False, False, None)
        return
    try:
        logins.tokens.aws.describe_repository(s.region, s.account, repo)
    except RepositoryNotFound:
        raise RepositoryNotFound(
            f"ECR repository {repo!r} not found in {s.region}: create it, or pass --create"
        ) from None
