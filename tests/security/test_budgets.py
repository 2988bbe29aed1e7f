"""Time budgets hold against servers that drip their answers.

A 2 s budget (``OIDC_CREDENTIAL_CHAIN_TIMEOUT``) and a server that promises 64 KiB and sends
one byte every half second (or sends its headers that way): every path returns its documented
error within the budget plus a second of slack (asserted with generous room for a loaded
machine), where reading until the drip ends would take ten seconds or more.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest

from oidc_credential_chain import ExchangeError, TokenFetchError, get_id_token
from oidc_credential_chain._internal.http import reset_default_client
from tests.security.hostile import Drip, HeaderDrip, HostileServer, seconds

BUDGET = 2.0
#: The documented behaviour is budget + 1 s; the assertion leaves room for a loaded machine.
CEILING = BUDGET + 3.0
#: 20 bytes at 0.5 s: reading until the drip ends takes 10 s.
DRIP = Drip(length=65536, count=20, interval=0.5)


def unsigned_jwt(**claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    body = {"iss": "https://issuer.example", "sub": "s", "aud": "a", "exp": int(time.time()) + 600, **claims}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(body)}.c2ln"


@pytest.fixture(autouse=True)
def _budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", str(BUDGET))
    reset_default_client()


@pytest.fixture(params=["body", "headers"])
def dripping(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    """A server dripping its body (after complete headers), or its headers (which never end)."""
    behaviour = DRIP if request.param == "body" else HeaderDrip(count=DRIP.count, interval=DRIP.interval)
    with HostileServer(behaviour) as server:
        yield server


def test_github_token_endpoint_drip(dripping: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{dripping.url}/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")

    result, elapsed = seconds(lambda: get_id_token("oidc/github/sts.amazonaws.com"))

    assert isinstance(result, TokenFetchError)
    assert "timed out" in str(result)
    assert elapsed < CEILING


def test_gcp_metadata_drip(dripping: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{dripping.port}")

    result, elapsed = seconds(lambda: get_id_token("oidc/google/https://example.com"))

    assert isinstance(result, TokenFetchError)
    assert "timed out" in str(result)
    assert elapsed < CEILING


def test_sts_drip(dripping: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    import oidc_credential_chain.aws as aws

    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="sts.amazonaws.com"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/env/ID_TOKEN")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", dripping.url)
    aws.install()

    result, elapsed = seconds(lambda: boto3.Session().get_credentials())

    assert isinstance(result, ExchangeError), repr(result)
    assert "could not reach AWS STS" in str(result)
    assert "timeout" in str(result).lower(), str(result)
    assert elapsed < CEILING


def test_entra_drip(dripping: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure import OIDCCredential

    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="api://AzureADTokenExchange"))
    credential = OIDCCredential(
        "oidc/env/ID_TOKEN",
        tenant_id="00000000-0000-0000-0000-000000000000",
        client_id="11111111-1111-1111-1111-111111111111",
        authority=dripping.url,
    )

    result, elapsed = seconds(lambda: credential.get_token("https://cognitiveservices.azure.com/.default"))

    assert isinstance(result, ClientAuthenticationError), repr(result)
    assert isinstance(result, ExchangeError)
    assert elapsed < CEILING


async def test_async_entra_drip(dripping: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure.aio import OIDCCredential

    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="api://AzureADTokenExchange"))
    started = time.monotonic()
    async with OIDCCredential(
        "oidc/env/ID_TOKEN",
        tenant_id="00000000-0000-0000-0000-000000000000",
        client_id="11111111-1111-1111-1111-111111111111",
        authority=dripping.url,
    ) as credential:
        with pytest.raises(ClientAuthenticationError) as info:
            await credential.get_token("https://cognitiveservices.azure.com/.default")

    assert isinstance(info.value, ExchangeError)
    assert time.monotonic() - started < CEILING
