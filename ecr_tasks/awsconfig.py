"""What the local AWS configuration says, read without botocore.

Settings and the token cache need a profile's region and the shape of its
credentials on every login. Reading the two INI files with configparser
costs a millisecond; importing botocore to ask it costs a hundred times that.
The file locations follow the AWS CLI's rules (AWS_CONFIG_FILE,
AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the cache imports this module on the helper's cached path
if TYPE_CHECKING:
    import configparser
    from collections.abc import Mapping


def _read(path: str) -> configparser.RawConfigParser:
    import configparser  # here: a helper run with keys in its environment never reads a file

    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(os.path.expanduser(path), encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        # A file boto3 could not read either: treat it as empty here and let
        # boto3 give its own, clearer, error when credentials are needed.
        return configparser.RawConfigParser()
    return parser


def config_path(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("AWS_CONFIG_FILE") or "~/.aws/config"


def credentials_path(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"


def profile_settings(
    profile: str, environ: Mapping[str, str] = os.environ
) -> dict[str, str] | None:
    """The merged keys of ``profile`` from both files, or None if neither has it."""
    found = False
    merged: dict[str, str] = {}
    config = _read(config_path(environ))
    # botocore reads the default profile from [default] and [profile default].
    names = ("profile default", "default") if profile == "default" else (f"profile {profile}",)
    for name in names:
        if config.has_section(name):
            found = True
            merged.update(config.items(name))
    credentials = _read(credentials_path(environ))
    if credentials.has_section(profile):
        found = True
        for key, value in credentials.items(profile):
            merged.setdefault(key, value)
    return merged if found else None


def profile_names(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every profile the two files name, sorted: ``[profile NAME]`` (and
    ``[default]``) in the config file, ``[NAME]`` in the credentials file."""
    names = set(_read(credentials_path(environ)).sections())
    for section in _read(config_path(environ)).sections():
        kind, _, name = section.partition(" ")
        if kind == "profile" and name.strip():
            names.add(name.strip())
        elif section == "default":
            names.add(section)
    return sorted(names)


def profile_region(profile: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The region the profile's own configuration names, if any."""
    section = profile_settings(profile or "default", environ) or {}
    return section.get("region") or None


_FILE_VARIABLES = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")

# Keys that decide which principal a profile resolves to. The secret key and
# session token are left out on purpose: they never enter a cache key.
_PRINCIPAL_KEYS = (
    "aws_access_key_id",
    "role_arn",
    "source_profile",
    "credential_source",
    "web_identity_token_file",
    "role_session_name",
    "external_id",
    "credential_process",
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
)


def principal_hint(
    profile: str | None, environ: Mapping[str, str] = os.environ, _depth: int = 0
) -> str:
    """A string that names the AWS principal as far as local facts tell.

    It follows botocore's order of credential sources, so the same role or
    profile gives the same hint after its credentials are refreshed, and two
    principals never give the same hint.
    """
    if environ.get("AWS_ACCESS_KEY_ID") and profile is None:
        return f"env-key:{environ['AWS_ACCESS_KEY_ID']}"
    name = profile or environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    section = profile_settings(name, environ) or {}
    # botocore ignores these variables for an explicitly named profile, and
    # tries a profile's role_arn + source_profile before them.
    assumes_role = section.get("role_arn") and not section.get("web_identity_token_file")
    if (
        profile is None
        and not assumes_role
        and environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
        and environ.get("AWS_ROLE_ARN")
    ):
        return f"web-identity:{environ['AWS_ROLE_ARN']}"
    parts = [f"profile:{name}"]
    # Below the top, a source profile's key id is left out: the role it leads
    # to is the principal, and refreshed temporary source keys change the id.
    parts += [
        f"{key}={section[key]}"
        for key in _PRINCIPAL_KEYS
        if section.get(key) and not (_depth and key == "aws_access_key_id")
    ]
    source = section.get("source_profile")
    if source and source != name and _depth < 4:  # bounded: profiles may loop
        # A role reached through another profile is the same role whatever the
        # source's keys are; still, tell two sources apart.
        files_only = {k: v for k, v in environ.items() if k in _FILE_VARIABLES}
        parts.append(f"source={principal_hint(source, files_only, _depth + 1)}")
    if len(parts) == 1 and not _depth:
        # Nothing local names the principal: container or instance roles.
        container = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or environ.get(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI"
        )
        parts.append(f"container={container}" if container else "instance")
    return ";".join(parts)
