"""End to end on the stand-in: ``tags`` lists what was pushed, ``untag`` makes
the registry stop serving a tag, and ``mirror`` brings a two-platform index
over from a plain local registry standing in for Docker Hub, with skopeo
(every platform, every digest) and without it (one platform, said so)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ecr_tasks import aws as aws_module
from ecr_tasks.standin.process import free_port
from tests.conftest import _in_ci, assert_one_clear_line, inv, make_image, project_dir
from tests.test_e2e import served_digest

pytestmark = pytest.mark.e2e
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))


def _ecr(stack):
    return boto3.client(
        "ecr", region_name=stack.region, endpoint_url=stack.direct_api_url,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


def _served(stack, repo: str, tag: str) -> str | None:
    try:
        return served_digest(stack.registry, repo, tag, stack.password)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def _pushed(stdout: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(r"Pushed \S+:(\S+) (sha256:[0-9a-f]{64})", stdout)}


# -- tags and untag -----------------------------------------------------------------


def test_tags_lists_both_pushed_tags_with_their_digests(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: hub/tags\n")
    make_image("hub/tags:v1", user_env, tmp_path / "one", size=300_000, seed="one")
    make_image("hub/tags:v2", user_env, tmp_path / "two", seed="two")
    first = inv(["push", "--create", "--tag", "v1"], project, user_env)
    second = inv(["push", "--tag", "v2"], project, user_env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    pushed = {**_pushed(first.stdout), **_pushed(second.stdout)}

    listed = inv(["tags", "--json"], project, user_env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["tag"]: row for row in json.loads(listed.stdout)}
    assert {t: r["digest"] for t, r in rows.items()} == pushed
    assert rows["v1"]["size"] > 300_000 > rows["v2"]["size"] > 0
    for row in rows.values():
        assert row["pushed_at"].endswith("+00:00")
    assert next(r["tag"] for r in json.loads(listed.stdout)) == "v2"  # newest first

    table = inv(["tags"], project, user_env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["TAG", "DIGEST", "SIZE", "PUSHED"]
    assert lines[1].startswith("v2 ") and pushed["v2"][:19] in lines[1]
    assert "just now" in lines[1] and " kB" in lines[2]

    repos = inv(["tags", "--all-repos", "--json"], project, user_env)
    assert repos.returncode == 0, repos.stderr
    mine = next(r for r in json.loads(repos.stdout) if r["name"] == "hub/tags")
    assert mine["tags"] == 2 and mine["tag_mutability"] == "MUTABLE"

    # A region with no repository at all: one line, not a traceback.
    none = inv(["tags", "--all-repos", "--region", "ap-south-2"], project, user_env)
    assert (none.returncode, none.stdout, none.stderr) == (0, "no repositories in ap-south-2\n", "")


def test_untag_makes_the_registry_stop_serving_the_tag(stack, user_env, tmp_path):
    project = project_dir(tmp_path, stack.registry, "  repo: hub/untag\n")
    make_image("hub/untag:a", user_env, tmp_path / "a", seed="a")
    make_image("hub/untag:solo", user_env, tmp_path / "solo", seed="solo")
    both = inv(["push", "--create", "--tag", "a", "--tag", "b"], project, user_env)
    solo = inv(["push", "--tag", "solo"], project, user_env)
    assert both.returncode == 0 and solo.returncode == 0, both.stderr + solo.stderr
    shared = _served(stack, "hub/untag", "b")
    assert shared is not None and _served(stack, "hub/untag", "a") == shared

    dry = inv(["--dry", "untag", "--tag", "a"], project, user_env)
    assert dry.returncode == 0 and "would remove tag a" in dry.stdout
    assert _served(stack, "hub/untag", "a") == shared

    done = inv(["untag", "--tag", "a", "--tag", "solo"], project, user_env)
    assert done.returncode == 0, done.stderr
    assert "Removed tag a from hub/untag" in done.stdout
    assert "no other tag" in done.stdout  # solo's image went with its only tag
    assert _served(stack, "hub/untag", "a") is None
    assert _served(stack, "hub/untag", "solo") is None
    assert _served(stack, "hub/untag", "b") == shared  # the image keeps its other tag
    left = [r["tag"] for r in json.loads(inv(["tags", "--json"], project, user_env).stdout)]
    assert left == ["b"]

    missing = inv(["untag", "--tag", "nope"], project, user_env)
    assert_one_clear_line(missing, "'nope'", "not found")


def test_describe_images_pages_and_tags_reads_them_all(stack, user_env, monkeypatch):
    """The stand-in pages like ECR; the client follows nextToken to the end."""
    ecr = _ecr(stack)
    ecr.create_repository(repositoryName="hub/pages")
    for n in range(5):
        layer = {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                 "size": 1000 + n, "digest": "sha256:" + f"{n:x}" * 64}  # fmt: skip
        manifest = {"schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                               "size": 7, "digest": "sha256:" + "e" * 64},
                    "layers": [layer]}  # fmt: skip
        ecr.put_image(repositoryName="hub/pages", imageManifest=json.dumps(manifest),
                      imageTag=f"t{n}")  # fmt: skip
    first = ecr.describe_images(repositoryName="hub/pages", maxResults=2)
    assert len(first["imageDetails"]) == 2 and first["nextToken"]
    assert first["imageDetails"][0]["imageSizeInBytes"] == 1000  # the layers, as ECR adds up
    for name, value in user_env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(aws_module, "PAGE", 2)
    found = aws_module.Aws().describe_images(stack.region, None, "hub/pages")
    assert sorted(t for i in found for t in i["imageTags"]) == [f"t{n}" for n in range(5)]


# -- mirror: a plain registry stands in for Docker Hub --------------------------------


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[str]:
    """A plain distribution registry on 127.0.0.1, no login: ``host:port``."""
    binary = shutil.which("docker-registry")
    if binary is None:
        if _in_ci():
            pytest.fail("docker-registry is not installed", pytrace=False)
        pytest.skip("docker-registry is not installed")
    workdir = tmp_path_factory.mktemp("hub")
    port = free_port()
    config = {"version": 0.1, "log": {"level": "warn", "accesslog": {"disabled": True}},
              "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}},
              "http": {"addr": f"127.0.0.1:{port}", "secret": "hub"}}  # fmt: skip
    (workdir / "config.yml").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    with open(workdir / "log", "wb") as log:
        process = subprocess.Popen([binary, "serve", str(workdir / "config.yml")], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layer(text: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def two_platform_layout(layout: Path, tag: str) -> dict[str, str]:
    """An OCI layout holding an index of two images; {platform: digest}, and the index's."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entries, digests = [], {}
    for os_name, arch in PLATFORMS:
        tar = _layer(f"hello from {os_name}/{arch}\n")
        config = _blob(layout, json.dumps({
            "architecture": arch, "os": os_name,
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        }).encode())  # fmt: skip
        image = _blob(layout, json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        **_blob(layout, tar)}],
        }).encode())  # fmt: skip
        entries.append({"mediaType": OCI_MANIFEST, **image,
                        "platform": {"os": os_name, "architecture": arch}})  # fmt: skip
        digests[f"{os_name}/{arch}"] = image["digest"]
    index = _blob(layout, json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                      "manifests": entries}).encode())  # fmt: skip
    (layout / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_INDEX, **index,
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))  # fmt: skip
    digests["index"] = index["digest"]
    return digests


