"""How a setting is chosen (flag > config > AWS environment > profile) and checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_aws_files

from ecr_tasks import settings
from ecr_tasks.errors import BadValue, ConfigError


@pytest.fixture
def aws_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose only AWS facts are our own config files."""
    return write_aws_files(tmp_path)


def test_defaults(aws_env: dict[str, str]) -> None:
    s = settings.resolve({}, environ=aws_env)
    assert s.repo is None
    assert s.regions == ["eu-central-1"]  # the default profile's region
    assert s.accounts == []
    assert s.account is None
    assert s.engine == "docker"
    assert (s.fips, s.dualstack, s.cache) == (False, False, True)
    assert s.registry is None
    assert s.public_registry == "public.ecr.aws"


@pytest.mark.parametrize(
    ("flag", "config", "env", "expected"),
    [
        pytest.param(
            "us-east-1",
            "eu-west-1",
            {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "sa-east-1"},
            "us-east-1",
            id="flag-wins",
        ),
        pytest.param(
            None,
            "eu-west-1",
            {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "sa-east-1"},
            "eu-west-1",
            id="config-beats-env",
        ),
        pytest.param(
            None,
            None,
            {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "sa-east-1"},
            "ap-south-1",
            id="AWS_REGION-beats-AWS_DEFAULT_REGION",
        ),
        pytest.param(
            None, None, {"AWS_DEFAULT_REGION": "sa-east-1"}, "sa-east-1", id="AWS_DEFAULT_REGION"
        ),
        pytest.param(None, None, {}, "eu-central-1", id="default-profile-region"),
        pytest.param(None, None, {"AWS_PROFILE": "dev"}, "ap-southeast-2", id="AWS_PROFILE-region"),
        pytest.param("", "eu-west-1", {}, "eu-west-1", id="empty-flag-means-unset"),
        pytest.param([], "eu-west-1", {}, "eu-west-1", id="empty-list-flag-means-unset"),
    ],
)
def test_region_precedence(
    aws_env: dict[str, str], flag: object, config: str | None, env: dict, expected: str
) -> None:
    s = settings.resolve({"region": config}, region=flag, environ={**aws_env, **env})
    assert s.region == expected


def test_flag_profile_region_beats_default_profile(aws_env: dict[str, str]) -> None:
    s = settings.resolve({}, profile="dev", environ=aws_env)
    assert (s.profile, s.region) == ("dev", "ap-southeast-2")


def test_config_profile_used_when_no_flag(aws_env: dict[str, str]) -> None:
    s = settings.resolve({"profile": "dev"}, environ=aws_env)
    assert (s.profile, s.region) == ("dev", "ap-southeast-2")


def test_profile_flag_beats_config(aws_env: dict[str, str]) -> None:
    s = settings.resolve({"profile": "noregion"}, profile="dev", environ=aws_env)
    assert s.profile == "dev"


def test_profile_without_region_gives_no_region(aws_env: dict[str, str]) -> None:
    s = settings.resolve({}, profile="noregion", environ=aws_env)
    assert s.regions == []
    with pytest.raises(ConfigError, match="no AWS region"):
        _ = s.region


def test_no_config_files_no_region(tmp_path: Path) -> None:
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "missing-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing-credentials"),
    }
    with pytest.raises(ConfigError, match="no AWS region"):
        _ = settings.resolve({}, environ=env).region


def test_unknown_profile(aws_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="unknown AWS profile 'nope'") as raised:
        settings.resolve({}, profile="nope", environ=aws_env)
    assert aws_env["AWS_CONFIG_FILE"] in str(raised.value)


