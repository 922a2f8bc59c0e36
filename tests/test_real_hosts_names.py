"""The names real-hosts mode answers under are computed as the commands inside
will compute them: without the user's variables the stand-in drops for them."""

from __future__ import annotations

import os

import pytest

from ecr_tasks.standin import __main__ as standin_main
from ecr_tasks.standin import realhosts

USER_SHELL = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:5056",
    "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:5057",
    "AWS_PROFILE": "nobody-here",
    "INVOKE_ECR_REGISTRY": "127.0.0.1:5000",
}


@pytest.fixture
def user_shell(monkeypatch: pytest.MonkeyPatch, tmp_path) -> dict[str, str]:
    """A shell left set up for the default mode, with a profile of its own."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "INVOKE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name, value in USER_SHELL.items():
        monkeypatch.setenv(name, value)
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "INVOKE_"))}


def aws_and_invoke() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "INVOKE_"))}


def test_api_names_ignore_the_dropped_variables(user_shell: dict[str, str]) -> None:
    names = realhosts.api_hosts("us-east-1")
    assert "api.ecr.us-east-1.amazonaws.com" in names
    assert "ecr-fips.us-east-1.amazonaws.com" in names
    # STS's name is botocore's: regional from 1.38 or so, global before.
    assert {"sts.us-east-1.amazonaws.com", "sts.amazonaws.com"} & set(names)
    assert "api.ecr-public.us-east-1.amazonaws.com" in names
    assert not [name for name in names if name.startswith("127.")]
    assert aws_and_invoke() == user_shell  # the variables are back afterwards


def test_the_same_names_as_in_a_clean_shell(
    user_shell: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_them = realhosts.api_hosts("eu-west-1")
    for name in USER_SHELL:
        monkeypatch.delenv(name)
    assert realhosts.api_hosts("eu-west-1") == with_them


def test_registry_names_ignore_them_too(user_shell: dict[str, str]) -> None:
    names = realhosts.registry_hosts("123456789012", "us-east-1")
    assert names[0] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert "127.0.0.1:5000" not in names


def test_the_names_drop_what_commands_drop() -> None:
    assert standin_main._DROPPED_FOR_COMMAND is realhosts.DROPPED_FOR_COMMAND
    for name in USER_SHELL:
        assert name.startswith(realhosts.DROPPED_FOR_COMMAND)


def test_the_variables_come_back_after_an_error(user_shell: dict[str, str]) -> None:
    with pytest.raises(RuntimeError), realhosts.without_dropped_variables():
        assert "AWS_ENDPOINT_URL" not in os.environ
        raise RuntimeError("boom")
    assert aws_and_invoke() == user_shell
