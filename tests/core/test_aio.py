"""oidc_credential_chain.aio: the async twins never block the event loop."""

from __future__ import annotations

import asyncio

import pytest

import oidc_credential_chain
import oidc_credential_chain.aio
from oidc_credential_chain import ConfigurationError, TokenFetchError
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, OIDCIssuer


async def test_the_loop_keeps_running_while_the_endpoint_is_slow(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    github_actions.faults.delay = 0.5
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    token = await oidc_credential_chain.aio.get_id_token("oidc/github/sts.amazonaws.com")
    stop.set()
    await ticking

    assert github_issuer.verify(token, audience="sts.amazonaws.com")
    # A blocked loop would have ticked once; a free one ticks about 50 times in 0.5 s.
    assert ticks >= 10


async def test_concurrent_tasks_and_threads_share_one_fetch(
    github_actions: GitHubActionsTokenEndpoint,
) -> None:
    github_actions.faults.delay = 0.3
    spec = "oidc/github/sts.amazonaws.com"

    results = await asyncio.gather(
        *[oidc_credential_chain.aio.get_id_token(spec) for _ in range(8)],
        asyncio.to_thread(oidc_credential_chain.get_id_token, spec),
    )

    assert len(set(results)) == 1
    assert github_actions.count() == 1


async def test_force_refresh(github_actions: GitHubActionsTokenEndpoint) -> None:
    spec = "oidc/github/sts.amazonaws.com"
    first = await oidc_credential_chain.aio.fetch_id_token(spec)

    again = await oidc_credential_chain.aio.fetch_id_token(spec)
    fresh = await oidc_credential_chain.aio.fetch_id_token(spec, force_refresh=True)

    assert again is first
    assert fresh.value != first.value
    assert github_actions.count() == 2


async def test_errors_are_the_same_as_sync(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.fail(403, body={"message": "no"})

    with pytest.raises(TokenFetchError, match="HTTP 403: no"):
        await oidc_credential_chain.aio.get_id_token("oidc/github/sts.amazonaws.com")
    with pytest.raises(ConfigurationError, match="takes no argument"):
        await oidc_credential_chain.aio.get_id_token("oidc/circleci/x")
