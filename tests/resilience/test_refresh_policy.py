from __future__ import annotations

import logging
import random

import pytest

from oidc_credential_chain._internal import clock
from oidc_credential_chain.errors import TokenFetchError
from oidc_credential_chain.lifecycle import Freshness
from oidc_credential_chain.lifecycle.policy import (
    BOTOCORE_ADVISORY,
    BOTOCORE_MANDATORY,
    RefreshState,
    RefreshWindows,
    refresh_windows,
)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "monotonic", fake)
    monkeypatch.setattr(clock, "wall", fake)
    return fake


@pytest.mark.parametrize(
    ("lifetime", "advisory", "mandatory"),
    [
        (60, 18, 9),
        (900, 270, 135),
        (3600, 900, 540),
        (43200, BOTOCORE_ADVISORY, BOTOCORE_MANDATORY),
        (0, 0, 0),
    ],
)
def test_windows_scale_with_lifetime_and_cap_at_botocore(
    lifetime: float, advisory: float, mandatory: float
) -> None:
    windows = refresh_windows(lifetime, jitter=0)
    assert windows == RefreshWindows(advisory=pytest.approx(advisory), mandatory=pytest.approx(mandatory))


def test_jitter_spreads_the_advisory_window_but_never_past_botocore_or_below_mandatory() -> None:
    rng = random.Random(7)
    for lifetime in (60, 900, 3600, 43200):
        seen = [refresh_windows(lifetime, rand=rng.random) for _ in range(500)]
        advisories = [w.advisory for w in seen]
        base = refresh_windows(lifetime, jitter=0)
        assert max(advisories) <= base.advisory <= BOTOCORE_ADVISORY
        assert all(w.advisory >= w.mandatory for w in seen)
        assert min(advisories) >= base.advisory * 0.8 - 1e-9
        # A fleet is spread: the 500 draws cover most of the jitter range.
        assert max(advisories) - min(advisories) > base.advisory * 0.15 or lifetime == 43200
    assert refresh_windows(900, rand=lambda: 0.999).advisory == pytest.approx(270 - 54 * 0.999)


def test_phases() -> None:
    windows = RefreshWindows(advisory=270, mandatory=135)
    assert windows.freshness(800) is Freshness.FRESH
    assert windows.freshness(200) is Freshness.STALE
    assert windows.freshness(100) is Freshness.INVALID
    assert windows.freshness(-5) is Freshness.INVALID
    assert windows.refresh_in(800) == 530
    assert windows.refresh_in(100) == 0


def _simulate(lifetime: float, hours: float, fake: FakeClock, *, windows_for: object) -> int:
    """Requests every second for ``hours``; returns how many exchanges were made."""
    state = RefreshState("test credentials")
    exchanges = 0
    expires = fake.t + lifetime
    windows = windows_for(lifetime)  # type: ignore[operator]
    end = fake.t + hours * 3600

    def exchange() -> float:
        nonlocal exchanges
        exchanges += 1
        return fake.t + lifetime

    exchange()
    while fake.t < end:
        new = state.attempt(exchange, seconds_left=expires - fake.t, windows=windows)
        if new is not None:
            expires = new
            windows = windows_for(lifetime)  # type: ignore[operator]
        assert expires - fake.t > 0, "a request would have gone out with expired credentials"
        fake.t += 1.0
    return exchanges


def test_900_second_sessions_need_at_most_two_exchanges_per_lifetime(fake_clock: FakeClock) -> None:
    hours = 3.0
    ours = _simulate(900, hours, fake_clock, windows_for=refresh_windows)
    lifetimes = hours * 3600 / 900
    assert ours / lifetimes <= 2.0
    # botocore's fixed windows (advisory 15 min) on a 15-minute session refresh on every request.
    fake_clock.t = 1_000_000.0
    fixed = _simulate(
        900, 0.1, fake_clock, windows_for=lambda _l: RefreshWindows(BOTOCORE_ADVISORY, BOTOCORE_MANDATORY)
    )
    assert fixed >= 0.1 * 3600 - 1


