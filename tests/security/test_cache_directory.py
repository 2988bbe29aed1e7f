"""Item: the file cache pointed at a shared directory touches nothing that is not its own."""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import pytest

from oidc_credential_chain._internal import clock
from oidc_credential_chain._internal.file_cache import (
    PRUNE_AFTER,
    FileCache,
    UnsafeCacheDirectory,
    cache_key,
    open_cache,
)

CLAIMS = {"iss": "https://issuer.example.com", "sub": "s", "aud": "a"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A /tmp-like directory: mode 1777, holding other programs' old .json and .lock files."""
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o1777)
    for name in ("settings.json", "app.lock", "a" * 64 + ".json.bak"):
        (directory / name).write_text("someone else's")
        _age(directory / name, PRUNE_AFTER * 3)
    return directory


def test_a_shared_1777_directory_is_refused_and_left_as_it_was(
    shared: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = sorted(p.name for p in shared.iterdir())
    with pytest.raises(UnsafeCacheDirectory) as info:
        FileCache(str(shared)).ensure_directory()
    assert "has mode 1777, open to other users; refusing to keep credentials there" in str(info.value)
    assert "OIDC_CREDENTIAL_CHAIN_CACHE_DIR" in str(info.value)
    assert _mode(shared) == 0o1777
    caplog.set_level(logging.WARNING)
    assert open_cache({"OIDC_CREDENTIAL_CHAIN_CACHE_DIR": str(shared)}, explicit=True) is None
    assert "not using the credential file cache" in caplog.text
    assert sorted(p.name for p in shared.iterdir()) == before
    assert _mode(shared) == 0o1777


def test_a_directory_of_another_user_is_refused_unchanged(tmp_path: Path) -> None:
    directory = tmp_path / "theirs"
    directory.mkdir(mode=0o700)
    directory.chmod(0o700)
    if os.getuid() == 0:
        os.chown(directory, 4242, 4242)
    else:
        directory = Path("/usr")  # root's, not this user's
    with pytest.raises(UnsafeCacheDirectory, match=r"belongs to user id \d+, not to this user"):
        FileCache(str(directory)).ensure_directory()
    assert directory.stat().st_uid != os.getuid()


def test_a_missing_directory_is_created_private(tmp_path: Path) -> None:
    directory = tmp_path / "inside" / "cache"
    FileCache(str(directory)).ensure_directory()
    assert _mode(directory) == 0o700


def test_prune_deletes_only_names_the_cache_generated(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    cache = FileCache(str(directory))
    cache.ensure_directory()
    stale_entry = directory / (cache_key("aws", CLAIMS, role="old") + ".json")
    stale_lock = directory / (cache_key("aws", CLAIMS, role="old") + ".lock")
    foreign = [directory / "notes.json", directory / "tool.lock", directory / ("b" * 63 + ".json")]
    for path in [stale_entry, stale_lock, *foreign]:
        path.write_text("{}")
        _age(path, PRUNE_AFTER * 2)
    now = clock.now()
    cache.put(cache_key("aws", CLAIMS, role="new"), {"k": "v"}, issued_at=now, expires_at=now + 900)
    assert not stale_entry.exists() and not stale_lock.exists()
    assert all(path.exists() for path in foreign)
