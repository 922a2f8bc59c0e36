"""The tasks under invoke's MockContext: the exact commands that would run,
and bad input that ends in one line, exit code 1 and no command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    ACCOUNT,
    DIGEST,
    OTHER_ACCOUNT,
    OTHER_DIGEST,
    PASSWORD_PREFIX,
    REGION,
    REGISTRY,
    FakeAws,
    FakeEngineProcess,
    NoAws,
    commands,
    isolate,
    make_context,
    push_output,
)
from invoke import Result
from invoke.exceptions import Exit

from ecr_tasks import aws, engine, registry_api, registry_checks, tasks
from ecr_tasks.cache import Token
from ecr_tasks.errors import AwsError, RepositoryNotFound

ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
WHERE = {"account": ACCOUNT, "region": REGION}


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEngineProcess:
    """No AWS client may be built and no engine may run unless a test says so."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.setattr(aws, "Aws", NoAws)
    fake = FakeEngineProcess()
    monkeypatch.setattr(engine, "subprocess", fake)
    # Before a push, the registry is asked what each tag holds: nothing yet.
    monkeypatch.setattr(registry_api, "manifest", lambda *args, **kwargs: None)
    FakeAws.instances.clear()
    return fake


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> type[FakeAws]:
    monkeypatch.setattr(aws, "Aws", FakeAws)
    return FakeAws


def _aws_calls() -> list[tuple]:
    return [call for instance in FakeAws.instances for call in instance.calls]


# -- uri -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ecr", "flags", "line"),
    [
        pytest.param(
            {"registry": REGISTRY, **WHERE},
            {"repo": "my-app", "tag": "v1"},
            f"{REGISTRY}/my-app:v1",
            id="registry-override",
        ),
        pytest.param(WHERE, {"repo": "my-app", "tag": "v1"}, f"{ECR_HOST}/my-app:v1", id="ecr"),
        pytest.param(WHERE, {}, ECR_HOST, id="host-alone"),
        pytest.param({**WHERE, "repo": "team/app"}, {}, f"{ECR_HOST}/team/app", id="config-repo"),
        pytest.param(
            {**WHERE, "repo": "from-config"},
            {"repo": "from-flag"},
            f"{ECR_HOST}/from-flag",
            id="flag-beats-config",
        ),
        pytest.param(
            {**WHERE, "fips": True},
            {"repo": "app"},
            f"{ACCOUNT}.dkr.ecr-fips.{REGION}.amazonaws.com/app",
            id="fips",
        ),
        pytest.param(
            {**WHERE, "dualstack": True},
            {"repo": "app"},
            f"{ACCOUNT}.dkr-ecr.{REGION}.on.aws/app",
            id="dualstack",
        ),
        pytest.param(
            {},
            {"repo": "app", "account": ACCOUNT, "region": "cn-north-1"},
            f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/app",
            id="flags-china",
        ),
    ],
)
def test_uri(capsys: pytest.CaptureFixture, ecr: dict, flags: dict, line: str) -> None:
    c = make_context(**ecr)
    tasks.uri(c, **flags)
    assert capsys.readouterr().out == line + "\n"
    assert commands(c) == []


def test_uri_asks_sts_for_the_account_once(
    capsys: pytest.CaptureFixture, fake_aws: type[FakeAws]
) -> None:
    c = make_context(region=REGION, repo="app")
    tasks.uri(c)
    tasks.uri(c, tag="v2")
    assert capsys.readouterr().out == f"{ECR_HOST}/app\n{ECR_HOST}/app:v2\n"
    assert _aws_calls() == [("caller_account", REGION)]


def test_uri_digest(
    capsys: pytest.CaptureFixture, fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []

    def manifest_digest(host: str, repo: str, ref: str, token: Token) -> str:
        asked.append((host, repo, ref, token.user))
        assert token.password.startswith(PASSWORD_PREFIX)
        return DIGEST

    monkeypatch.setattr(registry_api, "manifest_digest", manifest_digest)
    tasks.uri(make_context(registry=REGISTRY, **WHERE), repo="app", tag="v1", digest=True)
    assert capsys.readouterr().out == f"{REGISTRY}/app@{DIGEST}\n"
    assert asked == [(REGISTRY, "app", "v1", "AWS")]


# -- tag ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param({"tag": ["v1"]}, [f"docker tag my-app:v1 {REGISTRY}/my-app:v1"], id="one-tag"),
        pytest.param(
            {"tag": ["v1", "latest"]},
            [
                f"docker tag my-app:v1 {REGISTRY}/my-app:v1",
                f"docker tag my-app:v1 {REGISTRY}/my-app:latest",
            ],
            id="repeated-tag-source-is-first",
        ),
        pytest.param(
            {"tag": ["v1", "v1"]}, [f"docker tag my-app:v1 {REGISTRY}/my-app:v1"], id="dedupe"
        ),
        pytest.param(
            {"tag": ["v1"], "image": "localhost:5001/build/out:abc"},
            [f"docker tag localhost:5001/build/out:abc {REGISTRY}/my-app:v1"],
            id="image",
        ),
        pytest.param(
            {"tag": ["v1"], "repo": "team/other"},
            [f"docker tag team/other:v1 {REGISTRY}/team/other:v1"],
            id="repo-flag",
        ),
    ],
)
def test_tag(
    fake_aws: type[FakeAws], capsys: pytest.CaptureFixture, flags: dict, expected: list[str]
) -> None:
    c = make_context(
        run={cmd: Result() for cmd in expected}, registry=REGISTRY, repo="my-app", **WHERE
    )
    tasks.tag(c, **flags)
    assert commands(c) == expected
    refs = [cmd.split()[-1] for cmd in expected]
    assert capsys.readouterr().out == "".join(f"Tagged {ref}\n" for ref in refs)


