from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ChainedTokenCredential, CredentialUnavailableError

from oidc_credential_chain.azure import (
    AzureConfigurationError,
    AzureScopeError,
    AzureTokenFetchError,
    EntraExchangeError,
    OIDCCredential,
    token_provider,
)
from oidc_credential_chain.errors import ConfigurationError, ErrorKind, ExchangeError, TokenFetchError
from oidc_credential_chain.testing import EntraEmulator, GitHubActionsTokenEndpoint, OIDCIssuer
from tests.azure.support import GITHUB_SPEC, GITHUB_SUBJECT, SCOPE

# --- unconfigured: CredentialUnavailableError, so that a chain moves on -----------------


def test_missing_tenant_is_unavailable_and_names_the_variable(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_TENANT_ID")
    credential = OIDCCredential(GITHUB_SPEC)  # constructing never fails for a missing tenant

    with pytest.raises(CredentialUnavailableError) as excinfo:
        credential.get_token(SCOPE)

    assert isinstance(excinfo.value, ConfigurationError)
    assert excinfo.value.kind is ErrorKind.CONFIGURATION
    assert "AZURE_TENANT_ID" in str(excinfo.value)
    assert "tenant_id" in str(excinfo.value)
    assert trusted_github.token_requests == 0


def test_missing_spec_is_unavailable_and_names_the_variable(entra: EntraEmulator) -> None:
    credential = OIDCCredential.from_env()

    with pytest.raises(CredentialUnavailableError, match="AZURE_FEDERATED_TOKEN"):
        credential.get_token(SCOPE)


def test_a_raw_jwt_in_azure_federated_token_is_not_ours(
    entra: EntraEmulator, github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = github_issuer.mint({"sub": "x", "aud": "api://AzureADTokenExchange"})
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", raw)
    credential = OIDCCredential.from_env()

    with pytest.raises(CredentialUnavailableError, match=r"holds no 'oidc/\.\.\.' spec") as excinfo:
        credential.get_token(SCOPE)
    assert raw not in str(excinfo.value)


def test_chained_credential_moves_on_when_unconfigured(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_TENANT_ID")

    class Fallback:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken("fallback-token", int(time.time()) + 3600)

    chain = ChainedTokenCredential(OIDCCredential.from_env(), Fallback())  # type: ignore[arg-type]

    assert chain.get_token(SCOPE).token == "fallback-token"


def test_chained_credential_uses_ours_when_configured(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", GITHUB_SPEC)

    class MustNotBeAsked:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            raise AssertionError("the chain should have stopped at OIDCCredential")

    chain = ChainedTokenCredential(OIDCCredential.from_env(), MustNotBeAsked())  # type: ignore[arg-type]
    token = chain.get_token(SCOPE)

    assert trusted_github.verify_access_token(token.token)["appid"] == trusted_github.client_id


# --- configuration mistakes --------------------------------------------------------------


def test_missing_client_id_names_the_variable(entra: EntraEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_CLIENT_ID")

    with pytest.raises(AzureConfigurationError) as excinfo:
        OIDCCredential(GITHUB_SPEC)

    assert "AZURE_CLIENT_ID" in str(excinfo.value)
    assert "client_id=" in str(excinfo.value)
    assert isinstance(excinfo.value, ClientAuthenticationError)
    assert not isinstance(excinfo.value, CredentialUnavailableError)


def test_token_provider_reports_a_missing_tenant_at_creation(
    entra: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_TENANT_ID")
    with pytest.raises(CredentialUnavailableError, match="AZURE_TENANT_ID"):
        token_provider(GITHUB_SPEC)


@pytest.mark.parametrize(
    ("kwargs", "env", "named"),
    [
        ({"authority": "http://login.example.com"}, {}, "the authority argument"),
        ({}, {"AZURE_AUTHORITY_HOST": "http://login.microsoftonline.com"}, "AZURE_AUTHORITY_HOST"),
        ({"authority": "ftp://login.microsoftonline.com"}, {}, "the authority argument"),
    ],
)
def test_a_non_https_authority_is_refused(
    entra: EntraEmulator,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, str],
    env: dict[str, str],
    named: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(AzureConfigurationError) as excinfo:
        OIDCCredential(GITHUB_SPEC, **kwargs)

    message = str(excinfo.value)
    assert named in message
    assert "not an https URL" in message
    assert "https://login.microsoftonline.com" in message


def test_a_bare_authority_host_gets_https(entra: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC, authority="login.microsoftonline.us/")
    assert credential.settings.authority == "https://login.microsoftonline.us"


def test_plain_http_on_loopback_is_accepted_for_test_servers(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EntraEmulator(ssl_context=None) as plain:
        assert plain.url.startswith("http://127.0.0.1:")
        plain.add_federated_credential(github_issuer, GITHUB_SUBJECT)
        for name, value in plain.env().items():
            monkeypatch.setenv(name, value)

        token = OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

        assert plain.verify_access_token(token.token)["tid"] == plain.tenant_id


@pytest.mark.parametrize("tenant", ["../evil", "tenant id", "a/b"])
def test_a_malformed_tenant_is_refused(entra: EntraEmulator, tenant: str) -> None:
    with pytest.raises(AzureConfigurationError, match="is not a tenant ID"):
        OIDCCredential(GITHUB_SPEC, tenant_id=tenant)


def test_a_malformed_spec_is_refused(entra: EntraEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AzureConfigurationError, match="token argument: unknown identity provider 'nope'"):
        OIDCCredential("oidc/nope/x")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", "oidc/circleci/extra")
    with pytest.raises(
        AzureConfigurationError, match="AZURE_FEDERATED_TOKEN: 'oidc/circleci' takes no argument"
    ):
        OIDCCredential.from_env()


def test_an_empty_scope_list_is_refused(trusted_github: EntraEmulator) -> None:
    credential = OIDCCredential(GITHUB_SPEC)

    with pytest.raises(AzureScopeError, match="needs at least one scope") as excinfo:
        credential.get_token()
    assert isinstance(excinfo.value, ValueError)
    assert "https://cognitiveservices.azure.com/.default" in str(excinfo.value)
    with pytest.raises(ValueError, match="get_token_info needs at least one scope"):
        credential.get_token_info()
    with pytest.raises(ValueError, match="token_provider needs at least one scope"):
        token_provider(GITHUB_SPEC, scope=[])
    with pytest.raises(ValueError, match="non-empty string"):
        token_provider(GITHUB_SPEC, scope="  ")
    assert trusted_github.token_requests == 0


# --- Entra refuses -----------------------------------------------------------------------


def test_entra_refusing_the_assertion_reports_code_message_and_claims(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    entra.add_federated_credential(github_issuer, "repo:octo-org/octo-repo:environment:prod")
    credential = OIDCCredential(GITHUB_SPEC)

    with pytest.raises(EntraExchangeError) as excinfo:
        credential.get_token(SCOPE)

    err = excinfo.value
    message = str(err)
    assert isinstance(err, ExchangeError) and isinstance(err, ClientAuthenticationError)
    assert err.code == "AADSTS700213"
    assert err.error_code == "invalid_client"
    assert err.status == 401 and err.status_code == 401
    assert not err.retryable
    assert "No matching federated identity record found for presented assertion subject" in message
    assert f"iss='{github_issuer.issuer}'" in message
    assert f"sub='{GITHUB_SUBJECT}'" in message
    assert "aud='api://AzureADTokenExchange'" in message
    assert entra.client_id in message and entra.tenant_id in message
    assert "doctor oidc/github/api://AzureADTokenExchange --azure-federated-credential" in message
    assert err.claims["sub"] == GITHUB_SUBJECT and err.claims["iss"] == github_issuer.issuer
    [refusal] = entra.refusals
    assert refusal.assertion_claims is not None
    assertion_text = github_issuer.mint(dict(refusal.assertion_claims))
    for text in (message, repr(err)):
        assert assertion_text.split(".")[1] not in text
        assert ".ey" not in text  # no JWT of any kind


def test_subject_differing_only_in_case(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    entra.add_federated_credential(github_issuer, GITHUB_SUBJECT.replace("octo-org", "Octo-Org"))

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert excinfo.value.code == "AADSTS7002138"
    assert "case-insensitive comparison, but not with case-sensitive" in str(excinfo.value)


def test_wrong_audience_gets_70021_and_a_cloud_hint(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    entra.add_federated_credential(github_issuer, GITHUB_SUBJECT)

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential("oidc/github/api://AzureADTokenExchangeUSGov").get_token(SCOPE)

    message = str(excinfo.value)
    assert excinfo.value.code == "AADSTS70021"
    assert "Assertion Audience: 'api://AzureADTokenExchangeUSGov'" in message


def test_unknown_issuer_gets_700211(entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint) -> None:
    entra.add_federated_credential("https://gitlab.com", "project_path:g/p:ref_type:branch:ref:main")

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert excinfo.value.code == "AADSTS700211"
    assert "presented assertion issuer 'https://token.actions.githubusercontent.com'" in str(excinfo.value)


def test_unknown_app_gets_700016(trusted_github: EntraEmulator) -> None:
    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC, client_id="11111111-1111-1111-1111-111111111111").get_token(SCOPE)

    message = str(excinfo.value)
    assert excinfo.value.code == "AADSTS700016"
    assert "Application with identifier '11111111-1111-1111-1111-111111111111' was not found" in message
    assert "Check the client ID" in message


def test_unknown_tenant_gets_90002(trusted_github: EntraEmulator) -> None:
    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC, tenant_id="contoso.onmicrosoft.com").get_token(SCOPE)

    assert excinfo.value.code == "AADSTS90002"
    assert excinfo.value.error_code == "invalid_tenant"
    assert "Tenant 'contoso.onmicrosoft.com' not found" in str(excinfo.value)
    assert "AZURE_TENANT_ID" in str(excinfo.value)


def test_a_scope_that_is_not_dot_default_is_explained(trusted_github: EntraEmulator) -> None:
    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token("https://cognitiveservices.azure.com/user_impersonation")

    assert excinfo.value.code == "AADSTS1002012"
    assert "one resource followed by '/.default'" in str(excinfo.value)


def test_assertion_out_of_time_range_is_retried_once_with_a_fresh_assertion(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    trusted_github.inject_error(700024)

    token = OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert token.token
    assert trusted_github.token_requests == 2
    assert github_actions.count() == 2  # the second request carried a newly fetched assertion


def test_assertion_out_of_time_range_twice_is_reported(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    trusted_github.inject_error(700024, times=2)

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert excinfo.value.code == "AADSTS700024"
    assert "Client assertion is not within its valid time range" in str(excinfo.value)
    assert "check this machine's clock" in str(excinfo.value)
    assert trusted_github.token_requests == 2


def test_70021_during_propagation_is_reported_with_a_hint(trusted_github: EntraEmulator) -> None:
    trusted_github.inject_error(70021)

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert excinfo.value.code == "AADSTS70021"
    assert "may still be propagating" in str(excinfo.value)


def test_temporarily_unavailable_is_retried(trusted_github: EntraEmulator) -> None:
    trusted_github.inject_error("temporarily_unavailable")

    token = OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert token.token
    assert trusted_github.token_requests == 2


def test_temporarily_unavailable_throughout_is_retryable(trusted_github: EntraEmulator) -> None:
    trusted_github.inject_error("temporarily_unavailable", times=10)

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC, retry_backoff_factor=0.01).get_token(SCOPE)

    assert excinfo.value.error_code == "temporarily_unavailable"
    assert excinfo.value.retryable
    assert excinfo.value.status == 503


def test_a_200_without_a_token_is_reported(trusted_github: EntraEmulator) -> None:
    trusted_github.faults.add(status=200, body={"token_type": "Bearer"}, path="/oauth2/")

    with pytest.raises(EntraExchangeError, match="answered HTTP 200 without an access token"):
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)


def test_a_non_json_error_body_is_excerpted(trusted_github: EntraEmulator) -> None:
    trusted_github.faults.add(status=403, body="<html>Forbidden by proxy</html>", path="/oauth2/")

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert "HTTP 403" in str(excinfo.value)
    assert "Forbidden by proxy" in str(excinfo.value)


# --- unreachable ----------------------------------------------------------------------


def test_entra_unreachable_fails_in_bounded_time(trusted_github: EntraEmulator) -> None:
    trusted_github.down()
    started = time.monotonic()

    with pytest.raises(EntraExchangeError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert time.monotonic() - started < 8
    message = str(excinfo.value)
    assert f"Entra ID at {trusted_github.token_url()} did not answer" in message
    assert "s budget" in message
    assert excinfo.value.retryable
    assert excinfo.value.code is None


def test_entra_hanging_fails_within_the_budget(
    trusted_github: EntraEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "1")
    trusted_github.faults.delay = 4
    started = time.monotonic()

    with pytest.raises(EntraExchangeError, match=r"did not answer .* within the 1 s budget"):
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert time.monotonic() - started < 3.5


def test_identity_provider_failure_is_also_an_azure_error(
    trusted_github: EntraEmulator, github_actions: GitHubActionsTokenEndpoint
) -> None:
    github_actions.down()

    with pytest.raises(AzureTokenFetchError) as excinfo:
        OIDCCredential(GITHUB_SPEC).get_token(SCOPE)

    assert isinstance(excinfo.value, TokenFetchError)
    assert isinstance(excinfo.value, ClientAuthenticationError)
    assert "oidc/github/api://AzureADTokenExchange" in str(excinfo.value)
    assert trusted_github.token_requests == 0


def test_a_sovereign_authority_hints_at_its_exchange_audience(github_issuer: OIDCIssuer) -> None:
    from oidc_credential_chain.azure._entra import Exchange, refusal_error
    from oidc_credential_chain.azure._settings import resolve_settings
    from oidc_credential_chain.idtoken import make_id_token

    settings = resolve_settings(GITHUB_SPEC, "tenant-1", "client-1", "login.microsoftonline.us", environ={})
    assertion = make_id_token(
        github_token := github_issuer.mint({"sub": GITHUB_SUBJECT, "aud": "api://AzureADTokenExchange"}),
        spec=GITHUB_SPEC,
        source="test",
        remote=True,
    )
    exchange = Exchange(settings, "tenant-1", (SCOPE,), assertion, time.time(), time.monotonic())
    body = {
        "error": "invalid_request",
        "error_description": "AADSTS70021: No matching federated identity record found.",
    }

    err = refusal_error(exchange, 400, body, "")

    assert err.code == "AADSTS70021"
    assert "normally use the audience 'api://AzureADTokenExchangeUSGov'" in str(err)
    assert github_token not in str(err)