def test_failed_advisory_refresh_keeps_serving_warns_and_backs_off(
    fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="oidc_credential_chain")
    windows = RefreshWindows(advisory=270, mandatory=135)
    state = RefreshState(
        "AWS credentials for role arn:aws:iam::111122223333:role/r", base_delay=5, max_delay=60
    )
    calls = 0

    def failing() -> str:
        nonlocal calls
        calls += 1
        raise TokenFetchError("GitHub Actions' ID token endpoint did not answer", retryable=True)

    assert state.attempt(failing, seconds_left=250, windows=windows) is None
    assert calls == 1
    assert state.backing_off()
    record = caplog.records[-1]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "refreshing AWS credentials for role arn:aws:iam::111122223333:role/r failed" in message
    assert "TokenFetchError: GitHub Actions' ID token endpoint did not answer" in message
    assert "still using the current ones, valid for 250 s more" in message
    # During the backoff, requests are served without another attempt.
    for _ in range(2):
        fake_clock.t += 1
        assert state.attempt(failing, seconds_left=248, windows=windows) is None
    assert calls == 1 and state.skipped == 2
    # After it, the next request tries again; delays grow.
    fake_clock.t += 6
    assert state.attempt(failing, seconds_left=240, windows=windows) is None
    assert calls == 2 and state.consecutive_failures == 2
    fake_clock.t += 20
    assert state.attempt(lambda: "new", seconds_left=220, windows=windows) == "new"
    assert state.consecutive_failures == 0 and not state.backing_off()


def test_backoff_leaves_time_before_the_mandatory_window(fake_clock: FakeClock) -> None:
    state = RefreshState("x", base_delay=1000, max_delay=1000)
    windows = RefreshWindows(advisory=270, mandatory=135)
    delay = state.record_failure(RuntimeError("boom"), seconds_left=155, windows=windows)
    assert delay <= (155 - 135) / 4


def test_mandatory_window_always_tries_and_raises(fake_clock: FakeClock) -> None:
    windows = RefreshWindows(advisory=270, mandatory=135)
    state = RefreshState("x")
    state.record_failure(RuntimeError("earlier"), seconds_left=200, windows=windows)
    assert state.backing_off()
    since = clock.mono()
    with pytest.raises(TokenFetchError, match="IdP down"):
        state.attempt(_raise(TokenFetchError("IdP down")), seconds_left=100, windows=windows)
    shared = state.failed_since(since)
    assert isinstance(shared, TokenFetchError)
    assert state.failed_since(since + 1) is None
    assert state.attempt(lambda: "ok", seconds_left=100, windows=windows) == "ok"
    assert state.failed_since(since) is None


def test_fresh_credentials_run_nothing(fake_clock: FakeClock) -> None:
    state = RefreshState("x")
    windows = RefreshWindows(advisory=270, mandatory=135)
    assert state.attempt(_raise(AssertionError("must not run")), seconds_left=600, windows=windows) is None
    assert state.attempts == 0


def _raise(error: Exception):  # type: ignore[no-untyped-def]
    def run() -> str:
        raise error

    return run


def test_only_mandatory_failures_are_shared_and_each_caller_gets_a_copy(fake_clock: FakeClock) -> None:
    windows = RefreshWindows(advisory=270, mandatory=135)
    state = RefreshState("x")
    since = clock.mono()
    state.record_failure(TokenFetchError("advisory"), seconds_left=200, windows=windows)
    assert state.failed_since(since, mandatory_only=True) is None
    original = TokenFetchError("IdP down", retryable=True)
    state.record_failure(original, seconds_left=100, windows=windows, mandatory=True)
    first = state.failed_since(since, mandatory_only=True)
    second = state.failed_since(since, mandatory_only=True)
    assert isinstance(first, TokenFetchError) and isinstance(second, TokenFetchError)
    assert first is not original and second is not first
    assert str(first) == "IdP down" and first.retryable