def test_unknown_profile_lists_the_profiles_there(aws_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as raised:
        settings.resolve({}, profile="nope", environ=aws_env)
    assert str(raised.value).endswith("; profiles there: default, dev, noregion")


@pytest.mark.parametrize("variable", ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"])
def test_a_variable_naming_a_missing_profile_is_refused_like_the_flag(
    aws_env: dict[str, str], variable: str
) -> None:
    env = {**aws_env, variable: "nope", "AWS_REGION": "eu-west-1"}
    with pytest.raises(ConfigError) as raised:
        settings.resolve({}, environ=env)
    assert str(raised.value) == (
        f"unknown AWS profile 'nope' in {variable}: not in {aws_env['AWS_CONFIG_FILE']} "
        f"or {aws_env['AWS_SHARED_CREDENTIALS_FILE']}; profiles there: default, dev, noregion"
    )


def test_a_variable_naming_a_profile_that_exists_passes(aws_env: dict[str, str]) -> None:
    s = settings.resolve({}, environ={**aws_env, "AWS_PROFILE": "dev"})
    assert (s.profile, s.region) == (None, "ap-southeast-2")


def test_a_variable_is_not_checked_when_a_profile_is_given(aws_env: dict[str, str]) -> None:
    # botocore ignores AWS_PROFILE for a profile named explicitly.
    s = settings.resolve({}, profile="dev", environ={**aws_env, "AWS_PROFILE": "nope"})
    assert s.profile == "dev"


def test_a_variable_naming_default_needs_no_section(tmp_path: Path) -> None:
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none-either"),
        "AWS_PROFILE": "default",
        "AWS_REGION": "eu-west-1",
    }
    assert settings.resolve({}, environ=env).region == "eu-west-1"


def test_no_profiles_at_all_says_so(tmp_path: Path) -> None:
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none-either"),
        "AWS_PROFILE": "ci",
    }
    with pytest.raises(ConfigError, match=r"in AWS_PROFILE: .*; profiles there: none$"):
        settings.resolve({}, environ=env)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("-p", id="option-like"),
        pytest.param("a b", id="space"),
        pytest.param("a\nb", id="newline"),
        pytest.param("[dev]", id="brackets"),
        pytest.param(3, id="int"),
    ],
)
def test_bad_profile_names(aws_env: dict[str, str], value: object) -> None:
    with pytest.raises(BadValue, match="invalid profile"):
        settings.resolve({"profile": value}, environ=aws_env)


def test_profile_only_in_credentials_file_exists(aws_env: dict[str, str]) -> None:
    Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = s\n"
    )
    assert settings.resolve({"region": "us-east-1"}, profile="ci", environ=aws_env).profile == "ci"


def test_unknown_key(aws_env: dict[str, str]) -> None:
    with pytest.raises(BadValue, match=r"invalid setting 'ecr.colour': known keys are repo"):
        settings.resolve({"colour": "blue"}, environ=aws_env)


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        pytest.param("repo", "My_App", "repository name", id="repo"),
        pytest.param("repo", "--help", "repository name", id="repo-option"),
        pytest.param("region", "mars-north-1", "region", id="region"),
        pytest.param("region", ["us-east-1", "nowhere"], "region", id="region-list"),
        pytest.param("region", 7, "region", id="region-int"),
        pytest.param("account", "12345", "account id", id="account"),
        pytest.param("account", ["123456789012", "x"], "account id", id="account-list"),
        pytest.param("registry", "http://r.example.com", "registry", id="registry-url"),
        pytest.param("registry", "r:99999", "registry", id="registry-port"),
        pytest.param("engine", "docker;id", "engine", id="engine"),
        pytest.param("engine", None, "engine", id="engine-none"),
        pytest.param("fips", "maybe", "ecr.fips setting", id="fips"),
        pytest.param("dualstack", 2, "ecr.dualstack setting", id="dualstack"),
        pytest.param("cache", "nah", "ecr.cache setting", id="cache"),
        pytest.param("public_registry", "public ecr", "registry", id="public-registry"),
        pytest.param("public_registry", None, "registry", id="public-registry-none"),
    ],
)
def test_every_config_value_is_checked(
    aws_env: dict[str, str], key: str, value: object, what: str
) -> None:
    with pytest.raises(BadValue, match=f"invalid {what}") as raised:
        settings.resolve({key: value}, environ=aws_env)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("env", "what"),
    [
        pytest.param({"AWS_REGION": "moon-1"}, "region", id="AWS_REGION"),
        pytest.param({"AWS_DEFAULT_REGION": "us east 1"}, "region", id="AWS_DEFAULT_REGION"),
    ],
)
def test_environment_values_are_checked(aws_env: dict[str, str], env: dict, what: str) -> None:
    with pytest.raises(BadValue, match=f"invalid {what}"):
        settings.resolve({}, environ={**aws_env, **env})


def test_profile_region_is_checked(tmp_path: Path) -> None:
    env = write_aws_files(tmp_path)
    Path(env["AWS_CONFIG_FILE"]).write_text("[default]\nregion = us-east-1; id\n")
    with pytest.raises(BadValue, match="invalid region"):
        settings.resolve({}, environ=env)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
        pytest.param("yes", True, id="yes"),
        pytest.param("1", True, id="1"),
        pytest.param("ON", True, id="ON"),
        pytest.param("false", False, id="text-false"),
        pytest.param("0", False, id="0"),
        pytest.param("", False, id="empty"),
    ],
)
def test_bools(aws_env: dict[str, str], value: object, expected: bool) -> None:
    s = settings.resolve({"fips": value, "dualstack": value, "cache": value}, environ=aws_env)
    assert (s.fips, s.dualstack, s.cache) == (expected, expected, expected)


def test_cache_flag_beats_config(aws_env: dict[str, str]) -> None:
    assert settings.resolve({"cache": True}, cache=False, environ=aws_env).cache is False
    assert settings.resolve({"cache": False}, environ=aws_env).cache is False


