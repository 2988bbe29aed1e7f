"""The lifecycle core on its own: freshness, the single-flight cache's pieces, the owner."""

from __future__ import annotations

import asyncio
import threading

import pytest

import oidc_credential_chain
from oidc_credential_chain import lifecycle
from oidc_credential_chain._internal import clock
from oidc_credential_chain._internal.log import get_logger, warn_once
from oidc_credential_chain.cache import ExpiringCache
from oidc_credential_chain.errors import TokenFetchError
from oidc_credential_chain.lifecycle import Freshness, Lifecycle, Owned, RefreshPolicy, SingleFlightCache
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "monotonic", fake)
    return fake


def test_an_entry_goes_fresh_stale_invalid(fake_clock: FakeClock) -> None:
    cache: SingleFlightCache[str, str] = SingleFlightCache()
    assert cache.lookup("k") == (None, Freshness.INVALID)
    cache.store("k", "v", stale_at=1010.0, invalid_at=1020.0)
    assert cache.lookup("k") == ("v", Freshness.FRESH)
    fake_clock.t = 1015.0
    assert cache.lookup("k") == ("v", Freshness.STALE)
    fake_clock.t = 1020.0
    assert cache.lookup("k") == (None, Freshness.INVALID)
    assert cache.lookup("other") == (None, Freshness.INVALID)


def test_a_failed_renewal_keeps_the_stale_value_fresh_until_its_backoff_ends(fake_clock: FakeClock) -> None:
    cache: SingleFlightCache[str, str] = SingleFlightCache()
    cache.store("k", "v", stale_at=1010.0, invalid_at=1020.0)
    fake_clock.t = 1012.0
    cache.renewal_failed("k", retry_at=1014.0)
    assert cache.lookup("k") == ("v", Freshness.FRESH)
    fake_clock.t = 1014.0
    assert cache.lookup("k") == ("v", Freshness.STALE)


def test_a_value_due_for_renewal_after_its_drop_time_is_dropped_on_time(fake_clock: FakeClock) -> None:
    cache: SingleFlightCache[str, str] = SingleFlightCache()
    cache.store("k", "v", stale_at=1030.0, invalid_at=1020.0)
    fake_clock.t = 1019.0
    assert cache.lookup("k") == ("v", Freshness.FRESH)
    fake_clock.t = 1020.0
    assert cache.lookup("k") == (None, Freshness.INVALID)


def test_a_failure_is_shared_only_with_callers_that_waited_for_it() -> None:
    cache: SingleFlightCache[str, str] = SingleFlightCache()
    before = cache.generation
    error = TokenFetchError("oidc/github/x: the endpoint refused", spec="oidc/github/x")
    cache.fail("k", error)
    shared = cache.failure_since("k", before)
    assert isinstance(shared, TokenFetchError) and shared is not error
    assert str(shared) == "oidc/github/x: the endpoint refused"
    assert cache.failure_since("k", cache.generation) is None  # a caller that came after it asks anew
    assert cache.failure_since("k", before, fingerprint="another source") is None


def test_locks_are_of_the_kind_asked_for() -> None:
    assert isinstance(SingleFlightCache[str, str](asyncio.Lock).lock_for("k"), asyncio.Lock)
    threaded: SingleFlightCache[str, str] = SingleFlightCache()
    assert threaded.lock_for("k") is threaded.lock_for("k")
    assert isinstance(threaded.lock_for("k"), type(threading.Lock()))


def test_after_fork_locks_are_new_and_values_stay() -> None:
    cache: SingleFlightCache[str, str] = SingleFlightCache()
    cache.get("k", lambda: ("v", 60.0))
    held = cache.lock_for("k")
    held.acquire()
    cache.after_fork_in_child()
    assert not cache.lock_for("k").locked()
    assert cache.peek("k") == "v"


def test_a_fresh_owner_starts_empty_and_the_previous_one_comes_back(
    github_actions: GitHubActionsTokenEndpoint,
) -> None:
    oidc_credential_chain.get_id_token("oidc/github/aud")
    with lifecycle.fresh() as owner:
        assert lifecycle.current() is owner
        oidc_credential_chain.get_id_token("oidc/github/aud")
        assert github_actions.count() == 2  # the new owner fetched its own
    oidc_credential_chain.get_id_token("oidc/github/aud")
    assert github_actions.count() == 2  # the previous owner's token is back


def test_module_level_state_lives_in_the_owner() -> None:
    slot: Owned[list[str]] = Owned(list, "names")
    slot.get().append("a")
    with lifecycle.fresh():
        assert slot.get() == []
    assert slot.get() == ["a"]
    expiring: ExpiringCache[str, str] = ExpiringCache()
    expiring.get("k", lambda: ("v", 60.0))
    with lifecycle.fresh():
        assert expiring.peek("k") is None
    assert expiring.peek("k") == "v"


def test_warnings_once_per_owner(caplog: pytest.LogCaptureFixture) -> None:
    log = get_logger("test")
    warn_once(log, "k", "first")
    warn_once(log, "k", "again")
    with lifecycle.fresh():
        warn_once(log, "k", "in a new process")
    assert [r.getMessage() for r in caplog.records if r.name == log.name] == ["first", "in a new process"]


def test_the_owner_holds_the_refresh_policy() -> None:
    from oidc_credential_chain.azure._refresh import expiry_margin
    from oidc_credential_chain.lifecycle.policy import refresh_windows

    assert refresh_windows(3600, jitter=0).advisory == 900.0
    with lifecycle.fresh(
        Lifecycle(policy=RefreshPolicy(advisory_fraction=0.5, advisory_cap=3600.0, jitter=0))
    ):
        assert refresh_windows(3600).advisory == 1800.0
        assert expiry_margin(3600) == 541.0  # the mandatory window did not change
    assert refresh_windows(3600, jitter=0).advisory == 900.0
