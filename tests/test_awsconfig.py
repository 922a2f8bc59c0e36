"""Reading the AWS config files, and the principal hint the token cache keys on."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecr_tasks import awsconfig


def _files(tmp_path: Path, config: str = "", credentials: str = "") -> dict[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    return {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }


ROLE_CONFIG = """\
[profile deploy]
role_arn = arn:aws:iam::123456789012:role/deploy
source_profile = base

[profile other-role]
role_arn = arn:aws:iam::123456789012:role/other
source_profile = base

[profile deploy-via-ops]
role_arn = arn:aws:iam::123456789012:role/deploy
source_profile = ops
"""

BASE_KEYS = """\
[base]
aws_access_key_id = {key}
aws_secret_access_key = {secret}

[ops]
aws_access_key_id = AKIAOPS
aws_secret_access_key = ops-secret

[alice]
aws_access_key_id = AKIAALICE
aws_secret_access_key = alice-secret

[bob]
aws_access_key_id = AKIABOB
aws_secret_access_key = bob-secret
"""


def _role_env(tmp_path: Path, key: str = "AKIABASE", secret: str = "") -> dict:
    keys = BASE_KEYS.format(key=key, secret=secret or "base-secret")
    return _files(tmp_path, ROLE_CONFIG, keys)


# -- reading the files -------------------------------------------------------


def test_profile_settings_merges_both_files(tmp_path: Path) -> None:
    env = _files(
        tmp_path,
        "[default]\nregion = eu-west-1\n[profile dev]\nregion = us-east-1\noutput = json\n",
        "[dev]\naws_access_key_id = AKIADEV\nregion = ignored-because-config-wins\n",
    )
    assert awsconfig.profile_settings("dev", env) == {
        "region": "us-east-1",
        "output": "json",
        "aws_access_key_id": "AKIADEV",
    }
    assert awsconfig.profile_region("dev", env) == "us-east-1"
    assert awsconfig.profile_region(None, env) == "eu-west-1"
    assert awsconfig.profile_settings("dev", env) is not None
    assert awsconfig.profile_settings("nope", env) is None
    assert awsconfig.profile_settings("nope", env) is None


def test_profile_names_from_both_files(tmp_path: Path) -> None:
    env = _files(
        tmp_path,
        "[default]\n[profile dev]\n[profile  spaced ]\n[sso-session corp]\n[services x]\n",
        "[ci]\naws_access_key_id = AKIACI\n[dev]\n",
    )
    # sso-session and services sections are not profiles.
    assert awsconfig.profile_names(env) == ["ci", "default", "dev", "spaced"]


def test_default_profile_also_read_from_bare_section(tmp_path: Path) -> None:
    env = _files(tmp_path, "[profile default]\nregion = sa-east-1\n")
    assert awsconfig.profile_region("default", env) == "sa-east-1"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"no section header\nregion = x\n", id="no-header"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"[profile x\nregion", id="broken-header"),
    ],
)
def test_unreadable_config_counts_as_empty(tmp_path: Path, content: bytes) -> None:
    env = _files(tmp_path)
    Path(env["AWS_CONFIG_FILE"]).write_bytes(content)
    assert awsconfig.profile_settings("x", env) is None
    assert awsconfig.profile_region(None, env) is None


def test_missing_files(tmp_path: Path) -> None:
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "nope"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "nope2"),
    }
    assert awsconfig.profile_settings("default", env) is None


def test_file_locations_follow_the_cli(tmp_path: Path) -> None:
    assert awsconfig.config_path({}) == str(Path("~/.aws/config"))
    assert awsconfig.credentials_path({}) == str(Path("~/.aws/credentials"))
    env = _files(tmp_path)
    assert awsconfig.config_path(env) == env["AWS_CONFIG_FILE"]
    assert awsconfig.credentials_path(env) == env["AWS_SHARED_CREDENTIALS_FILE"]


# -- principal_hint ----------------------------------------------------------


def test_env_keys_name_the_principal_without_the_secret(tmp_path: Path) -> None:
    env = {
        **_files(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIAENV",
        "AWS_SECRET_ACCESS_KEY": "env-secret-value",
        "AWS_SESSION_TOKEN": "env-session-token",
    }
    hint = awsconfig.principal_hint(None, env)
    assert hint == "env-key:AKIAENV"
    other = awsconfig.principal_hint(None, {**env, "AWS_ACCESS_KEY_ID": "AKIAOTHER"})
    assert other != hint


def test_refreshed_env_secret_keeps_the_hint(tmp_path: Path) -> None:
    env = {**_files(tmp_path), "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "a"}
    refreshed = {**env, "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": "c"}
    assert awsconfig.principal_hint(None, env) == awsconfig.principal_hint(None, refreshed)


def test_explicit_profile_beats_env_keys(tmp_path: Path) -> None:
    # botocore ignores environment keys once a profile is named explicitly.
    env = {**_role_env(tmp_path), "AWS_ACCESS_KEY_ID": "AKIAENV"}
    assert awsconfig.principal_hint("alice", env).startswith("profile:alice;")


def test_web_identity(tmp_path: Path) -> None:
    env = {
        **_files(tmp_path),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token"),
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci",
    }
    hint = awsconfig.principal_hint(None, env)
    assert hint == "web-identity:arn:aws:iam::123456789012:role/ci"
    # A new OIDC token in a new file is still the same role.
    moved = {**env, "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token2")}
    assert awsconfig.principal_hint(None, moved) == hint
    other_role = {**env, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/other"}
    assert awsconfig.principal_hint(None, other_role) != hint


def test_explicit_profile_beats_web_identity(tmp_path: Path) -> None:
    # botocore drops the web-identity environment variables when a profile is
    # named explicitly: a login with --profile alice is alice, not the CI role.
    env = {
        **_role_env(tmp_path),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token"),
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci",
    }
    assert awsconfig.principal_hint("alice", env) != awsconfig.principal_hint(None, env)
    assert "AKIAALICE" in awsconfig.principal_hint("alice", env)


def test_role_profile_from_aws_profile_beats_web_identity(tmp_path: Path) -> None:
    # A profile with role_arn and source_profile is resolved before the
    # web-identity variables, also when AWS_PROFILE names it.
    env = {
        **_role_env(tmp_path),
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token"),
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci",
    }
    hint = awsconfig.principal_hint(None, {**env, "AWS_PROFILE": "deploy"})
    assert "role/deploy" in hint
    assert "role/ci" not in hint


def test_two_profiles_give_two_hints(tmp_path: Path) -> None:
    env = _role_env(tmp_path)
    hints = {awsconfig.principal_hint(p, env) for p in ("alice", "bob", "deploy", "other-role")}
    assert len(hints) == 4


def test_aws_profile_counts_like_a_flag(tmp_path: Path) -> None:
    env = _role_env(tmp_path)
    assert awsconfig.principal_hint(None, {**env, "AWS_PROFILE": "alice"}) == (
        awsconfig.principal_hint("alice", env)
    )


def test_static_profile_secret_never_in_hint_and_rotation_keeps_it(tmp_path: Path) -> None:
    first = awsconfig.principal_hint("base", _role_env(tmp_path / "a", secret="one"))
    second = awsconfig.principal_hint("base", _role_env(tmp_path / "b", secret="two"))
    assert first == second
    assert "one" not in first
    assert "secret" not in first


def test_same_role_same_hint_when_source_credentials_are_refreshed(tmp_path: Path) -> None:
    # Tools such as aws-vault or SSO helpers rewrite the source profile with
    # new temporary keys; the role, and so the principal, stays the same.
    before = awsconfig.principal_hint("deploy", _role_env(tmp_path / "a", "ASIAONE", "s1"))
    after = awsconfig.principal_hint("deploy", _role_env(tmp_path / "b", "ASIATWO", "s2"))
    assert before == after
    assert "role/deploy" in before


def test_same_role_through_two_sources_is_told_apart(tmp_path: Path) -> None:
    env = _role_env(tmp_path)
    assert awsconfig.principal_hint("deploy", env) != awsconfig.principal_hint(
        "deploy-via-ops", env
    )


def test_role_hint_ignores_env_keys_of_the_caller(tmp_path: Path) -> None:
    env = _role_env(tmp_path)
    with_env = {**env, "AWS_ACCESS_KEY_ID": "AKIAENV"}
    assert awsconfig.principal_hint("deploy", env) == awsconfig.principal_hint("deploy", with_env)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param("[profile a]\nrole_arn = r\nsource_profile = a\n", id="self"),
        pytest.param(
            "[profile a]\nrole_arn = r1\nsource_profile = b\n"
            "[profile b]\nrole_arn = r2\nsource_profile = a\n",
            id="two-cycle",
        ),
        pytest.param(
            "[profile a]\nrole_arn = r1\nsource_profile = b\n"
            "[profile b]\nrole_arn = r2\nsource_profile = c\n"
            "[profile c]\nrole_arn = r3\nsource_profile = a\n",
            id="three-cycle",
        ),
    ],
)
def test_source_profile_cycles_end(tmp_path: Path, config: str) -> None:
    env = _files(tmp_path, config)
    hint = awsconfig.principal_hint("a", env)
    assert hint.startswith("profile:a;")
    assert len(hint) < 2000


def test_container_and_instance_credentials(tmp_path: Path) -> None:
    env = _files(tmp_path)
    assert awsconfig.principal_hint(None, env) == "profile:default;instance"
    container = {**env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"}
    assert awsconfig.principal_hint(None, container) == (
        "profile:default;container=/v2/credentials/abc"
    )


@pytest.mark.parametrize(
    "key",
    [
        "credential_process",
        "sso_session",
        "sso_account_id",
        "sso_role_name",
        "credential_source",
        "external_id",
    ],
)
def test_principal_keys_tell_profiles_apart(tmp_path: Path, key: str) -> None:
    one = awsconfig.principal_hint("p", _files(tmp_path / "1", f"[profile p]\n{key} = one\n"))
    two = awsconfig.principal_hint("p", _files(tmp_path / "2", f"[profile p]\n{key} = two\n"))
    assert one != two
