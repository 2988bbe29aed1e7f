"""The async credential and token provider: same behaviour, and the event loop never blocks."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable
from typing import TypeVar

import openai
import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.credentials_async import AsyncSupportsTokenInfo, AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from oidc_credential_chain.azure import EntraExchangeError, aio
from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
)
from tests.azure.support import GITHUB_SPEC, SCOPE, FakeClock

T = TypeVar("T")


async def ticks_while(awaitable: Awaitable[T], interval: float = 0.01) -> tuple[T, int]:
    """Await ``awaitable`` while counting how often another task got to run."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(interval)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await awaitable
    finally:
        task.cancel()
    return result, ticks


async def test_async_get_token(trusted_github: EntraEmulator) -> None:
    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        assert isinstance(credential, AsyncTokenCredential)
        assert isinstance(credential, AsyncSupportsTokenInfo)
        token = await credential.get_token(SCOPE)
        info = await credential.get_token_info(SCOPE)

    assert isinstance(token, AccessToken) and isinstance(info, AccessTokenInfo)
    assert info.token == token.token
    assert info.refresh_on is not None and info.refresh_on < info.expires_on
    assert trusted_github.verify_access_token(token.token)["appid"] == trusted_github.client_id
    assert trusted_github.token_requests == 1


async def test_close_then_use_again(trusted_github: EntraEmulator) -> None:
    credential = aio.OIDCCredential(GITHUB_SPEC)
    await credential.get_token(SCOPE)
    await credential.close()
    assert (await credential.get_token("api://other/.default")).token
    await credential.close()


async def test_the_loop_keeps_running_while_the_identity_provider_is_slow(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    github_actions.faults.delay = 1.0
    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        token, ticks = await ticks_while(credential.get_token(SCOPE))

    assert token.token
    # A blocked loop would tick at most once or twice in that second; a free one about 100 times.
    assert ticks >= 20


async def test_the_loop_keeps_running_while_entra_is_slow(trusted_github: EntraEmulator) -> None:
    trusted_github.faults.delay = 1.0
    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        token, ticks = await ticks_while(credential.get_token(SCOPE))

    assert token.token
    assert ticks >= 20


async def test_32_concurrent_coroutines_make_one_entra_request(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    trusted_github.faults.delay = 0.3
    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        tokens = await asyncio.gather(*(credential.get_token(SCOPE) for _ in range(32)))

    assert len({t.token for t in tokens}) == 1
    assert trusted_github.token_requests == 1
    assert github_actions.count() == 1


async def test_32_concurrent_coroutines_share_a_failure(trusted_github: EntraEmulator) -> None:
    trusted_github.inject_error(700016, times=100)
    trusted_github.faults.delay = 0.3
    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        results = await asyncio.gather(
            *(credential.get_token(SCOPE) for _ in range(32)), return_exceptions=True
        )

    assert all(isinstance(r, EntraExchangeError) and r.code == "AADSTS700016" for r in results)
    assert trusted_github.token_requests == 1


async def test_async_azure_openai_end_to_end(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> None:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=azure_openai.endpoint,
        api_version=azure_openai.api_version,
        azure_ad_token_provider=aio.token_provider(GITHUB_SPEC),
    )
    answers = await asyncio.gather(
        *(
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": f"question {i}"}]
            )
            for i in range(5)
        )
    )
    await client.close()

    assert sorted(a.choices[0].message.content or "" for a in answers) == [
        f"Hello from the Azure OpenAI emulator. You said: question {i}" for i in range(5)
    ]
    assert azure_openai.unauthorized == 0
    assert trusted_github.token_requests == 1
    assert {c.principal for c in azure_openai.completions} == {trusted_github.app().object_id}


async def test_async_two_minute_tokens_never_reach_azure_openai_expired(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator, fake_clock: FakeClock
) -> None:
    trusted_github.expires_in = 120
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=azure_openai.endpoint,
        api_version=azure_openai.api_version,
        azure_ad_token_provider=aio.token_provider(GITHUB_SPEC),
        max_retries=0,
    )
    for _ in range(60):
        await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        fake_clock.advance(17)
    await client.close()

    assert azure_openai.unauthorized == 0, azure_openai.rejections
    assert trusted_github.refusals == []
    assert 8 <= trusted_github.token_requests <= 20


async def test_async_failed_early_renewal_keeps_the_valid_token(
    trusted_github: EntraEmulator, fake_clock: FakeClock
) -> None:
    trusted_github.expires_in = 120
    provider = aio.token_provider(GITHUB_SPEC)
    first = await provider()
    fake_clock.advance(70)
    trusted_github.down()
    assert await provider() == first
    fake_clock.advance(40)
    with pytest.raises(EntraExchangeError, match="did not answer"):
        await provider()
    trusted_github.up()
    assert await provider() != first


async def test_async_unconfigured_is_unavailable(
    entra: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_TENANT_ID")
    credential = aio.OIDCCredential(GITHUB_SPEC)
    with pytest.raises(CredentialUnavailableError, match="AZURE_TENANT_ID"):
        await credential.get_token(SCOPE)
    with pytest.raises(CredentialUnavailableError, match="AZURE_TENANT_ID"):
        aio.token_provider(GITHUB_SPEC)


async def test_async_empty_scope(trusted_github: EntraEmulator) -> None:
    credential = aio.OIDCCredential(GITHUB_SPEC)
    with pytest.raises(ValueError, match="needs at least one scope"):
        await credential.get_token()
    with pytest.raises(ValueError, match="token_provider needs at least one scope"):
        aio.token_provider(GITHUB_SPEC, scope=())


async def test_async_refusal_carries_code_and_claims(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    entra.add_federated_credential(github_issuer, "repo:octo-org/other-repo:ref:refs/heads/main")
    credential = aio.OIDCCredential(GITHUB_SPEC)
    with pytest.raises(EntraExchangeError) as excinfo:
        await credential.get_token(SCOPE)
    assert isinstance(excinfo.value, ClientAuthenticationError)
    assert excinfo.value.code == "AADSTS700213"
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in str(excinfo.value)
    await credential.close()


async def test_async_entra_unreachable_in_bounded_time(trusted_github: EntraEmulator) -> None:
    trusted_github.down()
    credential = aio.OIDCCredential(GITHUB_SPEC)
    started = time.monotonic()
    with pytest.raises(EntraExchangeError, match="did not answer"):
        await credential.get_token(SCOPE)
    assert time.monotonic() - started < 8
    await credential.close()


async def test_async_assertion_out_of_range_is_retried_with_a_fresh_one(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    trusted_github.inject_error("AADSTS700024")
    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        assert (await credential.get_token(SCOPE)).token
    assert github_actions.count() == 2
    assert trusted_github.token_requests == 2


async def test_without_aiohttp_requests_runs_in_the_executor(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    credential = aio.OIDCCredential(GITHUB_SPEC)
    assert type(credential._pipeline._transport).__name__ == "AsyncioRequestsTransport"
    token, ticks = await ticks_while(credential.get_token(SCOPE))
    assert trusted_github.verify_access_token(token.token)
    assert ticks >= 1  # requests ran in the executor, not on the loop
    await credential.close()
