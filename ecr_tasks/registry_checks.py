"""What the registry and the ECR API say around a push: the checks before it
(the repository's settings, what each tag holds now) and after it (the digest
each tag resolves to), each ending in one line when something is wrong.

One HEAD request per tag each way; a GET only for an image index.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ecr_tasks.errors import ConfigError, EcrTasksError, RepositoryNotFound

if TYPE_CHECKING:
    from ecr_tasks import settings
    from ecr_tasks.token_source import Target, TokenSource


def registry_digest(
    tokens: TokenSource, target: Target, host: str, repo: str, tag: str
) -> str | None:
    """The digest ``repo:tag`` resolves to in the registry now, or None."""
    from ecr_tasks import registry_api  # urllib.request: only when a registry is asked

    return tokens.retrying(target, partial(registry_api.manifest_digest, host, repo, tag))


def verify_digests(
    tokens: TokenSource,
    target: Target,
    host: str,
    repo: str,
    tag_of: dict[str, str],
    pushed: dict[str, str | None],
) -> dict[str, str | None]:
    """Each pushed ref's digest as the registry serves it now, which must be
    the digest the engine reported, if it reported one."""
    served_digests: dict[str, str | None] = {}
    for ref, reported in pushed.items():
        served = registry_digest(tokens, target, host, repo, tag_of[ref])
        if served is None:
            raise EcrTasksError(f"digest check failed: the registry does not serve {ref}")
        if reported is not None and served != reported:
            raise EcrTasksError(
                f"digest check failed: the registry resolves {ref} to {served}, "
                f"not the pushed {reported}"
            )
        served_digests[ref] = served
    return served_digests


def refuse_overwrites(
    tokens: TokenSource,
    target: Target,
    host: str,
    repo: str,
    tags: list[str],
    locked: bool,
    force: bool,
) -> None:
    """Stop before a push over a tag of an immutable repository (``locked``), or over a
    multi-platform index, which would keep one platform only (unless ``force``)."""
    from ecr_tasks import registry_api  # urllib.request: only when a registry is asked

    for the_tag in tags:
        served = tokens.retrying(target, partial(registry_api.manifest, host, repo, the_tag))
        if served is None:
            continue
        if locked:
            raise EcrTasksError(
                f"tag {the_tag!r} already exists in {repo}, whose tags are immutable: "
                "push under a new tag"
            )
        if served.is_index and not force:
            entries = tokens.retrying(
                target, partial(registry_api.index_entries, host, repo, the_tag)
            )
            listed = ", ".join(dict.fromkeys(name for name, _ in entries)) or "several platforms"
            raise EcrTasksError(
                f"tag {the_tag!r} in {repo} holds a multi-platform image index ({listed}): "
                "pushing one image over it would drop them; pass --force to push anyway"
            )


def ensure_repository(
    tokens: TokenSource,
    s: settings.Settings,
    repo: str,
    immutable: bool,
    scan_on_push: bool,
    kms_key: str | None,
) -> dict[str, Any]:
    """The repository's description, creating it first when it is missing."""
    try:
        found = tokens.aws.describe_repository(s.region, s.account, repo)
    except RepositoryNotFound:
        created = tokens.aws.create_repository(
            s.region,
            s.account,
            repo,
            immutable=immutable,
            scan_on_push=scan_on_push,
            kms_key=kms_key,
        )
        print(f"Created repository {repo}")
        return created
    differences = settings_differences(found, immutable, scan_on_push, kms_key)
    if differences:
        raise ConfigError(
            f"repository {repo} already exists with {', '.join(differences)}: "
            "change it in ECR or drop those flags; nothing was pushed"
        )
    return found


def settings_differences(
    found: dict[str, Any], immutable: bool, scan_on_push: bool, kms_key: str | None
) -> list[str]:
    """What an existing repository lacks of the settings ``--create`` asked for."""
    differences = []
    if immutable and not found.get("imageTagMutability", "MUTABLE").startswith("IMMUTABLE"):
        differences.append("mutable tags, not the immutable ones asked for")
    if scan_on_push and not (found.get("imageScanningConfiguration") or {}).get("scanOnPush"):
        differences.append("scan on push off, not on")
    if kms_key:
        encryption = found.get("encryptionConfiguration") or {}
        actual = encryption.get("kmsKey") or ""
        if encryption.get("encryptionType") != "KMS":
            differences.append(
                f"{encryption.get('encryptionType', 'AES256')} encryption, not KMS key {kms_key}"
            )
        # ECR reports a key's ARN; a key id matches its ARN's last part. An
        # alias cannot be compared without asking KMS, so it is taken as given.
        elif not kms_key.startswith("alias/") and kms_key not in (actual, actual.rsplit("/")[-1]):
            differences.append(f"KMS key {actual}, not {kms_key}")
    return differences
