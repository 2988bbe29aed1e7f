"""aiobotocore / aioboto3: unmodified async code, the same variables, profiles and precedence.

The aioboto3 test runs where aioboto3 is installed (``.ci/run``'s botocore-1.34 job): every
aioboto3 release pins an aiobotocore older than the botocore the main environment needs.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

aiobotocore_session = pytest.importorskip("aiobotocore.session", reason="the [aio] extra is not installed")

import oidc_credential_chain.aws as aws  # noqa: E402
from tests.aws.support import MODEL, SPEC, AwsWorld  # noqa: E402

pytestmark = pytest.mark.aio

STATIC_KEY = "AKIAEXAMPLESTATIC01"
STATIC_SECRET = "static-secret-key-for-tests-000000000000"


async def converse(session: Any, text: str = "hello") -> str:
    # aiobotocore's sessions have create_client, aioboto3's client.
    create = getattr(session, "create_client", None) or session.client
    async with create("bedrock-runtime", region_name="us-east-1") as client:
        response = await client.converse(
            modelId=MODEL, messages=[{"role": "user", "content": [{"text": text}]}]
        )
    return str(response["output"]["message"]["content"][0]["text"])


async def test_env_spec_with_unmodified_aiobotocore_code(world: AwsWorld) -> None:
    from aiobotocore.credentials import AioRefreshableCredentials

    world.use_env_identity(AWS_ROLE_SESSION_NAME="async-env")
    aws.install()
    session = aiobotocore_session.get_session()
    await converse(session)
    credentials = await session.get_credentials()
    assert isinstance(credentials, AioRefreshableCredentials)
    assert credentials.method == "oidc-web-identity"
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/async-env"]


async def test_profile_keys_and_explicit_profile(world: AwsWorld) -> None:
    world.write_config(
        f"[profile ci]\noidc_web_identity_token = {SPEC}\noidc_role_arn = {world.role}\n"
        "oidc_role_session_name = async-profile\n"
    )
    # An explicitly chosen profile ignores the environment, ours included.
    world.use_env_identity(AWS_ROLE_SESSION_NAME="from-env")
    aws.install()
    await converse(aiobotocore_session.AioSession(profile="ci"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/async-profile"]


async def test_static_environment_keys_win(world: AwsWorld) -> None:
    world.sts.add_access_key(STATIC_KEY, STATIC_SECRET, arn="arn:aws:iam::123456789012:user/static")
    world.use_env_identity(AWS_ACCESS_KEY_ID=STATIC_KEY, AWS_SECRET_ACCESS_KEY=STATIC_SECRET)
    aws.install()
    await converse(aiobotocore_session.get_session())
    assert world.bedrock.callers() == ["arn:aws:iam::123456789012:user/static"]
    assert world.sts.calls() == 0 and world.token_fetches() == 0


async def test_thirty_two_tasks_on_a_cold_session_share_one_exchange(world: AwsWorld) -> None:
    world.use_env_identity()
    aws.install()
    session = aiobotocore_session.get_session()
    answers = await asyncio.gather(*(converse(session, f"task {n}") for n in range(32)))
    assert len(answers) == 32 and len(world.bedrock.calls) == 32
    assert world.token_fetches() == 1
    assert world.sts.calls() == 1


async def _max_gap_while(coroutine: Any) -> tuple[float, int]:
    """Run ``coroutine`` while a ticker counts; the longest the loop went without ticking."""
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await coroutine
    finally:
        task.cancel()
    ticks.append(time.monotonic())
    return max(b - a for a, b in itertools.pairwise(ticks)), len(ticks)


async def test_a_slow_identity_provider_and_sts_never_block_the_loop(world: AwsWorld) -> None:
    world.github.faults.delay = 1.0
    world.sts.faults.delay = 1.0
    world.use_env_identity()
    aws.install()
    gap, ticks = await _max_gap_while(converse(aiobotocore_session.get_session()))
    # Blocked, the loop would stand still for the whole 2 s; generous bound for a busy machine.
    assert gap < 1.0
    assert ticks > 10
    assert world.token_fetches() == 1 and world.sts.calls() == 1


async def test_refresh_runs_off_the_loop_with_the_same_windows(world: AwsWorld) -> None:
    world.sts.credential_lifetime = 2.0
    world.use_env_identity()
    aws.install()
    session = aiobotocore_session.get_session()
    credentials = await session.get_credentials()
    advisory, mandatory = credentials._advisory_refresh_timeout, credentials._mandatory_refresh_timeout
    assert 0 < mandatory < advisory < 1.0  # scaled to the 2 s lifetime, as on the sync path
    world.sts.faults.delay = 1.0
    while not credentials.refresh_needed(mandatory):  # wait for the mandatory window
        await asyncio.sleep(0.02)
    gap, _ = await _max_gap_while(credentials.get_frozen_credentials())
    assert gap < 1.0
    assert world.sts.calls() == 2
    await converse(session)
    assert len(world.bedrock.calls) == 1


async def test_a_failed_advisory_refresh_keeps_serving_and_backs_off(world: AwsWorld) -> None:
    world.sts.credential_lifetime = 4.0
    world.use_env_identity()
    aws.install()
    credentials = await aiobotocore_session.get_session().get_credentials()
    first = (await credentials.get_frozen_credentials()).access_key
    advisory, mandatory = credentials._advisory_refresh_timeout, credentials._mandatory_refresh_timeout
    while not credentials.refresh_needed(advisory):  # wait for the advisory window
        await asyncio.sleep(0.02)
    assert not credentials.refresh_needed(mandatory)
    world.sts.fail_with("AccessDenied", times=100)
    assert (await credentials.get_frozen_credentials()).access_key == first
    calls = world.sts.calls()
    assert (await credentials.get_frozen_credentials()).access_key == first
    assert world.sts.calls() == calls  # backing off: no new attempt at once


async def test_the_file_cache_serves_async_sessions(world: AwsWorld, tmp_path: Any) -> None:
    world.monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
    world.monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    world.use_env_identity()
    aws.install()
    await converse(aiobotocore_session.get_session())
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    aws.clear_exchange_cache()  # as another process would start
    await converse(aiobotocore_session.get_session())
    assert world.sts.calls() == 1 and world.token_fetches() == 1
    assert len({call.access_key_id for call in world.bedrock.calls}) == 1


async def test_typed_errors_through_aiobotocore(world: AwsWorld) -> None:
    from botocore.exceptions import CredentialRetrievalError

    from oidc_credential_chain import ExchangeError

    world.sts.fail_with("AccessDenied")
    world.use_env_identity()
    aws.install()
    with pytest.raises(CredentialRetrievalError) as info:
        await converse(aiobotocore_session.get_session())
    assert isinstance(info.value, ExchangeError)
    assert "refused AssumeRoleWithWebIdentity for arn:aws:iam::123456789012:role/bedrock" in str(info.value)


async def test_source_profile_chain_in_aiobotocore(world: AwsWorld) -> None:
    deploy = world.sts.allow_chain("deploy", world.role)
    world.write_config(
        f"[profile fed]\noidc_web_identity_token = {SPEC}\noidc_role_arn = {world.role}\n\n"
        f"[profile deploy]\nrole_arn = {deploy}\nsource_profile = fed\nrole_session_name = async-chain\n"
        "region = us-east-1\n"
    )
    aws.install()
    await converse(aiobotocore_session.AioSession(profile="deploy"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/deploy/async-chain"]
    assert world.sts.calls("AssumeRole") == 1


@pytest.mark.aioboto3
async def test_aioboto3_client(world: AwsWorld) -> None:
    aioboto3 = pytest.importorskip("aioboto3", reason="aioboto3 runs in .ci/run's botocore-1.34 job")
    world.use_env_identity(AWS_ROLE_SESSION_NAME="aioboto3")
    aws.install()
    await converse(aioboto3.Session())
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/aioboto3"]
