"""ECR's registry rules, answered from moto's ECR state inside the API emulator.

The gate asks before it lets a request reach the registry: does the
repository exist, and may this tag be written (tag immutability, with
exclusion filters). After the registry stored a manifest, the gate reports
it here and moto records the image, so the API and the registry tell the
same story, as ECR's one store does; when the API deletes an image or a tag,
the registry's storage forgets it too. Messages are ECR's own wording.

moto is imported inside the functions: ``api.py`` imports this module
before moto has been loaded.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import shutil
from pathlib import Path
from typing import Any


def _repository(account: str, region: str, name: str) -> Any:
    from moto.ecr.models import ecr_backends

    return ecr_backends[account][region].repositories.get(name)


def tag_is_frozen(repository: Any, tag: str) -> bool:
    """Whether writing ``tag`` would overwrite a tag ECR keeps immutable."""
    filters = repository.image_tag_mutability_exclusion_filters or []
    excluded = any(fnmatch.fnmatchcase(tag, f["filter"]) for f in filters)
    # IMMUTABLE(_WITH_EXCLUSION): tags are frozen except the excluded ones;
    # MUTABLE_WITH_EXCLUSION: only the excluded ones are frozen.
    immutable = repository.image_tag_mutability.startswith("IMMUTABLE") != excluded
    return immutable and any(tag in image.image_tags for image in repository.images)


def check(question: dict[str, Any]) -> dict[str, Any]:
    """``{"allowed": True}`` or the refusal ECR would send (status, code, message)."""
    account, region = question["account"], question["region"]
    name, tag = question["repository"], question.get("tag")
    repository = _repository(account, region, name)
    if repository is None:
        return {
            "allowed": False, "status": 404, "code": "NAME_UNKNOWN",
            "message": f"The repository with name '{name}' does not exist"
                       f" in the registry with id '{account}'",
        }  # fmt: skip
    if tag and tag_is_frozen(repository, tag):
        return {
            "allowed": False, "status": 400, "code": "TAG_INVALID",
            "message": f"The image tag '{tag}' already exists in the '{name}' repository"
                       " and cannot be overwritten because the repository is immutable.",
        }  # fmt: skip
    return {"allowed": True}


def record_push(report: dict[str, Any]) -> None:
    """Record a manifest the registry accepted as an image of the repository."""
    from moto.ecr.exceptions import ImageAlreadyExistsException
    from moto.ecr.models import ecr_backends

    backend = ecr_backends[report["account"]][report["region"]]
    name, tag, digest = report["repository"], report.get("tag"), report.get("digest")
    repository = backend.repositories.get(name)
    if repository is None or not digest:
        return
    known = next((i for i in repository.images if i.image_digest == digest), None)
    if known is not None and tag is None:
        return  # a manifest pushed again by digest: nothing new to list
    media_type = (report.get("media_type") or "").split(";")[0].strip() or None
    # The same manifest under the same tag again: ECR keeps it as it is.
    with contextlib.suppress(ImageAlreadyExistsException):
        # moto types the tag as str, but its Image keeps None as "untagged": a
        # manifest pushed by digest, as PutImage without imageTag does on ECR.
        backend.put_image(name, report["manifest"], tag, media_type, digest)  # type: ignore[arg-type]


#: The distribution registry's storage, under the stand-in's work dir: the
#: API emulator edits it when ECR's API deletes an image or a tag.
REGISTRY_DATA_DIR = "registry-data"
REGISTRY_DATA_ENV = "ECR_STANDIN_REGISTRY_DATA"


def _manifests(root: Path, name: str) -> Path:
    return root / "docker" / "registry" / "v2" / "repositories" / name / "_manifests"


def forget_in_registry(root: Path, name: str, tags: list[str], digests: list[str]) -> None:
    """Make the registry stop serving ``tags`` and the manifests ``digests``.

    distribution 2.8 cannot delete a tag over HTTP, so its storage is edited
    as its own manifest delete does: a tag is a directory of links, a
    manifest a revision link; blobs stay until a garbage collection, as
    layers do on ECR until nothing refers to them.
    """
    manifests = _manifests(root, name)
    for tag in tags:
        shutil.rmtree(manifests / "tags" / tag, ignore_errors=True)
    for digest in digests:
        algorithm, _, hex_digits = digest.partition(":")
        shutil.rmtree(manifests / "revisions" / algorithm / hex_digits, ignore_errors=True)
        # Any tag still pointing at a deleted manifest goes with it.
        for link in (manifests / "tags").glob("*/current/link"):
            if link.read_text().strip() == digest:
                shutil.rmtree(link.parent.parent, ignore_errors=True)


def record_delete(backend: Any, name: str, answer: dict[str, Any], root: Path | None) -> None:
    """After moto's BatchDeleteImage: the registry forgets what the API deleted.

    Each removed tag goes; a digest no image of the repository has any more
    (its last tag went, or it was deleted by digest) goes too, as on ECR.
    """
    if root is None:
        return
    repository = backend.repositories.get(name)
    left = {i.image_digest for i in repository.images} if repository is not None else set()
    removed = answer.get("imageIds") or []
    tags = [i.image_tag for i in removed if getattr(i, "image_tag", None)]
    digests = {i.image_digest for i in removed} - left
    forget_in_registry(root, name, tags, sorted(digests))


def image_size(image: Any, backends: Any) -> int | None:
    """An image's size as ECR reports it: its layers added up; for an index,
    the largest of its images (they are found in the same repository)."""
    manifest = json.loads(image.image_manifest)
    if "layers" in manifest:
        return sum(int(layer.get("size") or 0) for layer in manifest["layers"])
    children = {m.get("digest") for m in manifest.get("manifests") or [] if isinstance(m, dict)}
    sizes = [
        image_size(other, backends)
        for backend in backends
        for repository in [backend.repositories.get(image.repository_name)]
        if repository is not None
        for other in repository.images
        if other.image_digest in children
    ]
    known = [s for s in sizes if s is not None]
    return max(known) if known else None
