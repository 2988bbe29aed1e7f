"""Transport attacks over loopback: floods, clear-text endpoints, ~/.netrc, proxies.

Floods are 20 MB answers; a capped reader stops after about 1 MiB, so the server manages to
hand the kernel only what fits in socket buffers, far less than the flood.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, ExchangeError, TokenFetchError, get_id_token
from oidc_credential_chain._internal.http import reset_default_client
from tests.security.hostile import Answer, Flood, HostileServer
from tests.security.test_budgets import unsigned_jwt

FLOOD = 20 * 1024 * 1024
#: What a capped reader may let through: the cap plus generous socket buffers on both sides.
STOPPED_EARLY = FLOOD // 2
TENANT = "00000000-0000-0000-0000-000000000000"
CLIENT = "11111111-1111-1111-1111-111111111111"


@pytest.fixture(autouse=True)
def _budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "5")
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_default_client()


@pytest.fixture
def flooding() -> Iterator[HostileServer]:
    with HostileServer(Flood(size=FLOOD, prefix=b'{"value": "')) as server:
        yield server


# --- size caps -------------------------------------------------------------------------------


def test_a_flooding_idp_is_cut_off_at_the_cap(
    flooding: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{flooding.url}/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")

    with pytest.raises(TokenFetchError, match=r"is larger than 1048576 bytes; refused"):
        get_id_token("oidc/github/sts.amazonaws.com")

    assert len(flooding.requests) == 1  # an oversized answer is not asked for again
    assert flooding.sent < STOPPED_EARLY


def test_a_flooding_sts_is_cut_off_at_the_cap(
    flooding: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    import oidc_credential_chain.aws as aws

    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="sts.amazonaws.com"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/env/ID_TOKEN")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", flooding.url)
    aws.install()

    with pytest.raises(ExchangeError) as info:
        boto3.Session().get_credentials()

    assert "is larger than 1048576 bytes; refused" in str(info.value)
    assert flooding.sent < STOPPED_EARLY * len(flooding.requests)


def test_a_flooding_entra_is_cut_off_at_the_cap(
    flooding: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure import OIDCCredential

    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="api://AzureADTokenExchange"))
    credential = OIDCCredential(
        "oidc/env/ID_TOKEN", tenant_id=TENANT, client_id=CLIENT, authority=flooding.url
    )

    with pytest.raises(ClientAuthenticationError) as info:
        credential.get_token("https://cognitiveservices.azure.com/.default")

    assert isinstance(info.value, ExchangeError)
    assert "is larger than 1048576 bytes; refused" in str(info.value)
    assert flooding.sent < STOPPED_EARLY * len(flooding.requests)


def test_a_flooding_buildkite_agent_is_stopped_at_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "finished"
    agent = bin_dir / "buildkite-agent"
    # 20 MB of output, then a marker the agent writes only if it was allowed to finish.
    agent.write_text(f"#!/bin/sh\nhead -c {FLOOD} /dev/zero | tr '\\0' a\necho done > {marker}\n")
    agent.chmod(agent.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/buildkite/sts.amazonaws.com")

    assert str(info.value) == (
        "oidc/buildkite/sts.amazonaws.com: 'buildkite-agent oidc request-token' printed more than 65536 "
        "bytes; not a token (the agent was stopped and the rest not read)"
    )
    assert not marker.exists()


# --- clear text ------------------------------------------------------------------------------


def test_a_plain_http_sts_endpoint_off_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    import oidc_credential_chain.aws as aws

    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="sts.amazonaws.com"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/env/ID_TOKEN")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # .invalid never resolves (RFC 6761): even a request sent by mistake would reach nobody.
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://sts.example.invalid")
    aws.install()

    with pytest.raises(ConfigurationError) as info:
        boto3.Session().get_credentials()

    assert str(info.value).startswith(
        "refusing the STS endpoint http://sts.example.invalid: https is required (plain http only on "
        "loopback), or the web identity token would cross the network in clear text"
    )
    assert "AWS_ENDPOINT_URL_STS" in str(info.value)


# --- ~/.netrc --------------------------------------------------------------------------------


@pytest.fixture
def netrc_for_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = Path(os.environ["HOME"])
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    return netrc


def test_metadata_requests_never_carry_netrc_credentials(
    netrc_for_loopback: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = unsigned_jwt(aud="https://example.com")
    with HostileServer(Answer(200, token.encode(), {"Metadata-Flavor": "Google"})) as server:
        monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{server.port}")
        assert get_id_token("oidc/google/https://example.com") == token

    assert "authorization" not in server.requests[0].headers


def test_entra_token_requests_never_carry_netrc_credentials(
    netrc_for_loopback: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure import OIDCCredential

    refusal = json.dumps({"error": "invalid_client", "error_description": "AADSTS700016: no"}).encode()
    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="api://AzureADTokenExchange"))
    with HostileServer(Answer(400, refusal, {"Content-Type": "application/json"})) as server:
        credential = OIDCCredential(
            "oidc/env/ID_TOKEN", tenant_id=TENANT, client_id=CLIENT, authority=server.url
        )
        with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
            credential.get_token("https://cognitiveservices.azure.com/.default")

    assert server.requests and all("authorization" not in r.headers for r in server.requests)


async def test_async_entra_token_requests_never_carry_netrc_credentials(
    netrc_for_loopback: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure.aio import OIDCCredential

    refusal = json.dumps({"error": "invalid_client", "error_description": "AADSTS700016: no"}).encode()
    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="api://AzureADTokenExchange"))
    with HostileServer(Answer(400, refusal, {"Content-Type": "application/json"})) as server:
        async with OIDCCredential(
            "oidc/env/ID_TOKEN", tenant_id=TENANT, client_id=CLIENT, authority=server.url
        ) as credential:
            with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
                await credential.get_token("https://cognitiveservices.azure.com/.default")

    assert server.requests and all("authorization" not in r.headers for r in server.requests)


# --- proxies ---------------------------------------------------------------------------------


def test_environment_proxies_carry_idp_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    token = unsigned_jwt(aud="sts.amazonaws.com")
    with HostileServer(Answer(200, json.dumps({"value": token}).encode())) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/token?api-version=2.0")
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")

        assert get_id_token("oidc/github/sts.amazonaws.com") == token

    assert proxy.requests[0].target.startswith("http://127.0.0.1:9/token?api-version=2.0")


def test_proxy_credentials_go_to_the_proxy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    token = unsigned_jwt(aud="sts.amazonaws.com")
    with HostileServer(Answer(200, json.dumps({"value": token}).encode())) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://proxy%40user:s%3Acret@127.0.0.1:{proxy.port}")
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/token?api-version=2.0")
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")

        assert get_id_token("oidc/github/sts.amazonaws.com") == token

    expected = "Basic " + base64.b64encode(b"proxy@user:s:cret").decode()
    assert proxy.requests[0].headers["proxy-authorization"] == expected
    assert proxy.requests[0].headers["authorization"] == "Bearer request-token"


def test_no_proxy_exempts_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    token = unsigned_jwt(aud="sts.amazonaws.com")
    with (
        HostileServer(Answer(500, b"the proxy must not be used")) as proxy,
        HostileServer(Answer(200, json.dumps({"value": token}).encode())) as idp,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{idp.url}/token?api-version=2.0")
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")

        assert get_id_token("oidc/github/sts.amazonaws.com") == token

    assert proxy.requests == [] and len(idp.requests) == 1


def test_metadata_requests_ignore_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    token = unsigned_jwt(aud="https://example.com")
    with (
        HostileServer(Answer(500, b"the proxy must not be used")) as proxy,
        HostileServer(Answer(200, token.encode(), {"Metadata-Flavor": "Google"})) as metadata,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{metadata.port}")

        assert get_id_token("oidc/google/https://example.com") == token

    assert proxy.requests == [] and len(metadata.requests) == 1
