"""``tags``, ``untag`` and ``mirror`` without AWS or a registry: the table, sizes
and relative times, Docker's short names, the plans under ``--dry``, the
private auth file, ECR's pages, and bad input in one line with no command."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from helpers import ACCOUNT, DIGEST, OTHER_DIGEST, REGION, FakeAws, NoAws, commands, isolate
from helpers import make_context as make_ctx
from invoke import Result
from invoke.exceptions import Exit

from ecr_tasks import aws, engine, images, ns
from ecr_tasks.aws import Aws as RealAws
from ecr_tasks.cache import Token
from ecr_tasks.errors import BadValue, EcrTasksError

ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
WHERE = {"account": ACCOUNT, "region": REGION}
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setattr(aws, "Aws", NoAws)
    monkeypatch.setenv("TZ", "UTC")
    FakeAws.instances.clear()


def image(tags: list[str], digest: str, pushed: datetime, size: int = 2_500_000, **more: Any):
    return {"imageTags": tags, "imageDigest": digest, "imagePushedAt": pushed,
            "imageSizeInBytes": size, **more}  # fmt: skip


class ImagesAws(FakeAws):
    """FakeAws with a repository's images, and BatchDeleteImage recorded."""

    images: ClassVar[list[dict[str, Any]]] = []

    def describe_images(self, region: str, account: str | None, repo: str) -> list[dict]:
        self.calls.append(("describe_images", region, account, repo))
        return ImagesAws.images

    def batch_delete_image(self, region: str, account: str | None, repo: str, ids: list) -> dict:
        self.calls.append(("batch_delete_image", repo, ids))
        found = []
        for wanted in ids:
            for item in ImagesAws.images:
                if wanted.get("imageTag") in item["imageTags"]:
                    tag = wanted["imageTag"]
                    found.append({"imageDigest": item["imageDigest"], "imageTag": tag})
                elif wanted.get("imageDigest") == item["imageDigest"]:
                    found += [{"imageDigest": item["imageDigest"], "imageTag": t}
                              for t in item["imageTags"]]  # fmt: skip
        return {"imageIds": found, "failures": []}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> type[ImagesAws]:
    monkeypatch.setattr(aws, "Aws", ImagesAws)
    ImagesAws.images = [
        image(["v1", "stable"], DIGEST, NOW - timedelta(days=3)),
        image(["v2"], OTHER_DIGEST, NOW - timedelta(hours=1), size=900,
              imageScanStatus={"status": "COMPLETE"},
              imageScanFindingsSummary={"findingSeverityCounts": {"HIGH": 2, "LOW": 1}}),
    ]  # fmt: skip
    return ImagesAws


def _calls() -> list[tuple]:
    return [call for instance in FakeAws.instances for call in instance.calls]


# -- the Tags tab's pieces --------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [(None, "-"), (0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (2_500_000, "2.5 MB"),
     (7_340_000_000, "7.3 GB"), (3 * 10**15, "3000.0 TB")],
    ids=["unknown", "zero", "bytes", "kilo", "mega", "giga", "largest-unit"],
)  # fmt: skip
def test_human_size(size: int | None, shown: str) -> None:
    assert images.human_size(size) == shown


@pytest.mark.parametrize(
    ("ago", "said"),
    [(timedelta(seconds=5), "just now"), (timedelta(minutes=1), "1 minute ago"),
     (timedelta(minutes=59), "59 minutes ago"), (timedelta(hours=2), "2 hours ago"),
     (timedelta(days=3), "3 days ago"), (timedelta(days=14), "2 weeks ago"),
     (timedelta(days=65), "2 months ago"), (timedelta(days=400), "1 year ago")],
    ids=["seconds", "a-minute", "minutes", "hours", "days", "weeks", "months", "a-year"],
)  # fmt: skip
def test_relative_time(ago: timedelta, said: str) -> None:
    assert images.relative_time(NOW - ago, NOW) == said


def test_short_digest_keeps_the_algorithm_and_twelve_digits() -> None:
    assert images.short_digest(DIGEST) == "sha256:" + DIGEST[7:19]


def test_rows_are_one_per_tag_newest_first(fake_aws: type[ImagesAws]) -> None:
    rows = images.tag_rows(ImagesAws.images)
    assert [r["tag"] for r in rows] == ["v2", "stable", "v1"]
    assert rows[0]["scan"] == "COMPLETE (2 HIGH, 1 LOW)"


def test_the_table_shows_local_and_relative_time_and_drops_empty_columns(
    fake_aws: type[ImagesAws],
) -> None:
    lines = images.format_tags(images.tag_rows(ImagesAws.images), NOW)
    assert lines[0].split() == ["TAG", "DIGEST", "SIZE", "PUSHED", "SCAN"]  # no platforms
    assert lines[1].split()[:4] == ["v2", images.short_digest(OTHER_DIGEST), "900", "B"]
    assert "2026-06-15 11:00 (1 hour ago)" in lines[1]
    assert "2026-06-12 12:00 (3 days ago)" in lines[2]
    assert len({line.index("SIZE") for line in lines[:1]}) == 1