def test_lists_dedupe_and_keep_order(aws_env: dict[str, str]) -> None:
    s = settings.resolve(
        {},
        region=["us-east-1", "eu-west-1", "us-east-1"],
        account=["210987654321", "123456789012", "210987654321"],
        environ=aws_env,
    )
    assert s.regions == ["us-east-1", "eu-west-1"]
    assert s.accounts == ["210987654321", "123456789012"]
    assert (s.region, s.account) == ("us-east-1", "210987654321")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("111111111111,222222222222", ["111111111111", "222222222222"], id="two"),
        pytest.param("111111111111,111111111111", ["111111111111"], id="deduplicated"),
        pytest.param(["111111111111,222222222222", "333333333333"],
                     ["111111111111", "222222222222", "333333333333"], id="in-a-list"),
    ],
)  # fmt: skip
def test_comma_separated_accounts(aws_env: dict[str, str], value: object, expected: list) -> None:
    assert settings.resolve({"account": value}, environ=aws_env).accounts == expected


@pytest.mark.parametrize(
    "value",
    ["111111111111,", "111111111111,,222222222222", "1111,2222", "111111111111, 222222222222"],
)
def test_comma_separated_accounts_are_each_checked(aws_env: dict[str, str], value: str) -> None:
    with pytest.raises(BadValue, match="invalid account id") as raised:
        settings.resolve({"account": value}, environ=aws_env)
    assert repr(value) in str(raised.value)  # the whole value, as the user wrote it


def test_account_from_yaml_int(aws_env: dict[str, str]) -> None:
    assert settings.resolve({"account": 123456789012}, environ=aws_env).account == "123456789012"
    with pytest.raises(BadValue, match="quote it in YAML"):
        settings.resolve({"account": 12345678901}, environ=aws_env)


def test_flags_beat_config(aws_env: dict[str, str]) -> None:
    config = {"repo": "from-config", "account": "111111111111", "region": "eu-west-1"}
    s = settings.resolve(
        config, repo="from-flag", account="222222222222", region="us-west-2", environ=aws_env
    )
    assert (s.repo, s.account, s.region) == ("from-flag", "222222222222", "us-west-2")


def test_values_pass_through(aws_env: dict[str, str]) -> None:
    s = settings.resolve(
        {
            "repo": "team/app",
            "registry": "127.0.0.1:5000",
            "engine": "podman",
            "public_registry": "mirror.example.com",
        },
        environ=aws_env,
    )
    assert (s.repo, s.registry, s.engine, s.public_registry) == (
        "team/app",
        "127.0.0.1:5000",
        "podman",
        "mirror.example.com",
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, "public.ecr.aws", id="default"),
        pytest.param({"dualstack": True}, "ecr-public.aws.com", id="dualstack"),
        pytest.param({"dualstack": "true"}, "ecr-public.aws.com", id="dualstack-from-env"),
        pytest.param({"dualstack": True, "public_registry": "127.0.0.1:5000"}, "127.0.0.1:5000",
                     id="set-host-wins"),
    ],
)  # fmt: skip
def test_public_registry_with_dualstack(
    aws_env: dict[str, str], config: dict, expected: str
) -> None:
    assert settings.resolve(config, environ=aws_env).public_registry == expected


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda env: ({"region": "eu-wset-1"}, env), id="setting"),
        pytest.param(lambda env: ({}, {**env, "AWS_REGION": "eu-wset-1"}), id="AWS_REGION"),
    ],
)
def test_an_unknown_region_is_refused_with_the_nearest(aws_env: dict[str, str], where) -> None:
    config, env = where(aws_env)
    with pytest.raises(BadValue, match=r"did you mean eu-west-1\?") as raised:
        settings.resolve(config, environ=env)
    assert "ECR_TASKS_ALLOW_UNKNOWN_REGION=1" in str(raised.value)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_the_escape_hatch_lets_a_newer_region_through(aws_env: dict[str, str], value: str) -> None:
    env = {**aws_env, "ECR_TASKS_ALLOW_UNKNOWN_REGION": value}
    assert settings.resolve({}, region="ap-future-9", environ=env).regions == ["ap-future-9"]


def test_the_escape_hatch_takes_1_or_0(aws_env: dict[str, str]) -> None:
    env = {**aws_env, "ECR_TASKS_ALLOW_UNKNOWN_REGION": "maybe"}
    with pytest.raises(ConfigError, match="invalid ECR_TASKS_ALLOW_UNKNOWN_REGION 'maybe'"):
        settings.resolve({}, region="eu-west-1", environ=env)
    off = {**aws_env, "ECR_TASKS_ALLOW_UNKNOWN_REGION": "0"}
    with pytest.raises(BadValue, match="not a region botocore's data lists"):
        settings.resolve({}, region="ap-future-9", environ=off)
