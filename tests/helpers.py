"""Pieces the unit tests share: contexts, fakes for AWS and the engine, and
an AWS environment of our own so no test reads the machine's; and for the
end-to-end tests too, a way to age a token cache entry without waiting.

Nothing here touches the network, AWS or a real container engine.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any, ClassVar

from invoke import Config, MockContext, Result

from ecr_tasks import login as login_module
from ecr_tasks import ns, token_source
from ecr_tasks.cache import Token

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "eu-west-1"
REGISTRY = "127.0.0.1:5000"
DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32
PASSWORD_PREFIX = "pw-s3cret-"

AWS_CONFIG = """\
[default]
region = eu-central-1

[profile dev]
region = ap-southeast-2

[profile noregion]
output = json
"""

AWS_CREDENTIALS = """\
[default]
aws_access_key_id = AKIADEFAULT0000000000
aws_secret_access_key = default-secret

[dev]
aws_access_key_id = AKIADEV0000000000000
aws_secret_access_key = dev-secret
"""


def write_aws_files(directory: Path) -> dict[str, str]:
    """An AWS config and credentials file; the variables that point at them."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "aws-config"
    credentials = directory / "aws-credentials"
    config.write_text(AWS_CONFIG)
    credentials.write_text(AWS_CREDENTIALS)
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


def isolate(monkeypatch: Any, directory: Path) -> None:
    """Give the test process an AWS setup, cache and engine of its own.

    Works with ``pytest.MonkeyPatch`` from a fixture of any scope.
    """
    for name in list(os.environ):
        if name.startswith(("AWS_", "INVOKE_", "DOCKER_")):
            monkeypatch.delenv(name)
    for name, value in write_aws_files(directory / "aws").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(directory / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(directory / "docker"))
    # Accounts learnt by one test must not leak into the next.
    monkeypatch.setattr(token_source, "_known_accounts", {})
    monkeypatch.setattr(login_module, "_shown_logins", set())


def make_config(dry: bool = False, echo: bool = False, **ecr: Any) -> Config:
    """An invoke Config holding our collection's defaults plus ``ecr``."""
    config = Config()
    config.load_collection(ns.configuration())
    for key, value in ecr.items():
        config.ecr[key] = value
    config.run.dry = dry
    config.run.echo = echo
    return config


def make_context(run: Any = None, dry: bool = False, **ecr: Any) -> MockContext:
    """A MockContext that answers only the commands in ``run`` (none by default)."""
    return MockContext(config=make_config(dry=dry, **ecr), run={} if run is None else run)


def commands(c: MockContext) -> list[str]:
    """Every command line the context was asked to run, in order."""
    return [call.args[0] for call in c.run.call_args_list]


def push_output(ref: str, tag: str, digest: str = DIGEST) -> str:
    """What ``docker push`` prints for one tag."""
    repo = ref.rsplit(":", 1)[0]
    return (
        f"The push refers to repository [{repo}]\n"
        "5f70bf18a086: Preparing\n"
        "5f70bf18a086: Pushed\n"
        f"{tag}: digest: {digest} size: 528\n"
    )


