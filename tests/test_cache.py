"""The token cache: one freshness rule, private atomic files, never fatal."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import stat
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecr_tasks import cache
from ecr_tasks.aws import decode_token
from ecr_tasks.cache import Token

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
PASSWORD = "pw-s3cret-for-the-cache"
T0 = 1_700_000_000.0
LIFE = 12 * 3600.0


def _token(issued: float = T0, life: float = LIFE, password: str = PASSWORD) -> Token:
    return Token(HOST, "AWS", password, issued + life, issued)


@pytest.fixture
def store(tmp_path: Path) -> cache.TokenCache:
    return cache.TokenCache(tmp_path / "ecr-tasks")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the freshness rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "fresh"),
    [
        pytest.param(0.0, True, id="just-issued"),
        pytest.param(LIFE / 4, True, id="quarter-life"),
        pytest.param(LIFE / 2 - 1, True, id="just-before-half"),
        pytest.param(LIFE / 2, False, id="at-half"),
        pytest.param(LIFE * 0.75, False, id="three-quarters"),
        pytest.param(LIFE, False, id="at-expiry"),
        pytest.param(LIFE * 2, False, id="long-expired"),
    ],
)
def test_is_fresh_until_half_life(age: float, fresh: bool) -> None:
    assert cache.is_fresh(_token(), now=T0 + age) is fresh


def test_is_fresh_never_past_expiry_even_with_odd_times() -> None:
    # issued_at after expires_at: half life lies past expiry, expiry still wins.
    odd = Token(HOST, "AWS", PASSWORD, expires_at=T0, issued_at=T0 + LIFE)
    assert not cache.is_fresh(odd, now=T0 + 1)
    assert not cache.is_fresh(odd, now=T0)


def test_is_fresh_uses_the_clock_by_default() -> None:
    assert cache.is_fresh(_token(issued=time.time()))
    assert not cache.is_fresh(_token(issued=time.time() - LIFE))


# -- keys ----------------------------------------------------------------------


def test_entry_key_separates_every_part() -> None:
    def key(
        region: str = "eu-west-1",
        account: str | None = "123456789012",
        public: bool = False,
        principal: str = "profile:a",
        environ: dict[str, str] | None = None,
    ) -> str:
        return cache.entry_key(region, account, public, principal, environ or {})

    variants = [
        key(account=None), key(account="210987654321"), key(region="us-east-1"),
        key(public=True), key(principal="profile:b"),
        key(environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:5001"}),
        key(environ={"AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:5002"}),
    ]  # fmt: skip
    assert len({key(), *variants}) == len(variants) + 1
    assert key() == key() and len(key()) == 64
    # The endpoint of ECR Public's API does not move a private registry's key.
    assert key(environ={"AWS_ENDPOINT_URL_ECR_PUBLIC": "http://127.0.0.1:5001"}) == key()


def test_cache_dir_follows_xdg(tmp_path: Path) -> None:
    assert cache.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "ecr-tasks"
    assert cache.cache_dir({}) == Path(os.path.expanduser("~")) / ".cache" / "ecr-tasks"


# -- round trip, modes, atomicity ------------------------------------------------


def test_put_get_round_trip(store: cache.TokenCache) -> None:
    token = _token(issued=time.time())
    store.put("k1", token)
    assert store.get("k1") == token
    assert store.get("k2") is None


def test_stale_entry_is_not_handed_out(store: cache.TokenCache) -> None:
    store.put("old", _token(issued=time.time() - LIFE * 0.6))
    assert store.get("old") is None
    store.put("expired", _token(issued=time.time() - LIFE * 2))
    assert store.get("expired") is None


def test_modes_and_no_temp_files(store: cache.TokenCache) -> None:
    store.put("k", _token())
    assert _mode(store.directory) == 0o700
    files = list(store.directory.iterdir())
    assert [f.name for f in files] == ["k.token"]
    assert _mode(files[0]) == 0o600


def test_existing_open_directory_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "ecr-tasks"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    cache.TokenCache(directory).put("k", _token())
    assert _mode(directory) == 0o700


def test_rewrite_replaces_the_whole_file(store: cache.TokenCache) -> None:
    now = time.time()
    store.put("k", _token(issued=now, password="first"))
    store.put("k", _token(issued=now, password="second"))
    assert store.get("k").password == "second"
    assert [f.name for f in store.directory.iterdir()] == ["k.token"]


def test_failed_write_leaves_no_temp_file(
    store: cache.TokenCache, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def broken_fsync(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.atomic.os, "fsync", broken_fsync)  # fails after the temp file
    store.put("k", _token())
    assert list(store.directory.iterdir()) == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "could not write the token cache" in err
    assert "No space left on device" in err


def test_unwritable_place_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    cache.TokenCache(blocker / "ecr-tasks").put("k", _token())
    err = capsys.readouterr().err
    assert err.startswith("ecr-tasks: warning: could not write the token cache")
    assert err.count("\n") == 1


def test_drop(store: cache.TokenCache) -> None:
    store.put("k", _token(issued=time.time()))
    store.drop("k")
    assert store.get("k") is None
    store.drop("never-there")


# -- bad files -------------------------------------------------------------------


def _record(key: str, **changes: object) -> str:
    record = {
        "key": key,
        "host": HOST,
        "user": "AWS",
        "password": PASSWORD,
        "expires_at": time.time() + LIFE,
        "issued_at": time.time(),
    }
    record.update(changes)
    header = f"ecr-tasks token cache {record.pop('format', 2)}"
    return "\n".join([header, *(f"{k}={v}" for k, v in record.items() if v is not ...)]) + "\n"


def test_an_entry_is_plain_lines_that_read_back(tmp_path: Path) -> None:
    token = Token(HOST, "AWS", "pw==", 1.5, 0.25)
    text = cache.entry_text("k", token)
    assert text == _record("k", password="pw==", expires_at=1.5, issued_at=0.25)
    assert text.splitlines()[0] == cache.HEADER
    (tmp_path / "k.token").write_text(text)
    assert cache.read_entry(tmp_path / "k.token", "k") == token


_FIELD = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@given(
    host=_FIELD,
    password=_FIELD,
    expires=st.floats(allow_nan=False),
    issued=st.floats(allow_nan=False),
)
def test_any_printable_token_reads_back_whole_and_anything_else_is_refused(
    host: str, password: str, expires: float, issued: float
) -> None:
    token = Token(host, "AWS", f"s3cret-{password}", expires, issued)
    with tempfile.TemporaryDirectory() as folder:
        store = cache.TokenCache(Path(folder))
        if host.isprintable() and password.isprintable():
            store.put("k", token)
            assert cache.read_entry(store.path("k"), "k") == token
        else:  # a line break of any kind (\n, \x85, \u2028...) or a control character
            with pytest.raises(ValueError, match="control character"):
                cache.entry_text("k", token)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                store.put("k", token)
            assert "could not write the token cache" in err.getvalue()
            assert "s3cret-" not in err.getvalue() and not store.path("k").exists()


def test_an_entry_from_0_1_goes_when_the_entry_is_written_or_dropped(
    store: cache.TokenCache,
) -> None:
    store.directory.mkdir(parents=True)
    for name in ("k.json", "other.json"):
        (store.directory / name).write_text("{}")
    store.put("k", _token(issued=time.time()))
    assert sorted(p.name for p in store.directory.iterdir()) == ["k.token", "other.json"]
    store.drop("k")
    (store.directory / "k.json").write_text("{}")
    store.drop("k")
    assert sorted(p.name for p in store.directory.iterdir()) == ["other.json"]


BAD_FILES = [
    pytest.param(b"{not json", id="corrupt"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe\x00\x00", id="not-utf8"),
    pytest.param(b'{"format": 1, "key": "k", "host": "h"}', id="json"),
    pytest.param(_record("k", format=99).encode(), id="other-format"),
    pytest.param(_record("someone-else").encode(), id="foreign-key"),
    pytest.param(_record("k", password=...).encode(), id="missing-field"),
    pytest.param(_record("k", expires_at="soon").encode(), id="bad-expiry"),
    pytest.param(_record("k").encode() + b"no separator\n", id="line-without-equals"),
    pytest.param(_record("k").encode()[:-4], id="cut-short"),
]


@pytest.mark.parametrize("content", BAD_FILES)
def test_bad_file_is_a_one_line_warning(
    store: cache.TokenCache, capsys: pytest.CaptureFixture, content: bytes
) -> None:
    store.directory.mkdir(parents=True)
    (store.directory / "k.token").write_bytes(content)
    assert store.get("k") is None
    err = capsys.readouterr().err
    assert err.startswith("ecr-tasks: warning: ignoring unreadable token cache file k.token")
    assert err.count("\n") == 1
    assert PASSWORD not in err
    # ...and the next put rewrites it.
    store.put("k", _token(issued=time.time()))
    assert store.get("k") is not None


def test_an_entry_from_before_0_2_is_not_read_or_warned_about(
    store: cache.TokenCache, capsys: pytest.CaptureFixture
) -> None:
    # Versions before 0.2 kept JSON in <key>.json: a stale file, never a warning.
    store.directory.mkdir(parents=True)
    (store.directory / "k.json").write_text(
        '{"format": 1, "key": "k", "host": "h", "user": "AWS", "password": "p",'
        f' "expires_at": {time.time() + LIFE}, "issued_at": {time.time()}}}'
    )
    assert store.get("k") is None and store.entry_keys() == []
    assert capsys.readouterr().err == ""


def test_unreadable_path_is_a_warning(
    store: cache.TokenCache, capsys: pytest.CaptureFixture
) -> None:
    # A directory where the file should be: reading it fails with an OSError
    # even for root, for whom permission bits do not stop a read.
    (store.directory / "k.token").mkdir(parents=True)
    assert store.get("k") is None
    assert "ignoring unreadable token cache file k.token (IsADirectoryError)" in (
        capsys.readouterr().err
    )


def test_missing_file_is_silent(store: cache.TokenCache, capsys: pytest.CaptureFixture) -> None:
    assert store.get("k") is None
    assert capsys.readouterr().err == ""


# -- null cache, secrets ----------------------------------------------


def test_null_cache(tmp_path: Path) -> None:
    null = cache.NullCache()
    null.put("k", _token())
    assert null.get("k") is None
    null.drop("k")
    assert null.enabled is False


def test_password_never_in_repr() -> None:
    token = _token()
    assert PASSWORD not in repr(token)
    assert PASSWORD not in str(token)
    assert PASSWORD not in repr([token, {"t": token}])


def test_decode_token() -> None:
    encoded = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
    expires = datetime(2030, 1, 1, tzinfo=timezone.utc)
    token = decode_token(encoded, f"https://{HOST}", expires)
    assert (token.host, token.user, token.password) == (HOST, "AWS", PASSWORD)
    assert token.expires_at == expires.timestamp()
    assert token.account == "123456789012"
    assert decode_token(encoded, "http://127.0.0.1:5000", 1.5e9).account is None


def test_fetch_lock_waits_a_bounded_time_for_another_holder(tmp_path: Path) -> None:
    import time

    from ecr_tasks.cache import TokenCache

    cache = TokenCache(tmp_path / "cache")
    with cache.fetch_lock("k") as first:
        assert first
        started = time.monotonic()
        # Another holder (a second open file, as another process has) waits, then gives up.
        with cache.fetch_lock("k", wait=0.3) as second:
            assert not second
        assert time.monotonic() - started >= 0.3
        with cache.fetch_lock("other", wait=0) as unrelated:
            assert unrelated  # one lock per key
    with cache.fetch_lock("k", wait=0) as after:
        assert after
    assert (tmp_path / "cache" / "k.lock").stat().st_mode & 0o777 == 0o600


def test_null_cache_never_locks(tmp_path: Path) -> None:
    from ecr_tasks.cache import NullCache

    with NullCache().fetch_lock("k") as held:
        assert not held