def test_tag_with_the_engine_setting(fake_aws: type[FakeAws]) -> None:
    expected = f"podman tag app:v1 {ECR_HOST}/app:v1"
    c = make_context(run={expected: Result()}, engine="podman", **WHERE)
    tasks.tag(c, tag=["v1"], repo="app")
    assert commands(c) == [expected]


def test_tag_given_as_a_string_is_one_tag(fake_aws: type[FakeAws]) -> None:
    # A user's own task may call push(c, tag="v1"): that is one tag, not "v" and "1".
    expected = f"docker tag app:v1 {REGISTRY}/app:v1"
    c = make_context(run={expected: Result()}, registry=REGISTRY, **WHERE)
    tasks.tag(c, tag="v1", repo="app")
    assert commands(c) == [expected]


def test_tag_dry(capsys: pytest.CaptureFixture) -> None:
    c = make_context(run=Result(), dry=True, registry=REGISTRY, **WHERE)
    tasks.tag(c, tag=["v1"], repo="app")
    assert commands(c) == [f"docker tag app:v1 {REGISTRY}/app:v1"]
    assert "Tagged" not in capsys.readouterr().out


def test_tag_missing_local_image_with_podman_advises_podman_build(
    fake_aws: type[FakeAws],
) -> None:
    c = make_context(
        run=Result(exited=125, stderr="Error: app:v1: image not known"),
        engine="podman",
        registry=REGISTRY,
        **WHERE,
    )
    with pytest.raises(Exit) as raised:
        tasks.tag(c, tag=["v1"], repo="app")
    assert raised.value.code == 1
    assert raised.value.message == (
        "ecr-tasks: local image app:v1 not found: build it first "
        "(podman build -t app:v1 .) or pass --image"
    )


def test_tag_missing_local_image_is_one_line(fake_aws: type[FakeAws]) -> None:
    c = make_context(
        run=Result(exited=1, stderr="Error response from daemon: No such image: app:v1"),
        registry=REGISTRY,
        **WHERE,
    )
    with pytest.raises(Exit) as raised:
        tasks.tag(c, tag=["v1"], repo="app")
    assert raised.value.code == 1
    assert "local image app:v1 not found" in raised.value.message
    assert "\n" not in raised.value.message


@pytest.mark.parametrize(
    ("call", "flags"),
    [
        pytest.param(tasks.uri, {"region": "eu-wset-1", "account": ACCOUNT}, id="uri-flag"),
        pytest.param(
            tasks.pull,
            {"image": f"{ACCOUNT}.dkr.ecr.eu-wset-1.amazonaws.com/app:v1"},
            id="pull-image-host",
        ),
        pytest.param(
            tasks.login,
            {"registry": [f"{ACCOUNT}.dkr.ecr.eu-wset-1.amazonaws.com"]},
            id="login-registry-host",
        ),
    ],
)
def test_an_unknown_region_is_one_line_with_the_nearest(call: Any, flags: dict) -> None:
    c = make_context()
    with pytest.raises(Exit) as raised:
        call(c, **flags)
    assert raised.value.code == 1
    assert raised.value.message.startswith(
        "ecr-tasks: invalid region 'eu-wset-1': not a region botocore's data lists "
        "(did you mean eu-west-1?); "
    )
    assert "\n" not in raised.value.message
    assert commands(c) == []


def test_an_unknown_region_passes_with_the_escape_hatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("ECR_TASKS_ALLOW_UNKNOWN_REGION", "1")
    tasks.uri(make_context(), region="ap-future-9", account=ACCOUNT, repo="app")
    assert capsys.readouterr().out == f"{ACCOUNT}.dkr.ecr.ap-future-9.amazonaws.com/app\n"


# -- push ---------------------------------------------------------------------------


def _inspect(host: str, repo: str, tags: list[str], exited: int = 1) -> dict[str, Result]:
    """The push's question whether each registry name exists locally: no, by default."""
    return {f"docker image inspect {host}/{repo}:{t}": Result(exited=exited) for t in tags}


def _push_run(host: str, repo: str, tags: list[str], source: str, digests: dict) -> dict:
    run: dict[str, Any] = _inspect(host, repo, tags)
    run |= {f"docker tag {source} {host}/{repo}:{t}": Result() for t in tags}
    for t in tags:
        ref = f"{host}/{repo}:{t}"
        run[f"docker push {ref}"] = Result(stdout=push_output(ref, t, digests[t]))
    return run


def test_push_no_verify(fake_aws: type[FakeAws], capsys: pytest.CaptureFixture) -> None:
    run = _push_run(
        REGISTRY, "my-app", ["v1", "latest"], "my-app:v1", {"v1": DIGEST, "latest": DIGEST}
    )
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    tasks.push(c, tag=["v1", "latest"], repo="my-app", no_verify=True)
    assert commands(c) == [
        f"docker image inspect {REGISTRY}/my-app:v1",
        f"docker image inspect {REGISTRY}/my-app:latest",
        f"docker tag my-app:v1 {REGISTRY}/my-app:v1",
        f"docker tag my-app:v1 {REGISTRY}/my-app:latest",
        f"docker push {REGISTRY}/my-app:v1",
        f"docker push {REGISTRY}/my-app:latest",
    ]
    assert capsys.readouterr().out == (
        f"Pushed {REGISTRY}/my-app:v1 {DIGEST}\nPushed {REGISTRY}/my-app:latest {DIGEST}\n"
    )


def test_push_image_flag(fake_aws: type[FakeAws], capsys: pytest.CaptureFixture) -> None:
    run = _push_run(ECR_HOST, "app", ["v1"], "build:123", {"v1": OTHER_DIGEST})
    c = make_context(run=run, **WHERE)
    tasks.push(c, tag=["v1"], image="build:123", repo="app", no_verify=True)
    assert commands(c)[1] == f"docker tag build:123 {ECR_HOST}/app:v1"
    assert capsys.readouterr().out == f"Pushed {ECR_HOST}/app:v1 {OTHER_DIGEST}\n"


