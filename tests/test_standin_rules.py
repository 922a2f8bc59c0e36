"""The stand-in's rules as pure logic: ECR-sized passwords checked in full,
the gate's reading of credentials and hosts, and tag immutability.

The end-to-end side of the same rules (through docker and ``inv``) is in
``test_standin_e2e_rules.py``.
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from ecr_tasks.errors import tls_problem
from ecr_tasks.standin.gate import GateConfig, check_credentials, registry_of
from ecr_tasks.standin.registry_rules import tag_is_frozen
from ecr_tasks.standin.tokens import issue, new_key, verify

KEY = new_key().encode()
NOW = 1_800_000_000.0


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def flip(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by another base64 one."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


# -- tokens ---------------------------------------------------------------------


def test_a_password_is_sized_and_shaped_like_ecrs():
    password, expires_at = issue(KEY, 12 * 3600, now=NOW)
    token = base64.b64encode(f"AWS:{password}".encode()).decode()

    assert 1500 <= len(password) <= 2500
    assert 2000 <= len(token) <= 3000
    document = json.loads(base64.b64decode(password))
    assert document["version"] == "2" and document["type"] == "DATA_KEY"
    assert document["expiration"] == expires_at == NOW + 12 * 3600
    assert verify(KEY, password, now=NOW).valid


def test_every_password_is_new():
    assert len({issue(KEY, 60, now=NOW)[0] for _ in range(20)}) == 20


@pytest.mark.parametrize(
    "where",
    [5, 100, 700, 1200, -40, -6, -3],
    ids=["head", "payload", "mid", "datakey", "near-tail", "expiry", "tail"],
)
def test_any_changed_character_makes_a_password_unknown(where):
    password, _ = issue(KEY, 3600, now=NOW)
    changed = flip(password, where)

    assert changed != password
    # bcrypt would have looked at the first 72 bytes only; this looks at all.
    assert verify(KEY, changed, now=NOW).state == "unknown"


def test_a_password_past_its_expiry_is_expired_not_unknown():
    password, expires_at = issue(KEY, 60, now=NOW)

    assert verify(KEY, password, now=expires_at - 1).valid
    assert verify(KEY, password, now=expires_at).state == "expired"


@pytest.mark.parametrize(
    "password",
    ["", "123456789012-auth-token", "not base64 at all", base64.b64encode(b"{}").decode(),
     base64.b64encode(b'{"payload": 1}').decode()],
    ids=["empty", "moto-style", "garbage", "empty-json", "wrong-types"],
)  # fmt: skip
def test_passwords_never_issued_are_unknown(password):
    assert verify(KEY, password, now=NOW).state == "unknown"


def test_another_stand_ins_password_is_unknown():
    password, _ = issue(new_key().encode(), 3600, now=NOW)
    assert verify(KEY, password, now=NOW).state == "unknown"


def test_the_same_fields_written_differently_are_unknown():
    password, _ = issue(KEY, 3600, now=NOW)
    document = json.loads(base64.b64decode(password))
    respelled = base64.b64encode(json.dumps(document, indent=1).encode()).decode()
    assert verify(KEY, respelled, now=NOW).state == "unknown"


# -- the gate's reading of a request ----------------------------------------------


def test_credentials_of_a_live_issued_password_pass():
    password, _ = issue(KEY, 3600)
    assert check_credentials(basic("AWS", password), KEY) is None


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer abc", "Basic !!!", basic("AWS", "wrong"), "Basic " + "QQ=="],
    ids=["none", "empty", "bearer", "not-base64", "wrong-password", "no-colon"],
)
def test_missing_or_wrong_credentials_get_401(header):
    refusal = check_credentials(header, KEY)
    assert refusal is not None and refusal.status == 401


def test_another_user_name_gets_401():
    password, _ = issue(KEY, 3600)
    refusal = check_credentials(basic("admin", password), KEY)
    assert refusal is not None and refusal.status == 401


def test_an_expired_password_gets_401_saying_so():
    password, _ = issue(KEY, -1)
    refusal = check_credentials(basic("AWS", password), KEY)
    assert refusal is not None and refusal.status == 401
    assert "expired" in refusal.message


CONFIG = GateConfig(upstream_port=1, api_port=2, account="111111111111", region="eu-west-1")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", ("123456789012", "us-east-1")),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
         ("123456789012", "us-gov-west-1")),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", ("123456789012", "eu-west-1")),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", ("123456789012", "cn-north-1")),
        ("127.0.0.1:5000", ("111111111111", "eu-west-1")),
        ("public.ecr.aws", None),
    ],
    ids=["plain", "fips", "dualstack", "china", "override", "public"],
)  # fmt: skip
def test_the_gate_reads_account_and_region_from_the_host(host, expected):
    assert registry_of(host, CONFIG) == expected


# -- tag immutability -------------------------------------------------------------


def repository(mutability, tags, filters=()):
    images = [SimpleNamespace(image_tags=list(t)) for t in tags]
    return SimpleNamespace(
        image_tag_mutability=mutability,
        image_tag_mutability_exclusion_filters=[{"filter": f, "filterType": "WILDCARD"}
                                                for f in filters],
        images=images,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mutability", "filters", "tag", "frozen"),
    [
        ("MUTABLE", (), "v1", False),
        ("IMMUTABLE", (), "v1", True),
        ("IMMUTABLE", (), "v2", False),
        ("IMMUTABLE_WITH_EXCLUSION", ("latest",), "latest", False),
        ("IMMUTABLE_WITH_EXCLUSION", ("latest",), "v1", True),
        ("MUTABLE_WITH_EXCLUSION", ("v*",), "v1", True),
        ("MUTABLE_WITH_EXCLUSION", ("v*",), "latest", False),
    ],
    ids=["mutable", "immutable-existing", "immutable-new", "excluded-stays-mutable",
         "others-frozen", "mutable-but-excluded", "mutable-rest"],
)  # fmt: skip
def test_which_tags_a_push_may_overwrite(mutability, filters, tag, frozen):
    repo = repository(mutability, [["v1", "latest"]], filters)
    assert tag_is_frozen(repo, tag) is frozen


# -- TLS failures, as the clients word them -----------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SSL validation failed for https://api.ecr.us-east-1.amazonaws.com/ [SSL: "
         "CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer "
         "certificate (_ssl.c:1006)",
         "certificate verify failed: unable to get local issuer certificate"),
        ('Error response from daemon: Get "https://h/v2/": tls: failed to verify '
         "certificate: x509: certificate signed by unknown authority",
         "certificate signed by unknown authority"),
        ("x509: certificate is valid for a.example, not b.example",
         "certificate is valid for a.example, not b.example"),
        ("dial tcp: connection refused", None),
    ],
    ids=["python", "docker", "go-name-mismatch", "not-tls"],
)  # fmt: skip
def test_tls_problem_names_the_certificate_problem(text, problem):
    assert tls_problem(text) == problem
