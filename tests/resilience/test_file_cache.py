from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError
from oidc_credential_chain._internal import clock
from oidc_credential_chain._internal.file_cache import (
    CacheEntry,
    FileCache,
    UnsafeCacheDirectory,
    _entry_problem,
    cache_enabled,
    cache_key,
    default_directory,
    open_cache,
)

WORKER = Path(__file__).with_name("_cache_worker.py")
CLAIMS = {
    "iss": "https://token.actions.githubusercontent.com",
    "sub": "repo:o/r:ref:refs/heads/main",
    "aud": "sts",
}
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


def _key(**target: object) -> str:
    return cache_key("aws", CLAIMS, role_arn="arn:aws:iam::111122223333:role/r", **target)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_directory_and_entries_are_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "nested" / "cache"
    cache = FileCache(str(directory))
    key = _key()
    now = clock.now()
    cache.put(key, {"secret": SECRET}, issued_at=now, expires_at=now + 900)
    assert _mode(directory) == 0o700
    assert _mode(directory / f"{key}.json") == 0o600
    entry = cache.get(key)
    assert entry is not None and entry.data == {"secret": SECRET}
    assert entry.lifetime == pytest.approx(900)
    assert SECRET not in repr(entry) and SECRET not in repr(cache)
    # No temporary file is left behind by the atomic write.
    assert sorted(p.name for p in directory.iterdir()) == [f"{key}.json"]


def test_a_too_open_directory_of_our_own_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    # The cache never chmods a directory it did not create (it may be shared on purpose).
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    with pytest.raises(UnsafeCacheDirectory, match=r"has mode 0755, open to other users"):
        FileCache(str(directory)).ensure_directory()
    assert _mode(directory) == 0o755


def test_symlinked_directory_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    link = tmp_path / "cache"
    link.symlink_to(real)
    with pytest.raises(UnsafeCacheDirectory, match="is a symlink; refusing it") as info:
        FileCache(str(link)).ensure_directory()
    assert isinstance(info.value, ConfigurationError)
    caplog.set_level(logging.WARNING)
    assert open_cache({"OIDC_CREDENTIAL_CHAIN_CACHE_DIR": str(link)}, explicit=True) is None
    assert "not using the credential file cache" in caplog.text and "symlink" in caplog.text
    assert list(real.iterdir()) == []


def test_directory_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    if os.getuid() == 0:
        os.chown(directory, 65534, 65534)
    else:
        directory = Path("/usr")  # owned by root, not by this user
    with pytest.raises(UnsafeCacheDirectory, match=r"belongs to user id \d+, not to this user"):
        FileCache(str(directory)).ensure_directory()


