"""End to end: a push never drops what a tag or a repository held without
saying so. A tag holding a multi-platform index is not pushed over without
``--force``; ``push --create`` flags an existing repository does not match
stop the push before anything moves."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request

import pytest

from tests.conftest import assert_one_clear_line, inv, make_image, project_dir, token_files
from tests.helpers import read_cache_entry
from tests.test_create_e2e import describe

pytestmark = pytest.mark.e2e
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def cached_password(env: dict[str, str]) -> str:
    """The registry password as the token cache holds it after a login."""
    [entry] = token_files(env)
    return read_cache_entry(entry)["password"]


class Registry:
    """Just enough of the registry protocol to put an image index in place."""

    def __init__(self, host: str, repo: str, password: str) -> None:
        self.base = f"http://{host}/v2/{repo}"
        auth = base64.b64encode(f"AWS:{password}".encode()).decode()
        self.auth = {"Authorization": f"Basic {auth}"}

    def _send(self, method: str, url: str, body: bytes = b"", headers: dict | None = None):
        request = urllib.request.Request(  # noqa: S310 - loopback http only
            url, data=body or None, method=method, headers={**self.auth, **(headers or {})}
        )
        return urllib.request.urlopen(request, timeout=15)  # noqa: S310 - loopback

    def blob(self, data: bytes) -> dict:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._send("POST", f"{self.base}/blobs/uploads/") as started:
            location = started.headers["Location"]
        if location.startswith("/"):
            location = self.base.split("/v2/")[0] + location
        joiner = "&" if "?" in location else "?"
        with self._send("PUT", f"{location}{joiner}digest={digest}", data,
                        {"Content-Type": "application/octet-stream"}):  # fmt: skip
            pass
        return {"digest": digest, "size": len(data)}

    def manifest(self, reference: str, media_type: str, content: dict) -> dict:
        data = json.dumps(content).encode()
        with self._send("PUT", f"{self.base}/manifests/{reference}", data,
                        {"Content-Type": media_type}):  # fmt: skip
            pass
        return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
                "size": len(data)}  # fmt: skip

    def put_index(self, tag: str, platforms: list[tuple[str, str]]) -> str:
        entries = []
        for os_name, arch in platforms:
            config = self.blob(json.dumps({"architecture": arch, "os": os_name,
                                           "rootfs": {"type": "layers", "diff_ids": []}}).encode())
            layer = self.blob(f"layer for {os_name}/{arch}".encode())
            image = self.manifest(f"{arch}-image", OCI_MANIFEST, {
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
            })  # fmt: skip
            entries.append({**image, "platform": {"os": os_name, "architecture": arch}})
        index = self.manifest(tag, OCI_INDEX, {"schemaVersion": 2, "mediaType": OCI_INDEX,
                                               "manifests": entries})  # fmt: skip
        return index["digest"]

    def served(self, tag: str) -> tuple[str, str]:
        accept = {"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}, "
                            "application/vnd.docker.distribution.manifest.v2+json"}  # fmt: skip
        with self._send("HEAD", f"{self.base}/manifests/{tag}", headers=accept) as answer:
            return answer.headers["Docker-Content-Digest"], answer.headers["Content-Type"]


def test_a_multi_platform_tag_is_not_pushed_over_without_force(
    stack, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry, "  repo: loss/multi\n")
    make_image("loss/multi:base", own_env, tmp_path, seed="base")
    first = inv(["push", "--create", "--tag", "base"], project, own_env)  # makes the repository
    assert first.returncode == 0, first.stderr
    registry = Registry(stack.registry, "loss/multi", cached_password(own_env))
    index = registry.put_index("v1", [("linux", "amd64"), ("linux", "arm64")])
    assert registry.served("v1") == (index, OCI_INDEX)

    make_image("loss/multi:v1", own_env, tmp_path / "single", seed="single")
    refused = inv(["push", "--tag", "v1"], project, own_env)
    line = assert_one_clear_line(refused, "'v1'", "linux/amd64", "linux/arm64", "--force")
    assert "multi-platform" in line
    assert "The push refers to" not in refused.stdout  # nothing was pushed
    assert registry.served("v1") == (index, OCI_INDEX)

    forced = inv(["push", "--tag", "v1", "--force"], project, own_env)
    assert forced.returncode == 0, forced.stderr
    digest, kind = registry.served("v1")
    assert digest != index and kind != OCI_INDEX
    assert f"Pushed {stack.registry}/loss/multi:v1 {digest}" in forced.stdout


def test_create_immutable_into_an_existing_mutable_repository_is_one_line(
    stack, own_env, tmp_path
):
    project = project_dir(tmp_path, stack.registry, "  repo: loss/settings\n")
    make_image("loss/settings:v1", own_env, tmp_path, seed="settings")
    first = inv(["push", "--create", "--tag", "v1"], project, own_env)
    assert first.returncode == 0, first.stderr
    assert describe(stack, "loss/settings")["imageTagMutability"] == "MUTABLE"
    before = Registry(stack.registry, "loss/settings", cached_password(own_env)).served("v1")

    make_image("loss/settings:v2", own_env, tmp_path / "v2", seed="v2")
    asked = inv(["push", "--create", "--immutable", "--scan-on-push", "--tag", "v2"], project,
                own_env)  # fmt: skip
    assert_one_clear_line(asked, "loss/settings", "mutable tags", "scan on push off")
    assert "The push refers to" not in asked.stdout
    registry = Registry(stack.registry, "loss/settings", cached_password(own_env))
    assert registry.served("v1") == before
    with pytest.raises(urllib.error.HTTPError):
        registry.served("v2")  # nothing pushed
    assert describe(stack, "loss/settings")["imageTagMutability"] == "MUTABLE"  # untouched
