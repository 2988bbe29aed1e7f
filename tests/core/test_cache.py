"""Caching, single-flight fetching and force_refresh, end to end and on ExpiringCache itself."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from oidc_credential_chain import TokenFetchError, fetch_id_token, get_id_token
from oidc_credential_chain._internal import clock
from oidc_credential_chain.cache import ExpiringCache
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, OIDCIssuer


def _together(count: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` in ``count`` threads released at the same moment; results or exceptions."""
    barrier = threading.Barrier(count)

    def run() -> Any:
        barrier.wait()
        try:
            return call()
        except Exception as err:
            return err

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run) for _ in range(count)]
        return [future.result(timeout=60) for future in futures]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mono(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(clock, "monotonic", fake)
    return fake


def test_64_simultaneous_callers_cause_one_request(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    github_actions.faults.delay = 0.3  # every caller arrives while the first fetch is on the wire

    tokens = _together(64, lambda: get_id_token("oidc/github/sts.amazonaws.com"))

    assert all(isinstance(token, str) for token in tokens), tokens
    assert len(set(tokens)) == 1
    assert github_issuer.verify(tokens[0], audience="sts.amazonaws.com")
    assert github_actions.count() == 1


def test_callers_waiting_on_a_failed_fetch_share_its_error(
    github_actions: GitHubActionsTokenEndpoint,
) -> None:
    github_actions.faults.fail(403, delay=0.5, body={"message": "denied"})

    outcomes = _together(32, lambda: get_id_token("oidc/github/sts.amazonaws.com"))

    assert all(isinstance(outcome, TokenFetchError) for outcome in outcomes), outcomes
    assert all("HTTP 403: denied" in str(outcome) for outcome in outcomes)
    assert github_actions.count() == 1
    # The failure is not cached: the next call tries again (and now succeeds).
    assert get_id_token("oidc/github/sts.amazonaws.com")
    assert github_actions.count() == 2


def test_force_refresh_bypasses_the_cache(github_actions: GitHubActionsTokenEndpoint) -> None:
    first = get_id_token("oidc/github/sts.amazonaws.com")
    assert get_id_token("oidc/github/sts.amazonaws.com") == first
    assert github_actions.count() == 1

    second = get_id_token("oidc/github/sts.amazonaws.com", force_refresh=True)

    assert second != first
    assert github_actions.count() == 2
    # The fresh token replaced the old one in the cache.
    assert get_id_token("oidc/github/sts.amazonaws.com") == second
    assert github_actions.count() == 2


def test_simultaneous_forced_refreshes_share_one_fetch(github_actions: GitHubActionsTokenEndpoint) -> None:
    stale = get_id_token("oidc/github/sts.amazonaws.com")
    github_actions.faults.delay = 0.3

    tokens = _together(16, lambda: get_id_token("oidc/github/sts.amazonaws.com", force_refresh=True))

    assert len(set(tokens)) == 1
    assert tokens[0] != stale
    assert github_actions.count() == 2


def test_cached_until_shortly_before_expiry(
    github_actions: GitHubActionsTokenEndpoint, mono: FakeMonotonic
) -> None:
    token = fetch_id_token("oidc/github/sts.amazonaws.com")
    assert token.lifetime == 300  # the emulated GitHub tokens live 5 minutes

    mono.now += 239  # refreshed 20 % (60 s) before expiry
    assert fetch_id_token("oidc/github/sts.amazonaws.com") is token
    mono.now += 2
    renewed = fetch_id_token("oidc/github/sts.amazonaws.com")

    assert renewed is not token
    assert github_actions.count() == 2
    assert renewed.seconds_left() == pytest.approx(300, abs=2)


# --- ExpiringCache on its own -------------------------------------------------------------


class Source:
    def __init__(self) -> None:
        self.calls = 0
        self.keep = 10.0
        self.error: Exception | None = None

    def __call__(self) -> tuple[str, float]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return f"value-{self.calls}", self.keep


def test_cache_keeps_values_for_their_time(mono: FakeMonotonic) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache()
    source = Source()

    assert cache.get("k", source) == "value-1"
    mono.now += 9.9
    assert cache.get("k", source) == "value-1"
    assert cache.peek("k") == "value-1"
    mono.now += 0.2
    assert cache.peek("k") is None
    assert cache.get("k", source) == "value-2"


def test_cache_fingerprint_change_refetches(mono: FakeMonotonic) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache()
    source = Source()

    assert cache.get("k", source, fingerprint=("inode", 1)) == "value-1"
    assert cache.get("k", source, fingerprint=("inode", 1)) == "value-1"
    assert cache.get("k", source, fingerprint=("inode", 2)) == "value-2"


def test_cache_force_refresh_and_invalidate(mono: FakeMonotonic) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache()
    source = Source()
    cache.get("k", source)

    assert cache.get("k", source, force_refresh=True) == "value-2"
    assert cache.get("k", source) == "value-2"
    cache.invalidate("k")
    assert cache.get("k", source) == "value-3"
    cache.clear()
    assert cache.get("k", source) == "value-4"


def test_cache_does_not_keep_failures(mono: FakeMonotonic) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache()
    source = Source()
    source.error = TokenFetchError("down", status=503, retryable=True)

    with pytest.raises(TokenFetchError):
        cache.get("k", source)
    source.error = None

    assert cache.get("k", source) == "value-2"


def test_shared_failure_is_a_copy_with_the_same_details() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache()
    started, release = threading.Event(), threading.Event()
    error = TokenFetchError("the endpoint said no", spec="oidc/x", status=403)

    def failing_fetch() -> tuple[str, float]:
        started.set()
        release.wait(10)
        raise error

    outcomes: list[BaseException] = []

    def first() -> None:
        try:
            cache.get("k", failing_fetch)
        except TokenFetchError as err:
            outcomes.append(err)

    leader = threading.Thread(target=first)
    leader.start()
    started.wait(10)
    follower_result: list[BaseException] = []

    def second() -> None:
        try:
            cache.get("k", lambda: ("unused", 1.0))
        except TokenFetchError as err:
            follower_result.append(err)

    follower = threading.Thread(target=second)
    follower.start()
    # The follower is queued on the key's lock before the leader fails.
    follower.join(0.5)
    release.set()
    leader.join(10)
    follower.join(10)

    assert outcomes == [error]
    shared = follower_result[0]
    assert shared is not error
    assert (type(shared), str(shared), shared.status, shared.spec) == (
        TokenFetchError,
        str(error),
        403,
        "oidc/x",
    )
