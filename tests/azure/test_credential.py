from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo, SupportsTokenInfo, TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import RequestsTransport

from oidc_credential_chain.azure import OIDCCredential
from oidc_credential_chain.errors import ConfigurationError
from oidc_credential_chain.testing import EntraEmulator, GitHubActionsTokenEndpoint, OIDCIssuer, loopback_ca
from tests.azure.support import GITHUB_SPEC, GITHUB_SUBJECT, SCOPE, FakeClock


def token_posts(entra: EntraEmulator) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode()) for r in entra.requests if r.path.endswith("/oauth2/v2.0/token")]


def test_get_token_exchanges_the_github_token_at_entra(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    token = credential.get_token(SCOPE)

    assert isinstance(token, AccessToken)
    claims = trusted_github.verify_access_token(token.token, audience="https://cognitiveservices.azure.com")
    assert claims["appid"] == trusted_github.client_id
    assert claims["tid"] == trusted_github.tenant_id
    # Counted from when the request was sent: never later than what Entra granted.
    assert 0 <= trusted_github.issued[0].expires_on - token.expires_on <= 1
    [form] = token_posts(trusted_github)
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert form["client_id"] == [trusted_github.client_id]
    assert form["scope"] == [SCOPE]
    assert trusted_github.issued[0].assertion_claims["sub"] == GITHUB_SUBJECT


def test_it_is_a_token_credential_with_token_info(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    assert isinstance(credential, TokenCredential)
    assert isinstance(credential, SupportsTokenInfo)

    info = credential.get_token_info(SCOPE)

    assert isinstance(info, AccessTokenInfo)
    assert info.token_type == "Bearer"
    assert info.refresh_on is not None
    # Renewal is due when the advisory window opens (at most 15 minutes, jittered), well before expiry.
    assert info.expires_on - 900 - 2 <= info.refresh_on <= info.expires_on - 720 + 2


def test_cached_token_is_reused_until_refresh_time(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    first = credential.get_token_info(SCOPE)
    second = credential.get_token_info(SCOPE)
    third = credential.get_token(SCOPE)

    assert first.token == second.token == third.token
    assert trusted_github.token_requests == 1


def test_each_scope_gets_its_own_token(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    openai_token = credential.get_token(SCOPE)
    api_token = credential.get_token("api://my-api/.default")

    assert trusted_github.verify_access_token(api_token.token)["aud"] == "api://my-api"
    assert (
        trusted_github.verify_access_token(openai_token.token)["aud"] == "https://cognitiveservices.azure.com"
    )
    assert trusted_github.token_requests == 2


def test_from_env_reads_azure_federated_token(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", GITHUB_SPEC)
    credential = OIDCCredential.from_env()

    assert credential.settings.spec is not None and credential.settings.spec.text == GITHUB_SPEC
    assert credential.settings.tenant_id == trusted_github.tenant_id
    assert credential.settings.client_id == trusted_github.client_id
    assert credential.settings.authority == trusted_github.authority
    assert credential.get_token(SCOPE).token


def test_arguments_win_over_the_environment(
    trusted_github: EntraEmulator, github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = trusted_github.add_app(display_name="second")
    trusted_github.add_federated_credential(github_issuer, GITHUB_SUBJECT, client_id=other.client_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000000")

    credential = OIDCCredential(GITHUB_SPEC, client_id=other.client_id, authority=trusted_github.authority)
    token = credential.get_token(SCOPE)

    assert trusted_github.verify_access_token(token.token)["appid"] == other.client_id


def test_context_manager_and_close(trusted_github: EntraEmulator) -> None:
    with OIDCCredential(GITHUB_SPEC) as credential:
        first = credential.get_token(SCOPE)
    credential.close()
    # A closed credential still serves its cache and reopens its transport when it must.
    assert credential.get_token(SCOPE).token == first.token
    assert credential.get_token("api://other/.default").token


def test_connection_verify_is_honoured(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "OIDC_CREDENTIAL_CHAIN_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)

    untrusting = OIDCCredential(GITHUB_SPEC)
    with pytest.raises(Exception, match="did not answer") as excinfo:
        untrusting.get_token(SCOPE)
    assert "SSL" in str(excinfo.value) or "certificate" in str(excinfo.value).lower()

    trusting = OIDCCredential(GITHUB_SPEC, connection_verify=loopback_ca().ca_path)
    assert trusting.get_token(SCOPE).token


def test_a_custom_transport_is_used(trusted_github: EntraEmulator) -> None:
    sent: list[str] = []

    class RecordingTransport(RequestsTransport):
        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            sent.append(request.url)
            return super().send(request, **kwargs)

    credential = OIDCCredential(
        GITHUB_SPEC, transport=RecordingTransport(connection_verify=loopback_ca().ca_path)
    )
    credential.get_token(SCOPE)

    assert sent == [trusted_github.token_url()]


def test_proxies_are_honoured(trusted_github: EntraEmulator) -> None:
    # A proxy that refuses connections: the request must try it rather than go direct.
    credential = OIDCCredential(GITHUB_SPEC, proxies={"https": "http://127.0.0.1:9"})
    with pytest.raises(Exception, match="did not answer"):
        credential.get_token(SCOPE)
    assert trusted_github.token_requests == 0


def test_claims_challenge_bypasses_the_cache_and_is_sent(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    first = credential.get_token(SCOPE)
    challenge = json.dumps({"access_token": {"nbf": {"essential": True, "value": "1700000000"}}})

    second = credential.get_token(SCOPE, claims=challenge)

    assert second.token != first.token
    forms = token_posts(trusted_github)
    assert "claims" not in forms[0]
    assert json.loads(forms[1]["claims"][0]) == json.loads(challenge)
    # The new token replaces the cached one.
    assert credential.get_token(SCOPE).token == second.token


def test_enable_cae_announces_the_cp1_capability(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    credential.get_token_info(SCOPE, options={"enable_cae": True})

    [form] = token_posts(trusted_github)
    assert json.loads(form["claims"][0]) == {"access_token": {"xms_cc": {"values": ["CP1"]}}}


def test_other_tenant_only_when_allowed(trusted_github: EntraEmulator, github_issuer: OIDCIssuer) -> None:
    other_tenant = trusted_github.add_tenant()
    trusted_github.add_app(trusted_github.client_id, tenant_id=other_tenant)
    trusted_github.add_federated_credential(github_issuer, GITHUB_SUBJECT, tenant_id=other_tenant)

    strict = OIDCCredential(GITHUB_SPEC)
    with pytest.raises(ClientAuthenticationError, match="additionally_allowed_tenants") as excinfo:
        strict.get_token(SCOPE, tenant_id=other_tenant)
    assert isinstance(excinfo.value, ConfigurationError)
    assert other_tenant in str(excinfo.value)

    allowing = OIDCCredential(GITHUB_SPEC, additionally_allowed_tenants=["*"])
    token = allowing.get_token(SCOPE, tenant_id=other_tenant)
    assert trusted_github.verify_access_token(token.token)["tid"] == other_tenant


def test_a_new_assertion_is_fetched_when_the_cached_one_expired(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, fake_clock: FakeClock
) -> None:
    github_actions.lifetime = 60
    credential = OIDCCredential(GITHUB_SPEC)
    credential.get_token(SCOPE)
    fake_clock.advance(59)  # the first ID token now has 1 s left: never presented again
    credential.get_token("api://a/.default")

    assert github_actions.count() == 2
    assert trusted_github.refusals == []
    first, second = (issued.assertion_claims for issued in trusted_github.issued)
    assert second["exp"] > first["exp"]


def test_repr_shows_no_token(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)
    token = credential.get_token(SCOPE).token
    grant, _ = credential._grants.lookup(credential._key((SCOPE,)))

    assert token not in repr(credential)
    assert token not in repr(grant)
    assert GITHUB_SPEC in repr(credential)


def test_an_exchange_is_logged_at_info_without_the_token(
    trusted_github: EntraEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with caplog.at_level(logging.DEBUG, logger="oidc_credential_chain"):
        token = OIDCCredential(GITHUB_SPEC).get_token(SCOPE).token

    [record] = [
        r for r in caplog.records if r.name == "oidc_credential_chain.azure" and r.levelno == logging.INFO
    ]
    message = record.getMessage()
    assert f"sub='{GITHUB_SUBJECT}'" in message
    assert "iss='https://token.actions.githubusercontent.com'" in message
    assert trusted_github.tenant_id in message and SCOPE in message
    for logged in caplog.records:
        assert token not in logged.getMessage()
        assert ".ey" not in logged.getMessage().replace("oidc/github", "")


def test_importing_the_subpackages_loads_no_azure_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, oidc_credential_chain.azure, oidc_credential_chain.azure.aio; "
        "heavy = {'azure', 'openai', 'requests', 'aiohttp', 'jwt'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