def test_a_file_in_place_of_the_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    path.write_text("not a directory")
    with pytest.raises(UnsafeCacheDirectory, match="exists and is not a directory"):
        FileCache(str(path)).ensure_directory()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe garbage",
        b"[]",
        b'{"version": 99, "key": "KEY", "issued_at": 1, "expires_at": 99999999999, "data": {}}',
        b'{"version": 1, "key": "KEY", "issued_at": "x", "expires_at": 99999999999, "data": {}}',
        b'{"version": 1, "key": "KEY", "issued_at": 1, "expires_at": 99999999999, "data": "s"}',
        b'{"version": 1, "key": "KEY", "issued_at": 5, "expires_at": 4, "data": {}}',
        b"x" * (70 * 1024),
    ],
    ids=[
        "truncated",
        "binary",
        "not-an-object",
        "version",
        "bad-time",
        "bad-data",
        "expiry-before-issue",
        "huge",
    ],
)
def test_corrupt_entries_are_ignored_and_replaced(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    cache.ensure_directory()
    path = tmp_path / "c" / f"{key}.json"
    path.write_bytes(content.replace(b"KEY", key.encode()))
    path.chmod(0o600)
    caplog.set_level(logging.WARNING)
    calls: list[int] = []

    def create() -> tuple[dict[str, str], float, float]:
        calls.append(1)
        now = clock.now()
        return {"secret": SECRET}, now, now + 3600

    entry = cache.get_or_create(key, create)
    assert calls == [1]
    assert entry.data == {"secret": SECRET}
    assert "ignoring cache entry" in caplog.text
    # Replaced: the next reader trusts the new entry.
    again = cache.get(key)
    assert again is not None and again.data == {"secret": SECRET}


def test_entry_filed_under_another_key_is_not_trusted(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"))
    mine, theirs = _key(session_name="a"), _key(session_name="b")
    now = clock.now()
    cache.put(theirs, {"secret": "theirs"}, issued_at=now, expires_at=now + 900)
    os.replace(tmp_path / "c" / f"{theirs}.json", tmp_path / "c" / f"{mine}.json")
    assert cache.get(mine) is None


def test_group_readable_entry_is_not_trusted(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    now = clock.now()
    cache.put(key, {"secret": SECRET}, issued_at=now, expires_at=now + 900)
    (tmp_path / "c" / f"{key}.json").chmod(0o644)
    assert cache.get(key) is None


def test_entry_owned_by_another_user_is_not_trusted(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    now = clock.now()
    cache.put(key, {"secret": SECRET}, issued_at=now, expires_at=now + 900)
    path = tmp_path / "c" / f"{key}.json"
    if os.getuid() == 0:
        os.chown(path, 65534, 65534)
        assert cache.get(key) is None
    # Without root no file can be given away, so check the ownership rule on a stat record.
    st = os.stat(path)
    foreign = os.stat_result(
        (st.st_mode, st.st_ino, st.st_dev, st.st_nlink, os.getuid() + 1, *tuple(st)[5:10])
    )
    assert _entry_problem(foreign) == f"owned by user id {os.getuid() + 1}, not this user"


def test_symlinked_entry_is_not_followed_and_is_replaced(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    cache.ensure_directory()
    target = tmp_path / "target.json"
    now = clock.now()
    target.write_text(
        json.dumps(
            {"version": 1, "key": key, "issued_at": now, "expires_at": now + 900, "data": {"x": "planted"}}
        )
    )
    target.chmod(0o600)
    (tmp_path / "c" / f"{key}.json").symlink_to(target)
    assert cache.get(key) is None
    cache.put(key, {"x": "ours"}, issued_at=now, expires_at=now + 900)
    assert not (tmp_path / "c" / f"{key}.json").is_symlink()
    assert json.loads(target.read_text())["data"] == {"x": "planted"}  # the target was not written through


def test_min_remaining_rejects_entries_that_expire_too_soon(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    now = clock.now()
    cache.put(key, {"secret": SECRET}, issued_at=now - 3000, expires_at=now + 600)
    assert cache.get(key, min_remaining=900) is None
    assert cache.get(key, min_remaining=300) is not None
    created = cache.get_or_create(key, lambda: ({"secret": "new"}, now, now + 3600), min_remaining=900)
    assert created.data == {"secret": "new"}
    assert cache.get(key, min_remaining=900) is not None


def test_expired_entry_is_not_served(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    now = clock.now()
    cache.put(key, {"secret": SECRET}, issued_at=now - 1000, expires_at=now - 1)
    assert cache.get(key) is None


def test_keys_separate_identities_and_targets() -> None:
    base = cache_key("aws", CLAIMS, role_arn="arn:r", session_name="s", duration=900, policy=None)
    assert len(base) == 64
    other_sub = cache_key(
        "aws",
        {**CLAIMS, "sub": "repo:o/r:ref:refs/heads/dev"},
        role_arn="arn:r",
        session_name="s",
        duration=900,
        policy=None,
    )
    other_iss = cache_key(
        "aws", {**CLAIMS, "iss": "https://x"}, role_arn="arn:r", session_name="s", duration=900, policy=None
    )
    other_aud = cache_key(
        "aws", {**CLAIMS, "aud": "other"}, role_arn="arn:r", session_name="s", duration=900, policy=None
    )
    other_role = cache_key("aws", CLAIMS, role_arn="arn:r2", session_name="s", duration=900, policy=None)
    other_session = cache_key("aws", CLAIMS, role_arn="arn:r", session_name="t", duration=900, policy=None)
    other_duration = cache_key("aws", CLAIMS, role_arn="arn:r", session_name="s", duration=3600, policy=None)
    other_policy = cache_key("aws", CLAIMS, role_arn="arn:r", session_name="s", duration=900, policy="{}")
    azure = cache_key("azure", CLAIMS, role_arn="arn:r", session_name="s", duration=900, policy=None)
    keys = {
        base,
        other_sub,
        other_iss,
        other_aud,
        other_role,
        other_session,
        other_duration,
        other_policy,
        azure,
    }
    assert len(keys) == 9
    # Audience lists and policy-ARN sets are compared as sets.
    a = cache_key("aws", {**CLAIMS, "aud": ["x", "y"]}, role_arn="arn:r", policy_arns=("p1", "p2"))
    b = cache_key("aws", {**CLAIMS, "aud": ["y", "x"]}, role_arn="arn:r", policy_arns=("p1", "p2"))
    assert a == b


def test_keys_must_be_digests(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha256 hex digests"):
        FileCache(str(tmp_path)).get("../../etc/passwd")


def test_switch_defaults() -> None:
    assert cache_enabled({}) is False
    assert cache_enabled({}, command_line=True) is True
    assert cache_enabled({"CI": "true"}, command_line=True) is False
    assert cache_enabled({"CI": "true", "OIDC_CREDENTIAL_CHAIN_CACHE": "1"}, command_line=True) is True
    assert cache_enabled({"OIDC_CREDENTIAL_CHAIN_CACHE": "1"}) is True
    assert cache_enabled({"OIDC_CREDENTIAL_CHAIN_CACHE": "off"}, command_line=True) is False
    assert cache_enabled({"OIDC_CREDENTIAL_CHAIN_CACHE": "0"}, explicit=True) is True
    assert cache_enabled({"OIDC_CREDENTIAL_CHAIN_CACHE": "1"}, explicit=False) is False
    with pytest.raises(ConfigurationError, match="OIDC_CREDENTIAL_CHAIN_CACHE must be 1 or 0"):
        cache_enabled({"OIDC_CREDENTIAL_CHAIN_CACHE": "maybe"})
    assert open_cache({}) is None


def test_location() -> None:
    assert default_directory({"OIDC_CREDENTIAL_CHAIN_CACHE_DIR": "/x/y", "XDG_CACHE_HOME": "/c"}) == "/x/y"
    assert default_directory({"XDG_CACHE_HOME": "/c"}) == "/c/oidc-credential-chain"
    assert (
        default_directory({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) == "/h/.cache/oidc-credential-chain"
    )
    assert default_directory({"HOME": "/h"}) == "/h/.cache/oidc-credential-chain"


def test_nothing_secret_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="oidc_credential_chain")
    cache = FileCache(str(tmp_path / "c"))
    key = _key()
    now = clock.now()
    cache.get_or_create(key, lambda: ({"secret": SECRET}, now, now + 60), min_remaining=0)
    cache.get(key, min_remaining=900)
    (tmp_path / "c" / f"{key}.json").chmod(0o640)
    cache.get(key)
    assert caplog.records, "expected debug/warning records to inspect"
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_lock_wait_is_bounded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    holder = FileCache(str(tmp_path / "c"))
    waiter = FileCache(str(tmp_path / "c"), lock_timeout=0.2)
    key = _key()
    caplog.set_level(logging.WARNING)
    with holder.lock(key) as held:
        assert held is True
        with waiter.lock(key) as got:
            assert got is False
    assert "exchanging anyway" in caplog.text
    with waiter.lock(key) as got:
        assert got is True


def test_threads_of_one_process_share_one_creation(tmp_path: Path) -> None:
    key = _key()
    calls: list[int] = []
    barrier = threading.Barrier(8)
    results: list[CacheEntry] = []

    def create() -> tuple[dict[str, str], float, float]:
        calls.append(1)
        threading.Event().wait(0.2)
        now = clock.now()
        return {"n": str(len(calls))}, now, now + 3600

    def worker() -> None:
        barrier.wait()
        results.append(FileCache(str(tmp_path / "c")).get_or_create(key, create))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert {r.data["n"] for r in results} == {"1"}


def _run_workers(tmp_path: Path, n: int, key: str, *extra: str) -> tuple[list[dict[str, str]], int]:
    directory = tmp_path / "shared-cache"
    counter = tmp_path / "exchanges"
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(directory), key, str(counter), str(go), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(n)
    ]
    go.touch()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert b"SECRET-VALUE" not in err
        outputs.append(json.loads(out))
    made = len(counter.read_bytes()) if counter.exists() else 0
    return outputs, made


def test_sixteen_processes_started_together_make_one_exchange(tmp_path: Path) -> None:
    outputs, made = _run_workers(tmp_path, 16, _key())
    assert made == 1
    assert len({o["creator"] for o in outputs}) == 1


def test_processes_refuse_an_entry_with_too_little_left(tmp_path: Path) -> None:
    key = _key()
    cache = FileCache(str(tmp_path / "shared-cache"))
    now = clock.now()
    cache.put(key, {"creator": "stale", "secret": "old"}, issued_at=now - 3000, expires_at=now + 600)
    outputs, made = _run_workers(tmp_path, 4, key, "900")
    assert made == 1
    assert "stale" not in {o["creator"] for o in outputs}