@pytest.fixture(scope="module")
def hub_index(hub, tmp_path_factory) -> dict[str, str]:
    """library/multi:1 on the stand-in Docker Hub: a two-platform index."""
    if shutil.which("skopeo") is None:
        problem = "skopeo is not installed (scripts/dev installs it)"
        if _in_ci():
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    layout = tmp_path_factory.mktemp("oci") / "layout"
    digests = two_platform_layout(layout, "1")
    subprocess.run(["skopeo", "copy", "--all", "--dest-tls-verify=false", f"oci:{layout}:1",
                    f"docker://{hub}/library/multi:1"], check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    # What the source serves, as mirror finds it (skopeo may re-encode the index).
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{hub}/library/multi:1"], check=True, capture_output=True,
                         timeout=60).stdout  # fmt: skip
    served = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
              for m in json.loads(raw)["manifests"]}  # fmt: skip
    assert set(served) == set(digests) - {"index"}
    return {**served, "index": "sha256:" + hashlib.sha256(raw).hexdigest()}


def _index_of(stack, repo: str, tag: str) -> dict:
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", f"AWS:{stack.password}",
         f"docker://{stack.registry}/{repo}:{tag}"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return json.loads(raw)


def test_mirror_keeps_every_platform_and_its_digest(stack, own_env, tmp_path, hub, hub_index):
    project = project_dir(tmp_path, stack.registry, "  repo: hub/mirror\n")
    done = inv(["mirror", f"{hub}/library/multi:1", "--create"], project, own_env)
    assert done.returncode == 0, done.stderr
    assert f"{stack.registry}/hub/mirror:1 {hub_index['index']}" in done.stdout
    assert _served(stack, "hub/mirror", "1") == hub_index["index"]
    index = _index_of(stack, "hub/mirror", "1")
    copied = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
              for m in index["manifests"]}  # fmt: skip
    assert copied == {k: v for k, v in hub_index.items() if k != "index"}
    for secret in [stack.password, *stack.issued_passwords()]:
        assert secret not in done.stdout + done.stderr

    listed = inv(["tags", "--json"], project, own_env)
    [row] = json.loads(listed.stdout)
    assert row["digest"] == hub_index["index"]
    assert {p["platform"]: p["digest"] for p in row["platforms"]} == copied
    refused = inv(["untag", "--tag", "1"], project, own_env)
    assert_one_clear_line(refused, "'1'", "multi-platform", "--force")


