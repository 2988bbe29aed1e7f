"""A child forked in the middle of a fetch, an exchange or a refresh gets what it asks for.

Before the library reset its locks after fork, each of these children waited forever on a
lock held by a parent's thread that does not exist in the child.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import oidc_credential_chain
from oidc_credential_chain.aws import config as aws_config
from oidc_credential_chain.aws import installer as aws_installer
from oidc_credential_chain.lifecycle import fork
from oidc_credential_chain.testing import EntraEmulator, GitHubActionsTokenEndpoint, STSEmulator
from oidc_credential_chain.testing._server import Fault
from tests.process_models.support import (
    AWS_SPEC,
    AZURE_SPEC,
    SCOPE,
    aws_session,
    in_background,
    in_forked_child,
)

#: How long the emulator takes to answer the request in flight at fork time.
SLOW = 3.0
#: Generous upper bound for the child (the library's budget here is 8 s; a stuck child never answers).
CHILD_BOUND = 15.0


def test_fork_during_an_id_token_fetch(github: GitHubActionsTokenEndpoint, fork_while: Any) -> None:
    github.faults.delay = SLOW
    fork_while(lambda: oidc_credential_chain.get_id_token("oidc/github/aud"))

    child = in_forked_child(lambda: len(oidc_credential_chain.get_id_token("oidc/github/aud").split(".")))

    assert not child.stuck, "the child waited on the lock of the parent's fetch"
    assert child.error is None
    assert child.value == 3
    assert child.seconds < CHILD_BOUND


def test_fork_during_an_sts_exchange(
    github: GitHubActionsTokenEndpoint, sts: STSEmulator, role: str, fork_while: Any
) -> None:
    oidc_credential_chain.get_id_token(AWS_SPEC)  # the ID token is cached; STS is slow
    sts.faults.delay = SLOW
    fork_while(lambda: aws_session(role).get_credentials().get_frozen_credentials())

    child = in_forked_child(
        lambda: aws_session(role).get_credentials().get_frozen_credentials().access_key[:4]
    )

    assert not child.stuck, "the child waited on the lock of the parent's STS exchange"
    assert child.error is None
    assert child.value == "ASIA"
    assert child.seconds < CHILD_BOUND


def test_fork_during_an_entra_exchange(
    github: GitHubActionsTokenEndpoint, trusting_entra: EntraEmulator, fork_while: Any
) -> None:
    from oidc_credential_chain.azure import OIDCCredential, token_provider

    provider = token_provider(AZURE_SPEC)
    credential = OIDCCredential(AZURE_SPEC)
    oidc_credential_chain.get_id_token(AZURE_SPEC)
    trusting_entra.faults.delay = SLOW
    fork_while(provider, after=0.2)
    fork_while(lambda: credential.get_token(SCOPE))

    child = in_forked_child(lambda: [provider() != "", credential.get_token(SCOPE).token != ""])

    assert not child.stuck, "the child waited on the single-flight lock of the parent's Entra request"
    assert child.error is None
    assert child.value == [True, True]
    assert child.seconds < CHILD_BOUND


def test_fork_during_a_botocore_refresh(
    github: GitHubActionsTokenEndpoint, sts: STSEmulator, role: str, fork_while: Any
) -> None:
    # Credentials that live 3 s: their mandatory window is the last 0.45 s.
    sts.credential_lifetime = 3.0
    credentials = aws_session(role).get_credentials()
    first = credentials.get_frozen_credentials().access_key
    sts.faults.add(Fault(delay=SLOW))  # the refresh in flight at fork time is slow
    while not credentials.refresh_needed(0.4):
        time.sleep(0.02)
    fork_while(credentials.get_frozen_credentials)

    child = in_forked_child(lambda: credentials.get_frozen_credentials().access_key)

    assert not child.stuck, "the child waited on botocore's refresh lock, held by a parent's thread"
    assert child.error is None
    assert child.value != first
    assert child.seconds < CHILD_BOUND


def test_fork_during_an_aiobotocore_refresh(
    github: GitHubActionsTokenEndpoint, sts: STSEmulator, role: str, fork_while: Any
) -> None:
    pytest.importorskip("aiobotocore.session", reason="the [aio] extra is not installed")
    import asyncio

    from aiobotocore.session import get_session

    from oidc_credential_chain.aws.aio.provider import AioOIDCWebIdentityProvider
    from oidc_credential_chain.aws.config import WebIdentityConfig

    sts.credential_lifetime = 3.0
    config = WebIdentityConfig.create(token=AWS_SPEC, role_arn=role, region="us-east-1")
    provider = AioOIDCWebIdentityProvider(get_session(), config=config)
    credentials = asyncio.run(provider.load())
    first = asyncio.run(credentials.get_frozen_credentials()).access_key
    sts.faults.add(Fault(delay=SLOW))  # the refresh in flight at fork time is slow
    while not credentials.refresh_needed(0.4):
        time.sleep(0.02)
    # A parent's loop holds the asyncio refresh lock while its worker thread asks STS.
    fork_while(lambda: asyncio.run(credentials.get_frozen_credentials()))

    child = in_forked_child(lambda: asyncio.run(credentials.get_frozen_credentials()).access_key)

    assert not child.stuck, "the child waited on aiobotocore's refresh lock, held by a parent's task"
    assert child.error is None
    assert child.value != first
    assert child.seconds < CHILD_BOUND


def test_a_child_opens_its_own_connections_with_the_pool_lock_held_at_fork(
    github: GitHubActionsTokenEndpoint,
) -> None:
    import oidc_credential_chain._internal.http as http

    oidc_credential_chain.get_id_token("oidc/github/aud")  # the parent pools a connection
    parents_pools = dict(http._managers)
    held, release = threading.Event(), threading.Event()

    def hold_the_pool_lock() -> None:  # a parent's thread making a pool at fork time
        with http._managers_lock:
            held.set()
            release.wait(CHILD_BOUND)

    holder = in_background(hold_the_pool_lock)
    assert held.wait(5)
    try:
        child = in_forked_child(
            lambda: [
                len(oidc_credential_chain.get_id_token("oidc/github/other").split(".")),
                any(pool is parents_pools.get(key) for key, pool in http._managers.items()),
            ]
        )
    finally:
        release.set()
        holder.join()

    assert parents_pools
    assert not child.stuck, "the child waited on the pool lock held by a parent's thread"
    assert child.error is None
    assert child.value == [3, False]  # a token, through pools that are not the parent's
    assert child.seconds < CHILD_BOUND


def test_a_fork_keeps_valid_cached_values(github: GitHubActionsTokenEndpoint) -> None:
    token = oidc_credential_chain.get_id_token("oidc/github/aud")
    before = github.count()

    child = in_forked_child(lambda: [oidc_credential_chain.get_id_token("oidc/github/aud"), fork.forks_seen])

    assert child.error is None
    assert child.value[0] == token
    assert child.value[1] >= 1
    assert github.count() == before  # the child asked nobody


@pytest.mark.parametrize(
    "held",
    [
        pytest.param(lambda: aws_config._default_lock, id="aws-session-name"),
        pytest.param(lambda: aws_installer._lock, id="aws-installer"),
        pytest.param(lambda: fork.ForkSafeLock(), id="plain"),
    ],
)
def test_a_lock_a_parents_thread_holds_at_fork_is_free_in_the_child(held: Any) -> None:
    lock = held()
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            release.wait(CHILD_BOUND)

    holder = in_background(hold)
    assert taken.wait(5)
    try:

        def take() -> bool:
            with lock:
                return True

        child = in_forked_child(take)
    finally:
        release.set()
        holder.join(5)

    assert not child.stuck, "the child waited on a lock held by a parent's thread"
    assert child.error is None
    assert child.value is True


def test_an_object_that_fails_to_reset_does_not_stop_the_others() -> None:
    class Broken:
        def after_fork_in_child(self) -> None:
            raise RuntimeError("broken")

    class Counting:
        resets = 0

        def after_fork_in_child(self) -> None:
            self.resets += 1

    broken, counting = Broken(), Counting()
    fork.reset_after_fork(broken)
    fork.reset_after_fork(counting)

    child = in_forked_child(lambda: counting.resets)

    assert child.error is None
    assert child.value == 1
    assert counting.resets == 0  # only in the child


@pytest.mark.parametrize("workers", [4])
def test_a_multiprocessing_fork_pool_reuses_the_parents_credentials(
    github: GitHubActionsTokenEndpoint, sts: STSEmulator, role: str, workers: int
) -> None:
    import multiprocessing

    parent_key = aws_session(role).get_credentials().get_frozen_credentials().access_key
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        keys = pool.map(_access_key, [role] * (workers * 16))

    assert set(keys) == {parent_key}
    assert sts.calls() == 1
    assert github.count() == 1


def test_a_multiprocessing_fork_pool_started_during_an_exchange(
    github: GitHubActionsTokenEndpoint, sts: STSEmulator, role: str, fork_while: Any
) -> None:
    import multiprocessing

    oidc_credential_chain.get_id_token(AWS_SPEC)
    sts.faults.add(Fault(delay=SLOW))
    fork_while(lambda: aws_session(role).get_credentials().get_frozen_credentials())
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(_access_key, [role] * 8)
        keys = result.get(timeout=CHILD_BOUND)

    assert all(key.startswith("ASIA") for key in keys)


def _access_key(role: str) -> str:
    return str(aws_session(role).get_credentials().get_frozen_credentials().access_key)
