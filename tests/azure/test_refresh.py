"""Short-lived access tokens over many refresh cycles: no request ever leaves with an expired token."""

from __future__ import annotations

import logging

import openai
import pytest

from oidc_credential_chain.azure import EntraExchangeError, OIDCCredential, token_provider
from oidc_credential_chain.azure._refresh import expiry_margin, refresh_on
from oidc_credential_chain.testing import AzureOpenAIEmulator, EntraEmulator, GitHubActionsTokenEndpoint
from tests.azure.support import GITHUB_SPEC, SCOPE, FakeClock

MESSAGES = [{"role": "user", "content": "are we there yet?"}]


def test_refresh_timing_comes_from_the_lifetime() -> None:
    # The advisory window (30 % of the life, at most 15 min, jittered by up to a fifth) opens the renewal.
    assert 1000.0 + 3600 - 900 <= refresh_on(3600, now=1000.0) <= 1000.0 + 3600 - 720
    assert 120 - 36 <= refresh_on(120, now=0.0) <= 120 - 28.8
    assert expiry_margin(120) == 19.0
    assert expiry_margin(3600) == 541.0
    assert refresh_on(-5, now=10.0) == 10.0


@pytest.mark.parametrize("step", [7.0, 29.0, 61.0, 100.0, 115.0, 130.0])
def test_two_minute_tokens_never_reach_azure_openai_expired(
    trusted_github: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    github_actions: GitHubActionsTokenEndpoint,
    fake_clock: FakeClock,
    step: float,
) -> None:
    trusted_github.expires_in = 120
    client = openai.AzureOpenAI(
        azure_endpoint=azure_openai.endpoint,
        api_version=azure_openai.api_version,
        azure_ad_token_provider=token_provider(GITHUB_SPEC),
        max_retries=0,  # a 401 would surface at once instead of being hidden by a retry
    )
    calls = int(1200 // step)  # 20 minutes: ten token lifetimes
    for _ in range(calls):
        answer = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
        assert answer.choices[0].message.content
        fake_clock.advance(step)

    assert azure_openai.unauthorized == 0, azure_openai.rejections
    assert len(azure_openai.completions) == calls
    assert trusted_github.refusals == []
    lifetimes = 1200 / 120
    # Renewed in each token's advisory window (or on first use after it): at most twice per lifetime.
    assert min(calls, lifetimes) <= trusted_github.token_requests <= 2 * lifetimes + 2
    # Every assertion Entra saw was valid when it saw it (Entra refuses others: refusals is empty), and the
    # ID token was re-fetched as it aged rather than reused.
    assert github_actions.count() >= 1200 / 300


def test_token_info_refresh_on_drives_azure_core_style_callers(
    trusted_github: EntraEmulator, fake_clock: FakeClock
) -> None:
    trusted_github.expires_in = 120
    credential = OIDCCredential(GITHUB_SPEC)
    first = credential.get_token_info(SCOPE)
    assert first.refresh_on is not None
    assert first.expires_on - 37 <= first.refresh_on <= first.expires_on - 28

    fake_clock.advance(83)
    assert credential.get_token_info(SCOPE).token == first.token
    fake_clock.advance(9)
    second = credential.get_token_info(SCOPE)
    assert second.token != first.token
    assert second.expires_on > first.expires_on


def test_a_failed_early_renewal_keeps_the_valid_token(
    trusted_github: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    fake_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trusted_github.expires_in = 120
    provider = token_provider(GITHUB_SPEC)
    first = provider()

    fake_clock.advance(93)  # renewal due; Entra is down
    trusted_github.down()
    with caplog.at_level(logging.WARNING, logger="oidc_credential_chain"):
        assert provider() == first
    assert "renewing the Entra access token for oidc/github/api://AzureADTokenExchange failed" in caplog.text
    assert "stays in use for" in caplog.text
    assert first not in caplog.text
    # Within the retry delay the failed renewal is not repeated on every call.
    assert provider() == first

    fake_clock.advance(12)  # 105 s: under 19 s left, so the token is no longer handed out
    with pytest.raises(EntraExchangeError, match="did not answer"):
        provider()

    trusted_github.up()
    renewed = provider()
    assert renewed != first
    assert trusted_github.verify_access_token(renewed)["exp"] > fake_clock.wall() + 100


def test_renewal_resumes_after_the_retry_delay(trusted_github: EntraEmulator, fake_clock: FakeClock) -> None:
    trusted_github.expires_in = 120
    provider = token_provider(GITHUB_SPEC)
    first = provider()
    fake_clock.advance(92)
    trusted_github.inject_error(90002)  # any refusal: the early renewal fails once
    assert provider() == first
    requests_so_far = trusted_github.token_requests
    assert provider() == first
    assert trusted_github.token_requests == requests_so_far

    fake_clock.advance(6)  # past the retry delay, still before the token must be replaced
    assert provider() != first