def test_mirror_without_skopeo_copies_one_platform_and_says_so(
    stack, own_env, tmp_path, hub, hub_index
):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("docker", "bash"):  # invoke runs commands with bash from PATH
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    env = {**own_env, "PATH": str(tools)}
    project = project_dir(tmp_path, stack.registry, "  repo: hub/one\n")
    done = inv(["mirror", f"{hub}/library/multi:1", "--tag", "one", "--create"], project, env)
    assert done.returncode == 0, done.stderr
    assert "skopeo not found: copied one platform (linux/amd64) only" in done.stdout
    # The engine pushes the image again in its own format: one image, not the index.
    [row] = json.loads(inv(["tags", "--json"], project, own_env).stdout)
    assert row["tag"] == "one" and "platforms" not in row
    assert row["digest"] == _served(stack, "hub/one", "one") != hub_index["index"]


def test_mirror_bad_sources_and_a_missing_repository_are_one_line_each(
    stack, own_env, tmp_path, hub, hub_index
):
    project = project_dir(tmp_path, stack.registry, "  repo: hub/bad\n")
    missing_tag = inv(["mirror", f"{hub}/library/multi:2", "--create"], project, own_env)
    assert_one_clear_line(missing_tag, "source tag '2' not found")
    names = [r["repositoryName"] for r in _ecr(stack).describe_repositories()["repositories"]]
    assert "hub/bad" not in names  # the source is read before anything is created
    no_repo = inv(["mirror", f"{hub}/library/multi:1", "--repo", "hub/absent"], project, own_env)
    assert_one_clear_line(no_repo, "'hub/absent'", "--create")
    (tmp_path / "private").mkdir()
    private = stack.extra_registry(tmp_path / "private")
    try:
        private.wait_ready()
        locked = inv(["mirror", f"{private.host}/team/app:v1", "--create"], project, own_env)
        assert_one_clear_line(locked, "accepted no credentials", f"login {private.host}")
    finally:
        private.stop()
    unknown = inv(["mirror", "127.0.0.1:1/nothing:v1", "--create"], project, own_env)
    assert_one_clear_line(unknown, "127.0.0.1:1", "unreachable")