def test_json_has_full_digests_iso_times_sizes_and_platforms(
    capsys: pytest.CaptureFixture,
) -> None:
    [row] = images.tag_rows([image(["v1"], DIGEST, NOW, size=10, imageManifestMediaType=INDEX)])
    row["platforms"] = [{"platform": "linux/amd64", "digest": OTHER_DIGEST}]
    images._print_json([row])
    assert json.loads(capsys.readouterr().out) == [{
        "tag": "v1", "digest": DIGEST, "pushed_at": "2026-06-15T12:00:00+00:00", "size": 10,
        "platforms": [{"platform": "linux/amd64", "digest": OTHER_DIGEST}],
    }]  # fmt: skip


def test_all_repos_lists_the_repositories_by_name_with_their_tag_counts(
    fake_aws: type[ImagesAws], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    found = [{"repositoryName": "b/app", "imageTagMutability": "IMMUTABLE"},
             {"repositoryName": "a/app", "repositoryUri": f"{ECR_HOST}/a/app",
              "imageTagMutability": "MUTABLE"}]  # fmt: skip
    ids = {"a/app": [{"imageTag": "v1", "imageDigest": DIGEST}, {"imageDigest": OTHER_DIGEST}]}
    monkeypatch.setattr(ImagesAws, "describe_repositories", lambda self, *a: found, raising=False)
    monkeypatch.setattr(
        ImagesAws, "list_images", lambda self, r, a, repo: ids.get(repo, []), raising=False
    )
    images.tags(make_ctx(**WHERE), all_repos=True)
    assert [line.split() for line in capsys.readouterr().out.splitlines()] == [
        ["REPOSITORY", "URI", "TAGS", "MUTABILITY"],
        ["a/app", f"{ECR_HOST}/a/app", "1", "MUTABLE"],
        ["b/app", "0", "IMMUTABLE"],
    ]


def test_repositories_table() -> None:
    lines = images.format_repositories(
        [{"name": "a/app", "uri": f"{ECR_HOST}/a/app", "tags": 3, "tag_mutability": "MUTABLE"},
         {"name": "b/app", "uri": None, "tags": 0, "tag_mutability": "IMMUTABLE"}],
    )  # fmt: skip
    assert [line.split() for line in lines] == [
        ["REPOSITORY", "URI", "TAGS", "MUTABILITY"],
        ["a/app", f"{ECR_HOST}/a/app", "3", "MUTABLE"],
        ["b/app", "0", "IMMUTABLE"],
    ]


def test_a_table_without_rows_is_its_header() -> None:
    assert images.table(("TAG", "SIZE"), []) == ["TAG  SIZE"]


# -- AWS's pages ------------------------------------------------------------------


class PagedClient:
    """A botocore client's describe_images, answering in pages of ``maxResults``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.asked: list[dict[str, Any]] = []

    def describe_images(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(kwargs)
        start = int(kwargs.get("nextToken") or 0)
        end = min(start + kwargs["maxResults"], self.total)
        page: dict[str, Any] = {"imageDetails": [{"n": n} for n in range(start, end)]}
        if end < self.total:
            page["nextToken"] = str(end)
        return page


def test_describe_images_reads_every_page_of_a_thousand(monkeypatch: pytest.MonkeyPatch) -> None:
    client = PagedClient(2345)
    real = RealAws()
    monkeypatch.setattr(real, "client", lambda service, region: client)
    found = real.describe_images(REGION, ACCOUNT, "team/app")
    assert [item["n"] for item in found] == list(range(2345))
    assert [a["maxResults"] for a in client.asked] == [1000, 1000, 1000]
    assert [a.get("nextToken") for a in client.asked] == [None, "1000", "2000"]
    assert client.asked[0]["registryId"] == ACCOUNT


# -- untag --------------------------------------------------------------------------


def test_untag_removes_by_tag_and_says_what_became_of_the_image(
    fake_aws: type[ImagesAws], capsys: pytest.CaptureFixture
) -> None:
    c = make_ctx(**WHERE)
    images.untag(c, tag=["v1", "v2"], repo="team/app")
    assert ("batch_delete_image", "team/app", [{"imageTag": "v1"}, {"imageTag": "v2"}]) in _calls()
    out = capsys.readouterr().out.splitlines()
    assert f"Removed tag v1 from team/app ({images.short_digest(DIGEST)})" in out
    assert not any(DIGEST[7:19] in line and "no other tag" in line for line in out)  # keeps stable
    assert any(OTHER_DIGEST[7:19] in line and "deleted the image" in line for line in out)
    assert commands(c) == []


def test_untag_dry_shows_the_plan_and_asks_nothing(capsys: pytest.CaptureFixture) -> None:
    c = make_ctx(dry=True, **WHERE)
    images.untag(c, tag=["v1"], digest=[DIGEST], repo="team/app")  # NoAws: a call would fail
    out = capsys.readouterr().out
    assert "# would remove tag v1 in team/app (BatchDeleteImage)" in out
    assert f"# would delete image {DIGEST} in team/app" in out


@pytest.mark.parametrize(
    ("flags", "words"),
    [({"tag": ["bad tag"]}, ["invalid tag 'bad tag'"]),
     ({"digest": ["sha256:short"]}, ["invalid digest", "64"]),
     ({}, ["nothing to remove", "--tag"]),
     ({"tag": ["v1"], "repo": None}, ["no repository"]),
     # From Python: an empty tag beside a digest is refused, not dropped.
     ({"tag": "", "digest": DIGEST}, ["invalid tag ''"])],
    ids=["bad-tag", "bad-digest", "nothing", "no-repo", "empty-tag-from-python"],
)  # fmt: skip
def test_untag_bad_input_is_one_line_before_any_call(
    flags: dict[str, Any], words: list[str]
) -> None:
    c = make_ctx(**WHERE)
    with pytest.raises(Exit) as raised:
        images.untag(c, **{"repo": "team/app", **flags})
    assert raised.value.code == 1
    for word in words:
        assert word in str(raised.value.message)


def test_check_untag_guards_a_multi_platform_index_and_missing_tags() -> None:
    held = [image(["multi"], DIGEST, NOW, imageManifestMediaType=INDEX)]
    with pytest.raises(EcrTasksError, match=r"'multi' holds a multi-platform.*--force"):
        images.check_untag(held, ["multi"], [], force=False)
    images.check_untag(held, ["multi"], [], force=True)
    with pytest.raises(EcrTasksError, match="tag 'gone' not found"):
        images.check_untag(held, ["gone"], [], force=True)
    with pytest.raises(EcrTasksError, match="not found"):
        images.check_untag(held, [], [OTHER_DIGEST], force=True)
    images.check_untag(held, [], [DIGEST], force=False)


def test_an_index_losing_its_last_tag_leaves_its_platforms_to_lifecycle_rules() -> None:
    before = [image(["multi"], DIGEST, NOW, imageManifestMediaType=INDEX)]
    lines = images.untag_report(before, {"imageIds": [{"imageDigest": DIGEST,
                                                       "imageTag": "multi"}]}, "r")  # fmt: skip
    assert "lifecycle rules decide" in lines[-1]


# -- tags ---------------------------------------------------------------------------


def test_tags_dry_asks_nothing(capsys: pytest.CaptureFixture) -> None:
    images.tags(make_ctx(dry=True, **WHERE), repo="team/app")
    assert "DescribeImages, 1000 a page" in capsys.readouterr().out


def test_tags_json_for_scripts(fake_aws: type[ImagesAws], capsys: pytest.CaptureFixture) -> None:
    images.tags(make_ctx(**WHERE), repo="team/app", json=True)
    listed = json.loads(capsys.readouterr().out)
    assert [(r["tag"], r["digest"]) for r in listed] == [
        ("v2", OTHER_DIGEST), ("stable", DIGEST), ("v1", DIGEST)]  # fmt: skip
    assert ("describe_images", REGION, ACCOUNT, "team/app") in _calls()


# -- mirror: Docker's short names ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expanded"),
    [("nginx:1.27", "docker.io/library/nginx:1.27"),
     ("nginx", "docker.io/library/nginx:latest"),
     ("me/app:v1", "docker.io/me/app:v1"),
     ("docker.io/nginx:1", "docker.io/library/nginx:1"),
     ("index.docker.io/library/nginx:1", "docker.io/library/nginx:1"),
     ("ghcr.io/org/app:v1", "ghcr.io/org/app:v1"),
     ("localhost/app", "localhost/app:latest"),
     ("127.0.0.1:5000/team/app:v2", "127.0.0.1:5000/team/app:v2"),
     (f"nginx@{DIGEST}", f"docker.io/library/nginx@{DIGEST}")],
    ids=["official-tag", "official-latest", "user-repo", "hub-host", "index-host", "ghcr",
         "localhost", "host-port", "digest"],
)  # fmt: skip
def test_short_names_expand_as_docker_reads_them(name: str, expanded: str) -> None:
    assert images.expand_source(name).ref == expanded


@pytest.mark.parametrize("name", ["", "Nginx", "nginx:", "a//b", "nginx@sha256:abc"])
def test_bad_source_names_are_refused(name: str) -> None:
    with pytest.raises(BadValue):
        images.expand_source(name)


def test_source_credentials_come_from_the_engine_auth_file() -> None:
    hub = {"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwdw=="}}}
    assert images.source_auth(hub, "docker.io") == {
        "auths": {"docker.io": {"auth": "dXNlcjpwdw=="}}
    }
    helper = {"credHelpers": {"ghcr.io": "desktop"}, "auths": {"ghcr.io": {}}}
    assert images.source_auth(helper, "ghcr.io") == {"credHelpers": {"ghcr.io": "desktop"}}
    assert images.source_auth({"credsStore": "desktop"}, "quay.io") == {}
    stored = {"credsStore": "desktop", "auths": {"https://index.docker.io/v1/": {}}}
    assert images.source_auth(stored, "docker.io") == {"credHelpers": {"docker.io": "desktop"}}


def test_the_private_auth_file_is_private_and_gone_after() -> None:
    token = Token(ECR_HOST, "AWS", "pw-secret", 0, 0)
    data = images.skopeo_auth({"credHelpers": {"docker.io": "desktop"}}, ECR_HOST, token)
    with images.private_auth_file(data) as path:
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert os.stat(path.parent).st_mode & 0o777 == 0o700
        assert json.loads(path.read_text())["credHelpers"] == {"docker.io": "desktop"}
        argv = images.skopeo_copy_argv(images.expand_source("nginx"), f"{ECR_HOST}/a:1", path, [])
        assert "pw-secret" not in " ".join(argv)
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("output", "words"),
    [("reading manifest 2 in h/x: manifest unknown", ["source tag '2' not found"]),
     ("initializing source: unauthorized: authentication required",
      ["private or unknown", "docker login docker.io"]),
     ("requested access to the resource is denied", ["no credentials"]),
     ("name unknown: repository name not known to registry", ["not found", "repository"]),
     ("dial tcp: lookup nope: no such host", ["unreachable"]),
     ("something else\nfinal words", ["failed: final words"])],
    ids=["missing-tag", "private", "denied", "unknown-repo", "unreachable", "other"],
)  # fmt: skip
def test_source_problems_are_one_line_each(output: str, words: list[str]) -> None:
    problem = str(images.source_problem(output, images.expand_source("x:2"), "docker"))
    assert "\n" not in problem
    for word in words:
        assert word in problem


def test_mirror_dry_shows_the_skopeo_copy_without_a_password_or_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images.shutil, "which", lambda name: f"/usr/bin/{name}")
    c = make_ctx(run=Result(), dry=True, repo="team/app", **WHERE)
    images.mirror(c, "nginx:1.27")  # NoAws: a call would fail
    assert commands(c) == [
        "skopeo inspect --raw --authfile '<private auth file>' "
        "docker://docker.io/library/nginx:1.27",
        "skopeo copy --all --authfile '<private auth file>' "
        f"docker://docker.io/library/nginx:1.27 docker://{ECR_HOST}/team/app:1.27",
    ]


def test_mirror_dry_without_skopeo_pulls_tags_and_pushes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    c = make_ctx(run=Result(), dry=True, repo="team/app", **WHERE)
    images.mirror(c, "me/tool:v3", tag="pinned")
    assert commands(c) == [
        "docker pull docker.io/me/tool:v3",
        f"docker tag docker.io/me/tool:v3 {ECR_HOST}/team/app:pinned",
        f"docker push {ECR_HOST}/team/app:pinned",
    ]
    assert "docker login --username AWS --password-stdin" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("source", "flags", "words"),
    [("Not An Image", {}, ["invalid image 'Not An Image'"]),
     (f"nginx@{DIGEST}", {}, ["--tag"]),
     ("nginx", {"tag": "-bad"}, ["invalid tag '-bad'"]),
     ("nginx", {"repo": "Bad"}, ["invalid repository name 'Bad'"])],
    ids=["bad-source", "digest-needs-tag", "bad-tag", "bad-repo"],
)  # fmt: skip
def test_mirror_bad_input_is_one_line_before_any_command(
    source: str, flags: dict[str, Any], words: list[str]
) -> None:
    c = make_ctx(repo="team/app", **WHERE)
    with pytest.raises(Exit) as raised:
        images.mirror(c, source, **flags)
    assert raised.value.code == 1
    for word in words:
        assert word in str(raised.value.message)
    assert commands(c) == []


def test_the_collection_offers_the_three_tasks() -> None:
    assert {"tags", "untag", "mirror"} <= set(ns.task_names)


def test_shared_words_match_their_owners() -> None:
    from ecr_tasks import settings, tasks

    assert {k: v for k, v in tasks._WHERE.items() if k != "repo"} == settings.WHERE_HELP


def test_engine_quotes_the_commands() -> None:
    assert engine.command_line(["skopeo", "copy", "a b"]) == "skopeo copy 'a b'"
