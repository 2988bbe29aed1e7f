"""Single flight: concurrent first calls share one request to Entra (and one to the identity provider)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from oidc_credential_chain.azure import OIDCCredential, token_provider
from oidc_credential_chain.testing import EntraEmulator, GitHubActionsTokenEndpoint
from tests.azure.support import GITHUB_SPEC, SCOPE, FakeClock

CALLERS = 32


def run_together(function: object) -> list[str]:
    barrier = threading.Barrier(CALLERS)

    def call(_: int) -> str:
        barrier.wait()
        return function()  # type: ignore[operator,no-any-return]

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(call, range(CALLERS)))


def test_32_concurrent_first_calls_make_one_entra_request(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    trusted_github.faults.delay = 0.3  # everyone arrives while the first request is in flight
    credential = OIDCCredential(GITHUB_SPEC)

    tokens = run_together(lambda: credential.get_token(SCOPE).token)

    assert len(set(tokens)) == 1
    assert trusted_github.token_requests == 1
    assert github_actions.count() == 1


def test_32_concurrent_token_providers_make_one_entra_request(trusted_github: EntraEmulator) -> None:
    trusted_github.faults.delay = 0.3
    # As an LLM gateway does: a new provider (and client) per request.
    tokens = run_together(lambda: token_provider(GITHUB_SPEC)())

    assert len(set(tokens)) == 1
    assert trusted_github.token_requests == 1


def test_concurrent_callers_during_renewal_keep_the_current_token(
    trusted_github: EntraEmulator, fake_clock: FakeClock
) -> None:
    trusted_github.expires_in = 120
    provider = token_provider(GITHUB_SPEC)
    first = provider()
    fake_clock.advance(93)  # in the advisory window (opens 84-91 s into a 120 s life), not yet stale
    trusted_github.faults.delay = 0.3

    tokens = run_together(provider)

    assert trusted_github.token_requests == 2  # one renewal for all 32
    assert first in tokens  # callers that arrived during the renewal were served the valid token
    assert provider() != first


def test_failed_first_call_is_shared_not_repeated(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    trusted_github.inject_error(700016, times=100)
    trusted_github.faults.delay = 0.3
    credential = OIDCCredential(GITHUB_SPEC)
    errors: list[str] = []

    def call() -> str:
        try:
            return credential.get_token(SCOPE).token
        except Exception as err:
            errors.append(type(err).__name__)
            return ""

    run_together(call)

    assert errors == ["EntraExchangeError"] * CALLERS
    # The callers that waited for the failed request got its error instead of repeating it in turn.
    assert trusted_github.token_requests == 1
    assert github_actions.count() == 1