def test_push_verifies_each_tag(
    capsys: pytest.CaptureFixture, fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []
    monkeypatch.setattr(
        registry_api, "manifest_digest", lambda host, repo, ref, *a: asked.append(ref) or DIGEST
    )
    run = _push_run(REGISTRY, "app", ["v1", "latest"], "app:v1", {"v1": DIGEST, "latest": DIGEST})
    tasks.push(make_context(run=run, registry=REGISTRY, **WHERE), tag=["v1", "latest"], repo="app")
    assert asked == ["v1", "latest"]
    assert capsys.readouterr().out.count("Pushed ") == 2


def test_push_digest_mismatch_fails(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_api, "manifest_digest", lambda *a: OTHER_DIGEST)
    run = _push_run(REGISTRY, "app", ["v1"], "app:v1", {"v1": DIGEST})
    with pytest.raises(Exit) as raised:
        tasks.push(make_context(run=run, registry=REGISTRY, **WHERE), tag=["v1"], repo="app")
    assert raised.value.code == 1
    assert raised.value.message.startswith("ecr-tasks: digest check failed")
    assert DIGEST in raised.value.message and OTHER_DIGEST in raised.value.message


def test_push_without_reported_digest_and_no_verify(
    fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    # podman prints no digest; with --no-verify nobody is asked, and the push
    # that did succeed is not turned into a failure.
    run = {
        f"podman image inspect {REGISTRY}/app:v1": Result(exited=125),
        f"podman tag app:v1 {REGISTRY}/app:v1": Result(),
        f"podman push {REGISTRY}/app:v1": Result(stdout="Writing manifest to image destination\n"),
    }
    c = make_context(run=run, registry=REGISTRY, engine="podman", **WHERE)
    tasks.push(c, tag=["v1"], repo="app", no_verify=True)
    assert capsys.readouterr().out == f"Pushed {REGISTRY}/app:v1\n"


def test_push_without_reported_digest_takes_the_registrys(
    capsys: pytest.CaptureFixture, fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []
    monkeypatch.setattr(
        registry_api, "manifest_digest", lambda host, repo, ref, *a: asked.append(ref) or DIGEST
    )
    run = {
        f"podman image inspect {REGISTRY}/app:v1": Result(exited=125),
        f"podman tag app:v1 {REGISTRY}/app:v1": Result(),
        f"podman push {REGISTRY}/app:v1": Result(stdout="Writing manifest to image destination\n"),
    }
    c = make_context(run=run, registry=REGISTRY, engine="podman", **WHERE)
    tasks.push(c, tag=["v1"], repo="app")
    assert asked == ["v1"]  # one question per tag, not two
    assert capsys.readouterr().out == f"Pushed {REGISTRY}/app:v1 {DIGEST}\n"


def test_push_tag_missing_from_the_registry_fails(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_api, "manifest_digest", lambda *a: None)
    run = _push_run(REGISTRY, "app", ["v1"], "app:v1", {"v1": DIGEST})
    with pytest.raises(Exit, match="the registry does not serve"):
        tasks.push(make_context(run=run, registry=REGISTRY, **WHERE), tag=["v1"], repo="app")


def test_push_dry_shows_the_login_and_calls_no_aws(capsys: pytest.CaptureFixture) -> None:
    c = make_context(run=Result(), dry=True, **WHERE)
    tasks.push(c, tag=["v1"], repo="app", create=True, immutable=True)
    assert commands(c) == [
        f"docker tag app:v1 {ECR_HOST}/app:v1",
        f"docker push {ECR_HOST}/app:v1",
    ]
    out = capsys.readouterr().out
    assert f"docker login --username AWS --password-stdin {ECR_HOST}" in out
    assert "Pushed" not in out and "Created" not in out


def test_push_create_makes_a_missing_repository(
    capsys: pytest.CaptureFixture, fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(self: FakeAws, region: str, account: str | None, repo: str) -> dict:
        raise RepositoryNotFound(f"repository {repo!r} not found")

    monkeypatch.setattr(FakeAws, "describe_repository", missing)
    run = _push_run(ECR_HOST, "app", ["v1"], "app:v1", {"v1": DIGEST})
    tasks.push(
        make_context(run=run, **WHERE),
        tag=["v1"],
        repo="app",
        create=True,
        immutable=True,
        scan_on_push=True,
        kms_key="alias/app",
        no_verify=True,
    )
    assert _aws_calls() == [
        (
            "create_repository",
            REGION,
            ACCOUNT,
            "app",
            {"immutable": True, "scan_on_push": True, "kms_key": "alias/app"},
        ),
        ("registry_tokens", REGION, (ACCOUNT,)),
    ]
    assert capsys.readouterr().out == (
        f"Created repository app\nPushed {ECR_HOST}/app:v1 {DIGEST}\n"
    )


def test_push_create_keeps_an_existing_repository(fake_aws: type[FakeAws]) -> None:
    run = _push_run(ECR_HOST, "app", ["v1"], "app:v1", {"v1": DIGEST})
    tasks.push(make_context(run=run, **WHERE), tag=["v1"], repo="app", create=True, no_verify=True)
    assert [call[0] for call in _aws_calls()] == ["describe_repository", "registry_tokens"]


def _stored_login(host: str, password: str) -> None:
    """What ``docker login`` leaves in DOCKER_CONFIG/config.json."""
    import base64
    import json
    import os

    config = Path(os.environ["DOCKER_CONFIG"])
    config.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"AWS:{password}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


@pytest.mark.parametrize("task", ["push", "pull", "tag"])
def test_a_task_logs_in_by_itself_only_when_the_engine_lacks_the_token(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], task: str
) -> None:
    from helpers import RecordingContext, make_config

    def run_task() -> None:
        c = RecordingContext(make_config(registry=REGISTRY, **WHERE))
        if task == "push":
            tasks.push(c, tag=["v1"], repo="app", no_verify=True)
        elif task == "pull":
            tasks.pull(c, tag="v1", repo="app")
        else:
            tasks.tag(c, tag=["v1"], repo="app")

    run_task()  # nothing stored: one token from AWS, one engine login
    assert [argv[:2] for argv, _ in offline.calls] == [["docker", "login"]]
    assert len(_aws_calls()) == 1
    # The engine now holds that very token (the fake engine writes nothing).
    _stored_login(REGISTRY, offline.calls[0][1])
    run_task()  # cached token, and the engine has it: no API call, no login
    assert len(offline.calls) == 1
    assert len(_aws_calls()) == 1
    _stored_login(REGISTRY, "an older token")
    run_task()  # the engine holds another token: log in again, from the cache
    assert len(offline.calls) == 2
    assert len(_aws_calls()) == 1


def test_push_logs_in_again_once_when_the_registry_rejects_a_cached_token(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    ref = f"{REGISTRY}/app:v1"
    tasks.login(make_context(registry=REGISTRY, **WHERE))  # the token is cached now
    capsys.readouterr()
    rejected = Result(exited=1, stderr="unauthorized: authentication required")
    run = {
        f"docker image inspect {ref}": Result(exited=1),
        f"docker tag app:v1 {ref}": Result(),
        f"docker push {ref}": [rejected, Result(stdout=push_output(ref, "v1"))],
    }
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    tasks.push(c, tag=["v1"], repo="app", no_verify=True)
    assert commands(c) == [
        f"docker image inspect {ref}",
        f"docker tag app:v1 {ref}",
        f"docker push {ref}",
        f"docker push {ref}",
    ]
    # login's, push's own (the fake engine stores nothing), then one more with a new token.
    assert [argv for argv, _ in offline.calls] == [
        ["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY]
    ] * 3
    assert len(_aws_calls()) == 2
    assert capsys.readouterr().out == f"Pushed {ref} {DIGEST}\n"


def test_a_token_fresh_from_aws_that_the_registry_rejects_is_not_fetched_again(
    offline: FakeEngineProcess, fake_aws: type[FakeAws]
) -> None:
    ref = f"{REGISTRY}/app:v1"
    rejected = Result(exited=1, stderr="unauthorized: authentication required")
    run = {
        f"docker image inspect {ref}": Result(exited=1),
        f"docker tag app:v1 {ref}": Result(),
        f"docker push {ref}": rejected,
        f"docker image rm {ref}": Result(),
    }
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit, match="registry rejected the credentials"):
        tasks.push(c, tag=["v1"], repo="app", no_verify=True)
    assert commands(c) == [
        f"docker image inspect {ref}",
        f"docker tag app:v1 {ref}",
        f"docker push {ref}",
        f"docker image rm {ref}",  # the name this push made goes again
    ]
    assert len(_aws_calls()) == 1


def test_push_rejected_twice_is_one_line(
    offline: FakeEngineProcess, fake_aws: type[FakeAws]
) -> None:
    ref = f"{REGISTRY}/app:v1"
    run = {
        f"docker image inspect {ref}": Result(exited=1),
        f"docker tag app:v1 {ref}": Result(),
        f"docker push {ref}": Result(
            exited=1, stderr="denied: Your authorization token has expired."
        ),
        f"docker image rm {ref}": Result(),
    }
    tasks.login(make_context(registry=REGISTRY, **WHERE))  # a cached token, then refused
    with pytest.raises(Exit) as raised:
        tasks.push(
            make_context(run=run, registry=REGISTRY, **WHERE),
            tag=["v1"],
            repo="app",
            no_verify=True,
        )
    assert "registry rejected the credentials" in raised.value.message
    # login's, push's own, and one with a fresh token after the refusal; no more.
    assert len(offline.calls) == 3
    assert len(_aws_calls()) == 2


def test_a_failed_push_removes_only_the_names_it_made(fake_aws: type[FakeAws]) -> None:
    made, kept = f"{REGISTRY}/app:v1", f"{REGISTRY}/app:latest"
    refused = Result(exited=1, stderr="name unknown: The repository with name 'app' does not exist")
    run = {
        f"docker image inspect {made}": Result(exited=1),
        f"docker image inspect {kept}": Result(),  # the user's own, from before
        f"docker tag app:v1 {made}": Result(),
        f"docker tag app:v1 {kept}": Result(),
        f"docker push {made}": refused,
        f"docker image rm {made}": Result(),
    }
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.push(c, tag=["v1", "latest"], repo="app", no_verify=True)
    assert raised.value.code == 1
    assert "\n" not in raised.value.message
    assert raised.value.message.startswith(f"ecr-tasks: repository for {made} not found")
    assert commands(c)[-1] == f"docker image rm {made}"
    assert f"docker image rm {kept}" not in commands(c)


def test_a_failed_push_of_a_bare_image_id_removes_nothing(fake_aws: type[FakeAws]) -> None:
    # Our name may be the only one an image id has: removing it would remove the image.
    ref = f"{REGISTRY}/app:v1"
    run = {
        f"docker tag 3f2a9c1b7d0e {ref}": Result(),
        f"docker push {ref}": Result(exited=1, stderr="something odd"),
    }
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit, match=r"docker push .* failed: something odd"):
        tasks.push(c, tag=["v1"], image="3f2a9c1b7d0e", repo="app", no_verify=True)
    assert commands(c) == [f"docker tag 3f2a9c1b7d0e {ref}", f"docker push {ref}"]


# -- pull --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "ref"),
    [
        pytest.param({"tag": "v1"}, f"{REGISTRY}/app:v1", id="tag"),
        pytest.param({}, f"{REGISTRY}/app:latest", id="default-latest"),
        pytest.param({"digest": DIGEST}, f"{REGISTRY}/app@{DIGEST}", id="digest"),
    ],
)
def test_pull(
    fake_aws: type[FakeAws], capsys: pytest.CaptureFixture, flags: dict, ref: str
) -> None:
    out = f"v1: Pulling from app\nDigest: {DIGEST}\nStatus: Downloaded newer image for {ref}\n"
    c = make_context(run={f"docker pull {ref}": Result(stdout=out)}, registry=REGISTRY, **WHERE)
    tasks.pull(c, repo="app", **flags)
    assert commands(c) == [f"docker pull {ref}"]
    assert capsys.readouterr().out == f"Pulled {ref} {DIGEST}\n"


def test_pull_missing_tag_is_one_line(fake_aws: type[FakeAws]) -> None:
    c = make_context(
        run=Result(
            exited=1,
            stderr="Error response from daemon: manifest for x not found: "
            "manifest unknown: Requested image not found",
        ),
        registry=REGISTRY,
        **WHERE,
    )
    with pytest.raises(Exit) as raised:
        tasks.pull(c, repo="app", tag="v9")
    assert raised.value.message == (
        f"ecr-tasks: {REGISTRY}/app:v9 not found in the registry: app holds no tagged image"
    )


MANIFEST_UNKNOWN = Result(
    exited=1,
    stderr="Error response from daemon: manifest for x not found: "
    "manifest unknown: Requested image not found",
)


def test_pull_missing_tag_names_the_nearest_tags_there(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    there = ["latest", "old", "release-2024", "v1", "v10", "v2", "v8"]
    monkeypatch.setattr(FakeAws, "image_tags", lambda self, *args: there)
    c = make_context(run=MANIFEST_UNKNOWN, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.pull(c, repo="app", tag="v9")
    assert raised.value.code == 1
    message = raised.value.message
    assert message.startswith(
        f"ecr-tasks: {REGISTRY}/app:v9 not found in the registry; tags there: "
    )
    listed = message.split("tags there: ")[1].removesuffix(", ...").split(", ")
    assert len(listed) == 5 and set(listed) <= set(there)
    assert set(listed[:4]) == {"v1", "v2", "v8", "v10"}  # the nearest first
    assert message.endswith(", ...")
    assert "\n" not in message


def test_pull_missing_tag_when_tags_cannot_be_listed_is_the_plain_line(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: FakeAws, *args: Any) -> list:
        raise aws.AwsError("access denied to ListImages in eu-west-1 (AccessDeniedException)")

    monkeypatch.setattr(FakeAws, "image_tags", refused)
    c = make_context(run=MANIFEST_UNKNOWN, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.pull(c, repo="app", tag="v9")
    assert raised.value.message == f"ecr-tasks: {REGISTRY}/app:v9 not found in the registry"


def test_pull_from_a_missing_repository_names_the_registry_and_gives_no_push_advice(
    fake_aws: type[FakeAws],
) -> None:
    c = make_context(
        run=Result(
            exited=1,
            stderr="Error response from daemon: repository 127.0.0.1:5000/app not found: "
            "name unknown: The repository with name 'app' does not exist in the registry "
            f"with id '{ACCOUNT}'",
        ),
        registry=REGISTRY,
        **WHERE,
    )
    with pytest.raises(Exit) as raised:
        tasks.pull(c, repo="app", tag="v1")
    assert raised.value.code == 1
    assert raised.value.message == (
        f"ecr-tasks: repository app does not exist in {REGISTRY}: "
        "check the name, account and region"
    )
    assert not [call for call in _aws_calls() if call[0] == "image_tags"]


# -- login ---------------------------------------------------------------------------------


def test_login_registry_override(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    c = make_context(registry=REGISTRY, **WHERE)
    tasks.login(c)
    assert offline.calls == [
        (
            ["docker", "login", "--username", "AWS", "--password-stdin", REGISTRY],
            f"{PASSWORD_PREFIX}{REGION}-{ECR_HOST}",
        )
    ]
    assert capsys.readouterr().out == f"Logged in to {REGISTRY}\n"
    assert commands(c) == []
    assert _aws_calls() == [("registry_tokens", REGION, (ACCOUNT,))]


def test_login_uses_the_cache_the_second_time(
    offline: FakeEngineProcess, fake_aws: type[FakeAws]
) -> None:
    c = make_context(registry=REGISTRY, **WHERE)
    tasks.login(c)
    tasks.login(c)
    assert len(_aws_calls()) == 1
    assert len(offline.calls) == 2
    tasks.login(c, no_cache=True)
    assert len(_aws_calls()) == 2


def test_login_own_account_from_the_token(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    tasks.login(make_context(region=REGION))
    assert offline.calls[0][0][-1] == ECR_HOST
    assert capsys.readouterr().out == f"Logged in to {ECR_HOST}\n"
    assert _aws_calls() == [("registry_tokens", REGION, ())]


def test_login_many_registries(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    tasks.login(make_context(), account=[ACCOUNT, OTHER_ACCOUNT], region=["us-east-1", "eu-west-1"])
    hosts = sorted(argv[-1] for argv, _ in offline.calls)
    expected = sorted(
        f"{a}.dkr.ecr.{r}.amazonaws.com"
        for a in (ACCOUNT, OTHER_ACCOUNT)
        for r in ("us-east-1", "eu-west-1")
    )
    assert hosts == expected
    assert sorted(capsys.readouterr().out.splitlines()) == [f"Logged in to {h}" for h in expected]
    # One API call per region, both accounts in it.
    assert sorted(_aws_calls()) == [
        ("registry_tokens", "eu-west-1", (ACCOUNT, OTHER_ACCOUNT)),
        ("registry_tokens", "us-east-1", (ACCOUNT, OTHER_ACCOUNT)),
    ]
    for argv, stdin in offline.calls:
        assert stdin.startswith(PASSWORD_PREFIX)
        assert not any(PASSWORD_PREFIX in arg for arg in argv)


def test_login_to_another_account_does_not_become_the_default(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    # inv login --account OTHER uri: uri names the caller's own registry, which
    # only STS can tell, not the other account the login went to.
    c = make_context(region=REGION)
    tasks.login(c, account=[OTHER_ACCOUNT])
    tasks.uri(c)
    assert capsys.readouterr().out.splitlines()[-1] == ECR_HOST
    assert _aws_calls() == [
        ("registry_tokens", REGION, (OTHER_ACCOUNT,)),
        ("caller_account", REGION),
    ]


def test_login_one_failure_does_not_hide_the_others(
    offline: FakeEngineProcess,
    fake_aws: type[FakeAws],
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def run(argv: list[str], input: str | None = None, **kwargs: Any) -> Any:
        offline.calls.append((argv, input))
        failing = "us-east-1" in argv[-1]
        return offline.__class__(1 if failing else 0, "dial tcp: i/o timeout").run(argv, input)

    monkeypatch.setattr(offline, "run", run)
    with pytest.raises(Exit) as raised:
        tasks.login(make_context(account=ACCOUNT), region=["us-east-1", "eu-west-1"])
    assert raised.value.code == 1
    assert raised.value.message == "ecr-tasks: 1 of 2 logins failed"
    captured = capsys.readouterr()
    assert captured.out == f"Logged in to {ECR_HOST}\n"
    assert captured.err.count("\n") == 1
    assert "us-east-1" in captured.err and "unreachable" in captured.err


def test_login_a_region_whose_token_fetch_fails_is_one_line_and_the_others_log_in(
    offline: FakeEngineProcess,
    fake_aws: type[FakeAws],
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No --account: the failed region's host would come from its token.
    real = fake_aws.registry_tokens

    def registry_tokens(self: FakeAws, region: str, accounts: list[str]) -> list[Token]:
        if region == "us-east-1":
            raise AwsError("GetAuthorizationToken in us-east-1 failed: ThrottlingException")
        return real(self, region, accounts)

    monkeypatch.setattr(fake_aws, "registry_tokens", registry_tokens)
    with pytest.raises(Exit) as raised:
        tasks.login(make_context(), region=["us-east-1", "eu-west-1"])
    assert raised.value.message == "ecr-tasks: 1 of 2 logins failed"
    captured = capsys.readouterr()
    assert captured.out == f"Logged in to {ECR_HOST}\n"
    assert captured.err.count("\n") == 1 and "ThrottlingException" in captured.err


def test_login_public(
    offline: FakeEngineProcess,
    fake_aws: type[FakeAws],
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "noregion")  # no region: only ECR Public
    tasks.login(make_context(), public=True)
    assert [argv[-1] for argv, _ in offline.calls] == ["public.ecr.aws"]
    assert _aws_calls() == [("public_token", "public.ecr.aws")]
    assert capsys.readouterr().out == "Logged in to public.ecr.aws\n"


@pytest.mark.parametrize("dry", [False, True], ids=["run", "dry"])
def test_login_helper_with_a_registry_override_is_refused_first(
    offline: FakeEngineProcess, dry: bool
) -> None:
    # No AWS client may be built (NoAws), so no token is fetched or cached.
    c = make_context(dry=dry, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.login(c, helper=True)
    assert raised.value.code == 1
    message = raised.value.message
    assert "\n" not in message
    assert message.startswith(
        f"ecr-tasks: --helper needs ECR's real registry host names, and {REGISTRY}"
    )
    assert "--real-hosts" in message
    assert offline.calls == [] and commands(c) == []


def test_push_with_the_helper_setting_and_a_registry_override_is_refused_first(
    offline: FakeEngineProcess,
) -> None:
    c = make_context(registry=REGISTRY, helper=True, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.push(c, tag=["v1"], repo="app", no_verify=True)
    assert "--helper needs ECR's real registry host names" in raised.value.message
    assert offline.calls == [] and commands(c) == []


def test_login_dry_calls_nothing(offline: FakeEngineProcess, capsys: pytest.CaptureFixture) -> None:
    c = make_context(dry=True, registry=REGISTRY, **WHERE)
    tasks.login(c)  # NoAws: building a client would fail the test
    assert offline.calls == []
    out = capsys.readouterr().out
    assert f"docker login --username AWS --password-stdin {REGISTRY}" in out
    assert "Logged in" not in out


def test_login_registry_with_several_targets_is_refused(offline: FakeEngineProcess) -> None:
    with pytest.raises(Exit, match=r"ecr\.registry names one registry"):
        tasks.login(make_context(registry=REGISTRY), region=["us-east-1", "eu-west-1"])
    assert offline.calls == []


def test_login_without_region(
    offline: FakeEngineProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "noregion")
    with pytest.raises(Exit, match="no AWS region"):
        tasks.login(make_context())
    assert offline.calls == []


# -- bad input: one line, exit 1, nothing run -------------------------------------------------

BAD = [
    ("tag", {"tag": ["-v1"]}, {}, "'-v1'"),
    ("tag", {"tag": ["v1;id"]}, {}, "'v1;id'"),
    ("tag", {"tag": []}, {}, "no tag"),
    ("tag", {"tag": None}, {}, "no tag"),
    ("tag", {"tag": ["v1"], "repo": "My_App"}, {}, "'My_App'"),
    ("tag", {"tag": ["v1"], "image": "--force"}, {}, "'--force'"),
    ("tag", {"tag": ["v1"], "image": "$(id)"}, {}, "'$(id)'"),
    ("tag", {"tag": ["v1"], "account": "12345"}, {}, "'12345'"),
    ("tag", {"tag": ["v1"], "region": "mars-1"}, {}, "'mars-1'"),
    ("tag", {"tag": ["v1"], "profile": "nope"}, {}, "'nope'"),
    ("tag", {"tag": ["v1"]}, {"repo": None}, "no repository"),
    ("tag", {"tag": ["v1"]}, {"repo": "UPPER"}, "'UPPER'"),
    ("tag", {"tag": ["v1"]}, {"registry": "http://x"}, "'http://x'"),
    ("tag", {"tag": ["v1"]}, {"engine": "sh -c id"}, "'sh -c id'"),
    ("tag", {"tag": ["v1"]}, {"fips": "perhaps"}, "'perhaps'"),
    ("tag", {"tag": ["v1"]}, {"colour": "red"}, "'ecr.colour'"),
    ("push", {"tag": ["v 1"]}, {}, "'v 1'"),
    ("push", {"tag": ["v1"], "immutable": True}, {}, "only apply with --create"),
    ("push", {"tag": ["v1"], "scan_on_push": True}, {}, "only apply with --create"),
    ("push", {"tag": ["v1"], "kms_key": "alias/x"}, {}, "only apply with --create"),
    ("push", {"tag": ["v1"], "create": True, "kms_key": "a b"}, {}, "'a b'"),
    ("push", {"tag": ["v1"], "image": "app:"}, {}, "'app:'"),
    ("push", {"tag": ["v1"], "repo": "-app"}, {}, "'-app'"),
    ("pull", {"tag": "v1", "digest": DIGEST}, {}, "not both"),
    ("pull", {"tag": "..."}, {}, "'...'"),
    ("pull", {"digest": "sha256:abc"}, {}, "'sha256:abc'"),
    ("pull", {"digest": "latest"}, {}, "'latest'"),
    ("pull", {"account": "1234567890123"}, {}, "'1234567890123'"),
    ("uri", {"tag": "-x"}, {}, "'-x'"),
    ("uri", {"region": "us-east-1 "}, {}, "'us-east-1 '"),
    ("uri", {"repo": "a"}, {}, "'a'"),
    ("uri", {"digest": True}, {"repo": None}, "no repository"),
    ("login", {"region": ["us-east-1", "nowhere-1"]}, {}, "'nowhere-1'"),
    ("login", {"account": ["x"]}, {}, "'x'"),
    ("login", {"profile": "-p"}, {}, "'-p'"),
    ("login", {}, {"public_registry": "not a host"}, "'not a host'"),
    ("login", {}, {"cache": "sometimes"}, "'sometimes'"),
]


@pytest.mark.parametrize(
    ("name", "flags", "ecr", "named"),
    [pytest.param(*case, id=f"{case[0]}-{case[3]}") for case in BAD],
)
def test_bad_input(
    offline: FakeEngineProcess, name: str, flags: dict, ecr: dict, named: str
) -> None:
    c = make_context(**{"registry": REGISTRY, "repo": "app", **WHERE, **ecr})
    with pytest.raises(Exit) as raised:
        getattr(tasks, name)(c, **flags)
    message = raised.value.message
    assert raised.value.code == 1
    assert message.startswith("ecr-tasks: ")
    assert "\n" not in message
    assert named in message
    assert commands(c) == []
    assert offline.calls == []


def test_every_task_has_help_for_every_flag() -> None:
    for name in tasks.ns.task_names:
        task = tasks.ns[name]
        saved = dict(task.help)  # get_arguments() moves the help out of the task
        try:
            for argument in task.get_arguments():
                assert argument.help, f"{name} --{argument.name}"
        finally:
            task.help = saved


def test_collection_declares_every_setting() -> None:
    from ecr_tasks import settings

    assert tasks.ns.configuration()["ecr"] == settings.DEFAULTS


def test_bad_engine_output_never_shows_a_traceback(fake_aws: type[FakeAws]) -> None:
    c = make_context(
        run=Result(exited=3, stderr="panic: runtime error\ngoroutine 1 [running]:"),
        registry=REGISTRY,
        **WHERE,
    )
    with pytest.raises(Exit) as raised:
        tasks.pull(c, repo="app")
    assert re.fullmatch(
        r"ecr-tasks: docker pull \S+ failed: goroutine 1 \[running\]:", raised.value.message
    )


# -- logout ------------------------------------------------------------------------


def test_logout_runs_the_engine_logout_and_drops_every_entry_for_the_registry(
    capsys: pytest.CaptureFixture, fake_aws: type[FakeAws]
) -> None:
    from ecr_tasks.settings import resolve
    from ecr_tasks.token_source import Target, TokenSource

    regs = TokenSource(resolve({"region": REGION}))
    # One login without --account, one with: two entries for one registry.
    regs.tokens([Target(REGION)])
    regs.tokens([Target(REGION, ACCOUNT)])
    assert regs.cache.get(regs.key(Target(REGION))) is not None
    c = make_context(run={f"docker logout {ECR_HOST}": Result()}, region=REGION)
    tasks.logout(c, registry=[ECR_HOST])
    assert commands(c) == [f"docker logout {ECR_HOST}"]
    assert capsys.readouterr().out == f"Logged out of {ECR_HOST}\n"
    assert regs.cache.get(regs.key(Target(REGION))) is None
    assert regs.cache.get(regs.key(Target(REGION, ACCOUNT))) is None


def test_logout_of_a_registry_podman_was_not_logged_in_to(capsys: pytest.CaptureFixture) -> None:
    not_in = Result(exited=125, stderr=f"Error: not logged into {ECR_HOST}")
    c = make_context(run={f"podman logout {ECR_HOST}": not_in}, engine="podman", **WHERE)
    tasks.logout(c)
    assert capsys.readouterr().out == f"Logged out of {ECR_HOST}\n"


def test_logout_that_fails_is_one_line() -> None:
    down = Result(exited=1, stderr="Cannot connect to the Docker daemon at unix:///x.sock")
    c = make_context(run={f"docker logout {ECR_HOST}": down}, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.logout(c)
    assert "daemon is not running" in raised.value.message
    assert "\n" not in raised.value.message


def test_logout_dry_asks_no_aws(capsys: pytest.CaptureFixture) -> None:
    c = make_context(run=Result(), dry=True, region=REGION)
    tasks.logout(c, public=True)
    assert commands(c) == [
        f"docker logout '<account>.dkr.ecr.{REGION}.amazonaws.com'",
        "docker logout public.ecr.aws",
    ]
    assert "Logged out" not in capsys.readouterr().out


# -- no silent loss ------------------------------------------------------------------

INDEX = registry_api.Manifest(DIGEST, is_index=True)


@pytest.mark.parametrize("force", [False, True], ids=["refused", "forced"])
def test_push_over_a_multi_platform_index(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    force: bool,
) -> None:
    monkeypatch.setattr(registry_api, "manifest", lambda host, repo, tag, *a: INDEX)
    entries = [("linux/amd64", DIGEST), ("linux/arm64", OTHER_DIGEST), ("linux/amd64", None)]
    monkeypatch.setattr(registry_api, "index_entries", lambda *a: entries)
    run = _push_run(REGISTRY, "app", ["v1"], "app:v1", {"v1": OTHER_DIGEST})
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    if not force:
        with pytest.raises(Exit) as raised:
            tasks.push(c, tag=["v1"], repo="app", no_verify=True)
        assert raised.value.message == (
            "ecr-tasks: tag 'v1' in app holds a multi-platform image index "
            "(linux/amd64, linux/arm64): pushing one image over it would drop them; "
            "pass --force to push anyway"
        )
        assert commands(c) == []  # nothing tagged, nothing pushed
    else:
        tasks.push(c, tag=["v1"], repo="app", no_verify=True, force=True)
        assert f"docker push {REGISTRY}/app:v1" in commands(c)


def test_push_over_a_single_image_needs_no_force(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    single = registry_api.Manifest(DIGEST, is_index=False)
    monkeypatch.setattr(registry_api, "manifest", lambda *a: single)
    run = _push_run(REGISTRY, "app", ["v1"], "app:v1", {"v1": OTHER_DIGEST})
    c = make_context(run=run, registry=REGISTRY, **WHERE)
    tasks.push(c, tag=["v1"], repo="app", no_verify=True)
    assert f"docker push {REGISTRY}/app:v1" in commands(c)


@pytest.mark.parametrize(
    ("found", "asked", "expected"),
    [
        pytest.param({"imageTagMutability": "MUTABLE"}, {"immutable": True},
                     ["mutable tags, not the immutable ones asked for"], id="mutable"),
        pytest.param({"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}, {"immutable": True}, [],
                     id="immutable-with-exclusions"),
        pytest.param({"imageScanningConfiguration": {"scanOnPush": False}},
                     {"scan_on_push": True}, ["scan on push off, not on"], id="scan-off"),
        pytest.param({"encryptionConfiguration": {"encryptionType": "AES256"}},
                     {"kms_key": "k-1"}, ["AES256 encryption, not KMS key k-1"], id="aes"),
        pytest.param(
            {"encryptionConfiguration": {"encryptionType": "KMS",
                                         "kmsKey": "arn:aws:kms:eu-west-1:1:key/k-2"}},
            {"kms_key": "k-1"}, ["KMS key arn:aws:kms:eu-west-1:1:key/k-2, not k-1"],
            id="other-key"),
        pytest.param(
            {"encryptionConfiguration": {"encryptionType": "KMS",
                                         "kmsKey": "arn:aws:kms:eu-west-1:1:key/k-1"}},
            {"kms_key": "k-1"}, [], id="same-key-by-id"),
        pytest.param({"imageTagMutability": "MUTABLE"}, {}, [], id="nothing-asked"),
    ],
)  # fmt: skip
def test_create_settings_differences(found: dict, asked: dict, expected: list[str]) -> None:
    flags = {"immutable": False, "scan_on_push": False, "kms_key": None, **asked}
    assert registry_checks.settings_differences(found, **flags) == expected


def test_push_create_immutable_into_a_mutable_repository_stops_before_anything(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        FakeAws, "describe_repository", lambda *a: {"imageTagMutability": "MUTABLE"}
    )
    c = make_context(run={}, registry=REGISTRY, **WHERE)
    with pytest.raises(Exit) as raised:
        tasks.push(c, tag=["v1"], repo="app", create=True, immutable=True)
    assert raised.value.message == (
        "ecr-tasks: repository app already exists with mutable tags, not the immutable ones "
        "asked for: change it in ECR or drop those flags; nothing was pushed"
    )
    assert commands(c) == []


def test_pull_with_an_engine_that_prints_no_digest_asks_the_registry(
    fake_aws: type[FakeAws], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    asked = []
    monkeypatch.setattr(
        registry_api, "manifest_digest", lambda host, repo, ref, *a: asked.append(ref) or DIGEST
    )
    ref = f"{REGISTRY}/app:v1"
    image_id = "1ee1ebf21770d25777d5abd78f623d4ec9221a21ad78ed30893fd66ae9ba637a\n"
    c = make_context(
        run={f"podman pull {ref}": Result(stdout=image_id)},
        registry=REGISTRY,
        engine="podman",
        **WHERE,
    )
    tasks.pull(c, repo="app", tag="v1")
    assert asked == ["v1"]
    assert capsys.readouterr().out == f"Pulled {ref} {DIGEST}\n"


def test_login_runs_no_engine_command_when_the_engine_holds_the_cached_token(
    offline: FakeEngineProcess, fake_aws: type[FakeAws], capsys: pytest.CaptureFixture
) -> None:
    tasks.login(make_context(registry=REGISTRY, **WHERE))
    assert len(offline.calls) == 1
    _stored_login(REGISTRY, offline.calls[0][1])  # what the engine wrote
    tasks.login(make_context(registry=REGISTRY, **WHERE))
    assert len(offline.calls) == 1, "the engine already held that token"
    assert len(_aws_calls()) == 1
    tasks.login(make_context(registry=REGISTRY, **WHERE), no_cache=True)
    assert len(offline.calls) == 2, "--no-cache logs in afresh"
    assert len(_aws_calls()) == 2
    assert capsys.readouterr().out == f"Logged in to {REGISTRY}\n" * 3
