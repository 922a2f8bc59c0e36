"""ECR's registry rules, answered from moto's ECR state inside the API emulator.

The gate asks before it lets a request reach the registry: does the
repository exist, and may this tag be written (tag immutability, with
exclusion filters). After the registry stored a manifest, the gate reports
it here and moto records the image, so the API and the registry tell the
same story, as ECR's one store does. Messages are ECR's own wording.

moto is imported inside the functions: ``api.py`` imports this module
before moto has been loaded.
"""

from __future__ import annotations

import contextlib
import fnmatch
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
