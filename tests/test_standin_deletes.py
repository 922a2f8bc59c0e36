"""The stand-in's registry forgets what ECR's API deleted, reports sizes as
ECR adds them up, and the gate reads repository names that hold /tags/."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ecr_tasks.standin import registry_rules
from ecr_tasks.standin.gate import _REPO_PATH

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def _storage(root: Path, name: str, tags: dict[str, str]) -> Path:
    manifests = root / "docker" / "registry" / "v2" / "repositories" / name / "_manifests"
    for digest in set(tags.values()):
        (manifests / "revisions" / "sha256" / digest[7:]).mkdir(parents=True)
    for tag, digest in tags.items():
        (manifests / "tags" / tag / "current").mkdir(parents=True)
        (manifests / "tags" / tag / "current" / "link").write_text(digest)
    return manifests


def _image(digest: str, tags: list[str]) -> SimpleNamespace:
    return SimpleNamespace(image_digest=digest, image_tag=tags[0] if tags else None)


def test_a_removed_tag_goes_and_the_image_stays_while_it_has_another(tmp_path: Path) -> None:
    manifests = _storage(tmp_path, "team/app", {"a": A, "b": A, "solo": B})
    repository = SimpleNamespace(images=[SimpleNamespace(image_digest=A)])
    backend = SimpleNamespace(repositories={"team/app": repository})
    answer = {"imageIds": [_image(A, ["a"]), _image(B, ["solo"])]}
    registry_rules.record_delete(backend, "team/app", answer, tmp_path)
    assert sorted(p.name for p in (manifests / "tags").iterdir()) == ["b"]
    assert (manifests / "revisions" / "sha256" / A[7:]).exists()
    assert not (manifests / "revisions" / "sha256" / B[7:]).exists()


def test_a_deleted_digest_takes_every_tag_pointing_at_it(tmp_path: Path) -> None:
    manifests = _storage(tmp_path, "app", {"x": A, "y": A})
    registry_rules.forget_in_registry(tmp_path, "app", [], [A])
    assert list((manifests / "tags").iterdir()) == []


def test_without_a_registry_nothing_is_touched(tmp_path: Path) -> None:
    registry_rules.record_delete(SimpleNamespace(repositories={}), "app", {}, None)


def test_sizes_add_up_layers_and_an_index_is_its_largest_image() -> None:
    small = SimpleNamespace(image_digest=A, repository_name="app",
                            image_manifest=json.dumps({"layers": [{"size": 10}, {"size": 5}]}))
    large = SimpleNamespace(image_digest=B, repository_name="app",
                            image_manifest=json.dumps({"layers": [{"size": 70}]}))
    index = SimpleNamespace(image_digest="sha256:" + "c" * 64, repository_name="app",
                            image_manifest=json.dumps({"manifests": [{"digest": A},
                                                                     {"digest": B}]}))
    backends = [SimpleNamespace(repositories={"app": SimpleNamespace(
        images=[small, large, index])})]  # fmt: skip
    assert registry_rules.image_size(small, backends) == 15
    assert registry_rules.image_size(index, backends) == 70


@pytest.mark.parametrize(
    ("path", "parts"),
    [("/v2/hub/tags/blobs/uploads/", ("hub/tags", "blobs", "uploads/")),
     ("/v2/hub/tags/blobs/uploads/u-1?_state=s", ("hub/tags", "blobs", "uploads/u-1")),
     ("/v2/hub/tags/manifests/v1", ("hub/tags", "manifests", "v1")),
     ("/v2/hub/tags/tags/list", ("hub/tags", "tags", "list")),
     (f"/v2/a/blobs/{A}", ("a", "blobs", A))],
    ids=["upload", "upload-session", "manifest", "tag-list", "blob"],
)  # fmt: skip
def test_the_gate_reads_the_whole_repository_name(path: str, parts: tuple[str, ...]) -> None:
    match = _REPO_PATH.match(path)
    assert match is not None and (match["name"], match["kind"], match["rest"]) == parts
