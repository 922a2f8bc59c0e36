"""The value rules and the registry hosts of every partition."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke import Config

from ecr_tasks import naming
from ecr_tasks.errors import BadValue, EcrTasksError

HEX64 = "0123456789abcdef" * 4


def _cases(values: list[object]) -> list[object]:
    return [pytest.param(v, id=repr(v)[:40]) for v in values]


# -- check_* ---------------------------------------------------------------

VALID_REPOS = ["ab", "my-app", "team/my-app", "a.b_c__d--e", "a/b/c", "x1/y2", "a" * 256]
INVALID_REPOS = [
    "",
    "a",
    "My-App",
    "-app",
    "app-",
    "app.",
    "/app",
    "app/",
    "a//b",
    "my_-app",
    "a___b",
    "app:v1",
    "app v1",
    "app;rm -rf /",
    "$(id)",
    "ünïcode",
    "a" * 257,
    None,
    42,
]


@pytest.mark.parametrize("value", _cases(VALID_REPOS))
def test_check_repo_accepts(value: str) -> None:
    assert naming.check_repo(value) == value


@pytest.mark.parametrize("value", _cases(INVALID_REPOS))
def test_check_repo_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid repository name") as raised:
        naming.check_repo(value)
    assert repr(value) in str(raised.value)


VALID_TAGS = ["v1", "latest", "_x", "1.2.3", "V1-rc.2_b", "A" * 128]
INVALID_TAGS = ["", ".v1", "-v1", "--force", "v 1", "v1;ls", "v1\n", "A" * 129, "ü", "a:b", None, 1]


@pytest.mark.parametrize("value", _cases(VALID_TAGS))
def test_check_tag_accepts(value: str) -> None:
    assert naming.check_tag(value) == value


@pytest.mark.parametrize("value", _cases(INVALID_TAGS))
def test_check_tag_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid tag") as raised:
        naming.check_tag(value)
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("123456789012", "123456789012", id="text"),
        pytest.param("000000000001", "000000000001", id="leading-zeros"),
        pytest.param(123456789012, "123456789012", id="int-from-yaml"),
    ],
)
def test_check_account_accepts(value: object, expected: str) -> None:
    assert naming.check_account(value) == expected


INVALID_ACCOUNTS = [
    12345,
    0o12345670123,  # what YAML makes of an unquoted 012345670123
    "",
    "12345678901",
    "1234567890123",
    "12345678901a",
    " 123456789012",
    "123456789012\n",
    "".join(chr(0xFF10 + int(d)) for d in "123456789012"),  # fullwidth digits
    "-12345678901",
    True,
    -1,
    1234567890123,
    None,
]


@pytest.mark.parametrize("value", _cases(INVALID_ACCOUNTS))
def test_check_account_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid account id"):
        naming.check_account(value)


def test_yaml_octal_account_is_refused_not_renamed(tmp_path: Path) -> None:
    # invoke.yaml `account: 012345670123` (unquoted) must not become 001402433619.
    (tmp_path / "invoke.yaml").write_text("ecr:\n  account: 012345670123\n")
    config = Config(project_location=str(tmp_path))
    config.load_project()
    with pytest.raises(BadValue, match="quote it in YAML"):
        naming.check_account(config.ecr.account)


def test_check_digest() -> None:
    assert naming.check_digest(f"sha256:{HEX64}") == f"sha256:{HEX64}"


@pytest.mark.parametrize(
    "value",
    _cases(
        [
            "",
            HEX64,
            f"sha256:{HEX64.upper()}",
            f"sha256:{HEX64[:-1]}",
            f"sha256:{HEX64}0",
            f"sha512:{HEX64}",
            "sha256:" + "g" * 64,
            f"sha256:{HEX64} ",
            None,
        ]
    ),
)
def test_check_digest_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid digest"):
        naming.check_digest(value)


VALID_REGIONS = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "il-central-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eusc-de-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "ap-future-9",  # not listed yet, but the aws partition's pattern claims it
]
INVALID_REGIONS = [
    "",
    "us-east",
    "US-EAST-1",
    "us-east-1a",
    "us_east_1",
    " us-east-1",
    "us-east-1\n",
    "mars-north-1",
    "aws-global",
    "us-east-123",
    "--region",
    None,
]


@pytest.mark.parametrize("value", _cases(VALID_REGIONS))
def test_check_region_accepts(value: str) -> None:
    assert naming.check_region(value) == value


@pytest.mark.parametrize("value", _cases(INVALID_REGIONS))
def test_check_region_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid region"):
        naming.check_region(value)


@pytest.mark.parametrize("value", [r for r in VALID_REGIONS if r != "ap-future-9"])
def test_check_known_region_accepts_listed_regions(value: str) -> None:
    assert naming.check_known_region(value) == value


@pytest.mark.parametrize(
    ("value", "near"),
    [("eu-wset-1", "eu-west-1"), ("us-eats-2", "us-east-2"), ("cn-nrth-1", "cn-north-1")],
)
def test_check_known_region_suggests_the_nearest(value: str, near: str) -> None:
    with pytest.raises(BadValue) as raised:
        naming.check_known_region(value)
    assert str(raised.value) == (
        f"invalid region {value!r}: not a region botocore's data lists (did you mean {near}?); "
        "for a region newer than the installed botocore, set ECR_TASKS_ALLOW_UNKNOWN_REGION=1"
    )


def test_check_known_region_without_a_near_name_suggests_nothing() -> None:
    with pytest.raises(BadValue, match="lists; for a region newer") as raised:
        naming.check_known_region("ap-future-9")
    assert "did you mean" not in str(raised.value)


def test_check_known_region_escape_hatch_still_needs_a_partition() -> None:
    assert naming.check_known_region("ap-future-9", allow_unknown=True) == "ap-future-9"
    with pytest.raises(BadValue, match="expected an AWS region name"):
        naming.check_known_region("mars-north-1", allow_unknown=True)


def test_known_regions_leave_out_pseudo_regions() -> None:
    listed = naming.known_regions()
    assert "eu-west-1" in listed and "eusc-de-east-1" in listed
    assert not [r for r in listed if r.endswith("-global")]


VALID_REGISTRIES = [
    "127.0.0.1:5000",
    "localhost",
    "localhost:65535",
    "registry.example.com",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "public.ecr.aws",
]
INVALID_REGISTRIES = [
    "",
    "http://registry.example.com",
    "registry.example.com/",
    "host/path",
    "host:0",
    "host:65536",
    "host:",
    "-host",
    "host-",
    "a b",
    "host;id",
    "x" * 256,
    5000,
    None,
]


@pytest.mark.parametrize("value", _cases(VALID_REGISTRIES))
def test_check_registry_accepts(value: str) -> None:
    assert naming.check_registry(value) == value


@pytest.mark.parametrize("value", _cases(INVALID_REGISTRIES))
def test_check_registry_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid registry"):
        naming.check_registry(value)


VALID_IMAGES = [
    "my-app",
    "my-app:v1",
    "team/my-app:v1",
    "registry.example.com/team/app:v1",
    "localhost:5000/app",
    "localhost:5000/app:latest",
    f"app@sha256:{HEX64}",
    f"app:v1@sha256:{HEX64}",
    "library/ubuntu:22.04",
]
INVALID_IMAGES = [
    "",
    "My-App",
    "-app",
    "--help",
    "app:",
    "app:-v1",
    ":v1",
    "app:v1 ",
    "app; rm -rf /",
    "$(id)",
    "`id`",
    "app\n",
    "host:99999/app",
    "a" * 256,
    "app@sha256:xyz",
    None,
]


@pytest.mark.parametrize("value", _cases(VALID_IMAGES))
def test_check_image_accepts(value: str) -> None:
    assert naming.check_image(value) == value


@pytest.mark.parametrize("value", _cases(INVALID_IMAGES))
def test_check_image_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid image"):
        naming.check_image(value)


@pytest.mark.parametrize("value", naming.ENGINES)
def test_check_engine_accepts(value: str) -> None:
    assert naming.check_engine(value) == value


@pytest.mark.parametrize(
    "value", _cases(["", "Docker", "docker ", "/usr/bin/docker", "sh -c id", "docker;id", None])
)
def test_check_engine_rejects(value: object) -> None:
    with pytest.raises(BadValue, match="invalid engine"):
        naming.check_engine(value)


def test_bad_value_is_one_line_and_names_the_value() -> None:
    with pytest.raises(EcrTasksError) as raised:
        naming.check_tag("bad\ntag")
    text = str(raised.value)
    assert "\n" not in text
    assert "'bad\\ntag'" in text


# -- registry hosts ----------------------------------------------------------

A = "123456789012"


@pytest.mark.parametrize(
    ("region", "host"),
    [
        pytest.param("us-east-1", f"{A}.dkr.ecr.us-east-1.amazonaws.com", id="aws"),
        pytest.param("eu-west-1", f"{A}.dkr.ecr.eu-west-1.amazonaws.com", id="aws-eu"),
        pytest.param("ap-future-9", f"{A}.dkr.ecr.ap-future-9.amazonaws.com", id="aws-by-pattern"),
        pytest.param("us-gov-west-1", f"{A}.dkr.ecr.us-gov-west-1.amazonaws.com", id="aws-us-gov"),
        pytest.param("cn-north-1", f"{A}.dkr.ecr.cn-north-1.amazonaws.com.cn", id="aws-cn"),
        pytest.param("cn-south-7", f"{A}.dkr.ecr.cn-south-7.amazonaws.com.cn", id="aws-cn-pattern"),
        pytest.param("eusc-de-east-1", f"{A}.dkr.ecr.eusc-de-east-1.amazonaws.eu", id="aws-eusc"),
        pytest.param("us-iso-east-1", f"{A}.dkr.ecr.us-iso-east-1.c2s.ic.gov", id="aws-iso"),
        pytest.param("us-isob-east-1", f"{A}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", id="aws-iso-b"),
        pytest.param(
            "eu-isoe-west-1", f"{A}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", id="aws-iso-e"
        ),
        pytest.param(
            "us-isof-south-1", f"{A}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", id="aws-iso-f"
        ),
    ],
)
def test_registry_host_per_partition(region: str, host: str) -> None:
    assert naming.registry_host(A, region) == host


@pytest.mark.parametrize(
    ("region", "fips", "dualstack", "host"),
    [
        pytest.param(
            "us-east-1", True, False, f"{A}.dkr.ecr-fips.us-east-1.amazonaws.com", id="fips"
        ),
        pytest.param(
            "us-gov-west-1",
            True,
            False,
            f"{A}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            id="fips-govcloud",
        ),
        pytest.param("us-east-1", False, True, f"{A}.dkr-ecr.us-east-1.on.aws", id="dualstack"),
        pytest.param(
            "us-east-1", True, True, f"{A}.dkr-ecr-fips.us-east-1.on.aws", id="dualstack-fips"
        ),
        pytest.param(
            "us-gov-east-1", False, True, f"{A}.dkr-ecr.us-gov-east-1.on.aws", id="dualstack-gov"
        ),
    ],
)
def test_registry_host_variants(region: str, fips: bool, dualstack: bool, host: str) -> None:
    assert naming.registry_host(A, region, fips=fips, dualstack=dualstack) == host


@pytest.mark.parametrize(
    ("account", "region", "what"),
    [
        pytest.param("12345", "us-east-1", "account id", id="short-account"),
        pytest.param(A, "mars-north-1", "region", id="unknown-region"),
        pytest.param(A, "us-east-1; id", "region", id="injected-region"),
    ],
)
def test_registry_host_checks_its_inputs(account: str, region: str, what: str) -> None:
    with pytest.raises(BadValue, match=f"invalid {what}"):
        naming.registry_host(account, region)


def test_partition_of_unknown_region_is_none() -> None:
    assert naming.partition_of("mars-north-1") is None
    assert naming.partition_of("cn-north-1").name == "aws-cn"


@pytest.mark.parametrize(
    ("args", "ref"),
    [
        pytest.param(("r.example.com",), "r.example.com", id="registry-only"),
        pytest.param(("r.example.com", "app"), "r.example.com/app", id="repo"),
        pytest.param(("r.example.com", "team/app", "v1"), "r.example.com/team/app:v1", id="tag"),
        pytest.param(
            ("r:5000", "app", None, f"sha256:{HEX64}"), f"r:5000/app@sha256:{HEX64}", id="digest"
        ),
        pytest.param(
            ("r", "app", "v1", f"sha256:{HEX64}"), f"r/app:v1@sha256:{HEX64}", id="tag-and-digest"
        ),
        pytest.param(("r", None, "v1"), "r", id="tag-without-repo-ignored"),
    ],
)
def test_image_ref(args: tuple, ref: str) -> None:
    assert naming.image_ref(*args) == ref


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        pytest.param(
            f"https://{A}.dkr.ecr.us-east-1.amazonaws.com",
            f"{A}.dkr.ecr.us-east-1.amazonaws.com",
            id="https",
        ),
        pytest.param("http://127.0.0.1:5000", "127.0.0.1:5000", id="http-with-port"),
        pytest.param("https://public.ecr.aws/", "public.ecr.aws", id="trailing-slash"),
        pytest.param("127.0.0.1:5000", "127.0.0.1:5000", id="bare-host"),
        pytest.param("public.ecr.aws", "public.ecr.aws", id="bare-name"),
    ],
)
def test_host_of_endpoint(endpoint: str, host: str) -> None:
    assert naming.host_of_endpoint(endpoint) == host


@pytest.mark.parametrize(
    ("host", "account"),
    [
        pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.com", A, id="ecr"),
        pytest.param(f"{A}.dkr-ecr.us-east-1.on.aws", A, id="dualstack"),
        pytest.param("127.0.0.1:5000", None, id="ip"),
        pytest.param("public.ecr.aws", None, id="public"),
        pytest.param("12345678901.dkr.ecr.us-east-1.amazonaws.com", None, id="11-digits"),
    ],
)
def test_account_of_host(host: str, account: str | None) -> None:
    assert naming.account_of_host(host) == account


# -- parse_registry_host: the inverse of registry_host -------------------------

_R = naming.RegistryHost
HOST_TABLE = [
    pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.com", _R(A, "us-east-1", "aws"), id="aws"),
    pytest.param(
        f"{A}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
        _R(A, "us-gov-west-1", "aws-us-gov", fips=True),
        id="fips-govcloud",
    ),
    pytest.param(
        f"{A}.dkr-ecr.eu-west-1.on.aws", _R(A, "eu-west-1", "aws", dualstack=True), id="dualstack"
    ),
    pytest.param(
        f"{A}.dkr-ecr-fips.us-east-1.on.aws",
        _R(A, "us-east-1", "aws", fips=True, dualstack=True),
        id="dualstack-fips",
    ),
    pytest.param(
        f"{A}.dkr.ecr.cn-north-1.amazonaws.com.cn", _R(A, "cn-north-1", "aws-cn"), id="china"
    ),
    pytest.param(
        f"{A}.dkr.ecr.us-iso-east-1.c2s.ic.gov", _R(A, "us-iso-east-1", "aws-iso"), id="iso"
    ),
    pytest.param(
        f"{A}.dkr.ecr.ap-future-9.amazonaws.com", _R(A, "ap-future-9", "aws"), id="by-pattern"
    ),
    pytest.param("public.ecr.aws", _R(None, "us-east-1", "aws", public=True), id="public"),
    pytest.param(
        "ecr-public.aws.com",
        _R(None, "us-east-1", "aws", dualstack=True, public=True),
        id="public-dualstack",
    ),
]


@pytest.mark.parametrize(("host", "record"), HOST_TABLE)
def test_parse_registry_host_both_directions(host: str, record: naming.RegistryHost) -> None:
    assert naming.parse_registry_host(host) == record
    assert record.host == host  # building from the record gives the host back
    if not record.public:
        built = naming.registry_host(
            record.account, record.region, fips=record.fips, dualstack=record.dualstack
        )
        assert naming.parse_registry_host(built) == record


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-central-2", "us-gov-east-1", "cn-northwest-1", "eusc-de-east-1"]
)
@pytest.mark.parametrize("fips", [False, True])
@pytest.mark.parametrize("dualstack", [False, True])
def test_every_built_host_parses_back(region: str, fips: bool, dualstack: bool) -> None:
    try:
        host = naming.registry_host(A, region, fips=fips, dualstack=dualstack)
    except BadValue:
        assert dualstack  # only a partition without dual-stack names refuses
        return
    parsed = naming.parse_registry_host(host)
    assert (parsed.account, parsed.region, parsed.fips, parsed.dualstack) == (
        A,
        region,
        fips,
        dualstack,
    )
    assert parsed.partition == naming.partition_of(region).name


@pytest.mark.parametrize(
    "host",
    [
        pytest.param(f"{A}.DKR.ECR.US-EAST-1.AMAZONAWS.COM", id="upper-case"),
        pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.com.", id="trailing-dot"),
    ],
)
def test_parse_registry_host_reads_dns_spellings(host: str) -> None:
    assert naming.parse_registry_host(host) == _R(A, "us-east-1", "aws")


@pytest.mark.parametrize(
    "host",
    [
        pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.com.evil.example", id="suffix-added"),
        pytest.param(f"evil.{A}.dkr.ecr.us-east-1.amazonaws.com", id="prefix-added"),
        pytest.param("dkr.ecr.us-east-1.amazonaws.com", id="no-account"),
        pytest.param("12345678901.dkr.ecr.us-east-1.amazonaws.com", id="11-digit-account"),
        pytest.param(f"{A}.ecr.us-east-1.amazonaws.com", id="wrong-service"),
        pytest.param(f"{A}.api.ecr.us-east-1.amazonaws.com", id="api-host"),
        pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.com:443", id="with-port"),
        pytest.param(f"{A}.dkr.ecr.mars-north-1.amazonaws.com", id="unknown-region"),
        pytest.param(f"{A}.dkr.ecr.cn-north-1.amazonaws.com", id="wrong-partition-domain"),
        pytest.param(f"{A}.dkr.ecr.us-east-1.on.aws", id="dualstack-domain-classic-label"),
        pytest.param(f"{A}.dkr-ecr.us-east-1.amazonaws.com", id="classic-domain-dualstack-label"),
        pytest.param(f"{A}.dkr-ecr.cn-north-1.amazonaws.com.cn", id="dualstack-not-offered"),
        pytest.param(f"{A}.dkr.ecr.us-east-1.amazonaws.co", id="domain-cut-short"),
        pytest.param("public.ecr.aws.evil.example", id="public-look-alike"),
        pytest.param("ecr.aws", id="public-cut-short"),
        pytest.param("127.0.0.1:5000", id="stand-in"),
        pytest.param("docker.io", id="docker-hub"),
    ],
)
def test_parse_registry_host_refuses_look_alikes(host: object) -> None:
    with pytest.raises(BadValue, match="invalid registry") as raised:
        naming.parse_registry_host(host)
    assert "ecr.registry" in str(raised.value)
    assert len(str(raised.value).splitlines()) == 1


@pytest.mark.parametrize("host", _cases(["", None, 42]))
def test_parse_registry_host_refuses_non_text(host: object) -> None:
    with pytest.raises(BadValue, match="invalid registry"):
        naming.parse_registry_host(host)


def test_naming_imports_without_invoke_or_botocore() -> None:
    # A credential helper parses one host per call: it must not pay for invoke.
    import subprocess
    import sys

    code = (
        "import sys; from ecr_tasks.naming import parse_registry_host as p;"
        f"p('{A}.dkr.ecr.us-east-1.amazonaws.com');"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'invoke', 'botocore', 'boto3'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