class RecordingContext(MockContext):
    """A MockContext that answers every command and records it.

    ``docker push REF`` answers with push output carrying :data:`DIGEST`;
    ``docker pull REF`` answers with a ``Digest:`` line; anything else
    succeeds with no output.
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config=config)
        self._set("recorded", [])

    def run(self, command: str, *args: Any, **kwargs: Any) -> Result:
        self.recorded.append(command)
        words = command.split()
        if len(words) == 3 and words[1] == "push":
            ref = words[2]
            return Result(stdout=push_output(ref, ref.rsplit(":", 1)[-1]), command=command)
        if len(words) == 3 and words[1] == "pull":
            return Result(stdout=f"Digest: {DIGEST}\nStatus: Downloaded\n", command=command)
        return Result(command=command)


def read_cache_entry(path: Path) -> dict[str, Any]:
    """A token cache entry's fields (the times as numbers, the header's
    number as ``format``), read as an independent check of ecr_tasks.cache."""
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    entry: dict[str, Any] = dict(line.split("=", 1) for line in lines)
    entry["format"] = int(header.removeprefix("ecr-tasks token cache "))
    for name in ("expires_at", "issued_at"):
        entry[name] = float(entry[name]) if _number(entry[name]) else entry[name]
    return entry


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_cache_entry(path: Path, entry: dict[str, Any]) -> None:
    """Write ``entry`` (as :func:`read_cache_entry` gives it) back to ``path``."""
    lines = [f"ecr-tasks token cache {entry['format']}"]
    lines += [f"{name}={value}" for name, value in entry.items() if name != "format"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def age_cache_entry(path: Path, seconds: float) -> dict[str, Any]:
    """Make the token cache entry at ``path`` look ``seconds`` older: its
    ``issued_at`` and ``expires_at`` both move back, so the same token looks
    further into its life (or past its end) without waiting. The file keeps
    its mode; the rewritten entry is returned."""
    entry = read_cache_entry(path)
    entry["issued_at"] -= seconds
    entry["expires_at"] -= seconds
    write_cache_entry(path, entry)
    return entry


def token_for(host: str, region: str, now: float | None = None) -> Token:
    now = time.time() if now is None else now
    return Token(host, "AWS", f"{PASSWORD_PREFIX}{region}-{host}", now + 43200, now)


class FakeAws:
    """Stands in for :class:`ecr_tasks.aws.Aws`: deterministic tokens, no network."""

    instances: ClassVar[list[FakeAws]] = []

    def __init__(self, profile: str | None = None) -> None:
        self.profile = profile
        self.calls: list[tuple] = []
        FakeAws.instances.append(self)

    def registry_tokens(self, region: str, accounts: list[str]) -> list[Token]:
        self.calls.append(("registry_tokens", region, tuple(accounts)))
        return [
            token_for(f"{account}.dkr.ecr.{region}.amazonaws.com", region)
            for account in (accounts or [ACCOUNT])
        ]

    def public_token(self, host: str) -> Token:
        self.calls.append(("public_token", host))
        return token_for(host, "us-east-1")

    def caller_account(self, region: str) -> str:
        self.calls.append(("caller_account", region))
        return ACCOUNT

    def caller_arn(self, region: str) -> str:
        self.calls.append(("caller_arn", region))
        return f"arn:aws:iam::{ACCOUNT}:user/tester"

    def describe_repository(self, region: str, account: str | None, repo: str) -> dict:
        self.calls.append(("describe_repository", region, account, repo))
        return {"repositoryName": repo}

    def create_repository(self, region: str, account: str | None, repo: str, **kw: Any) -> dict:
        self.calls.append(("create_repository", region, account, repo, kw))
        return {"repositoryName": repo}

    def image_tags(self, region: str, account: str | None, repo: str, limit: int = 100) -> list:
        self.calls.append(("image_tags", region, account, repo))
        return []


class NoAws:
    """An :class:`ecr_tasks.aws.Aws` that fails the test if anything builds it."""

    def __init__(self, profile: str | None = None) -> None:
        raise AssertionError("an AWS client was built where none was needed")


class FakeEngineProcess:
    """Stands in for the ``subprocess`` module inside :mod:`ecr_tasks.engine`.

    Records each ``(argv, stdin)`` that ``engine.login`` would run.
    """

    TimeoutExpired = subprocess.TimeoutExpired

    def __init__(self, returncode: int = 0, stderr: str = "", stdout: str = "") -> None:
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        self.calls: list[tuple[list[str], str | None]] = []

    def run(self, argv: list[str], input: str | None = None, **kwargs: Any) -> Any:
        self.calls.append((list(argv), input))
        return subprocess.CompletedProcess(argv, self.returncode, self.stdout, self.stderr)
