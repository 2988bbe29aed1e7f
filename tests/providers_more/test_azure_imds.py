"""Azure managed identity without azure-identity: IMDS and the App Service endpoint."""

from __future__ import annotations

import pytest

from oidc_credential_chain import ConfigurationError, TokenFetchError, parse_spec
from oidc_credential_chain.jwt import decode_unverified
from oidc_credential_chain.providers.azure_imds import imds_access_token
from oidc_credential_chain.providers.base import FetchContext
from oidc_credential_chain.testing import AzureIMDSEmulator

SPEC = parse_spec("oidc/azure/api://AzureADTokenExchange")


def _fetch(spec: str = SPEC.text) -> str:
    return imds_access_token(parse_spec(spec), FetchContext())


def test_user_assigned_identity(azure_imds: AzureIMDSEmulator) -> None:
    identity = next(iter(azure_imds.identities.values()))
    _, claims = decode_unverified(_fetch())
    assert claims["aud"] == "api://AzureADTokenExchange"
    assert claims["sub"] == claims["oid"] == identity.principal_id
    assert claims["iss"] == f"https://login.microsoftonline.com/{azure_imds.tenant_id}/v2.0"
    request = azure_imds.requests[-1]
    assert request.header("metadata") == "true"
    assert request.arg("client_id") == identity.client_id
    assert request.arg("api-version") == "2018-02-01"


def test_scope_form_is_reduced_to_the_resource(azure_imds: AzureIMDSEmulator) -> None:
    _fetch("oidc/azure/api://AzureADTokenExchange/.default")
    assert azure_imds.requests[-1].arg("resource") == "api://AzureADTokenExchange"


def test_never_through_a_proxy(azure_imds: AzureIMDSEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    assert _fetch()
    assert not azure_imds.requests[-1].raw_path.startswith("http")


def test_transient_statuses_are_retried(azure_imds: AzureIMDSEmulator) -> None:
    azure_imds.faults.fail(503, times=1)
    azure_imds.faults.fail(410, times=1)
    azure_imds.faults.fail(404, times=1)
    azure_imds.faults.throttle(0.1, times=1)
    assert _fetch()
    assert azure_imds.count("/metadata/identity/oauth2/token") == 5


def test_gives_up_after_five_retries(azure_imds: AzureIMDSEmulator) -> None:
    azure_imds.faults.add(status=500, times=10, body={"error": "unknown", "error_description": "boom"})
    with pytest.raises(TokenFetchError) as caught:
        _fetch()
    assert azure_imds.count() == 6
    assert caught.value.status == 500 and caught.value.retryable
    assert "Azure IMDS at http://127.0.0.1" in str(caught.value)
    assert "refused the token request (HTTP 500 unknown: boom)" in str(caught.value)


def test_unknown_identity_is_not_retried(
    azure_imds: AzureIMDSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
    with pytest.raises(TokenFetchError) as caught:
        _fetch()
    assert azure_imds.count() == 1
    assert str(caught.value) == (
        f"oidc/azure/api://AzureADTokenExchange: Azure IMDS at {azure_imds.url}"
        "/metadata/identity/oauth2/token refused the token request (HTTP 400 invalid_request: Identity not "
        "found); check that the user-assigned identity AZURE_CLIENT_ID=11111111-2222-3333-4444-555555555555 "
        "is assigned to this machine"
    )
    assert not caught.value.retryable


def test_several_identities_need_a_client_id(
    azure_imds: AzureIMDSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    azure_imds.add_identity("22222222-0000-4000-8000-000000000002")
    monkeypatch.delenv("AZURE_CLIENT_ID")
    with pytest.raises(TokenFetchError) as caught:
        _fetch()
    assert "Multiple user assigned identities exist" in str(caught.value)
    assert "assign a managed identity, or name a user-assigned one with AZURE_CLIENT_ID" in str(caught.value)


def test_system_assigned_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    with AzureIMDSEmulator(system_assigned="9d3c0000-0000-4000-8000-000000000001") as imds:
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.url)
        _, claims = decode_unverified(_fetch("oidc/azure/https://management.azure.com"))
        assert claims["sub"] == "9d3c0000-0000-4000-8000-000000000001"
        assert claims["aud"] == "https://management.azure.com"
        assert imds.requests[-1].arg("client_id") is None


def test_no_endpoint(azure_imds: AzureIMDSEmulator) -> None:
    azure_imds.down()
    with pytest.raises(TokenFetchError) as caught:
        _fetch()
    assert "Azure IMDS at http://127.0.0.1" in str(caught.value)
    assert "connection refused" in str(caught.value)
    assert str(caught.value).endswith(
        "no managed-identity endpoint answered: is this an Azure VM, App Service or AKS node with an "
        "identity assigned?"
    )


def test_app_service_endpoint(azure_imds: AzureIMDSEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in azure_imds.app_service_env().items():
        monkeypatch.setenv(name, value)
    _, claims = decode_unverified(_fetch())
    assert claims["aud"] == "api://AzureADTokenExchange"
    request = azure_imds.requests[-1]
    assert request.path == "/msi/token"
    assert request.arg("api-version") == "2019-08-01"


def test_app_service_wrong_secret(azure_imds: AzureIMDSEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    env = azure_imds.app_service_env()
    monkeypatch.setenv("IDENTITY_ENDPOINT", env["IDENTITY_ENDPOINT"])
    monkeypatch.setenv("IDENTITY_HEADER", "wrong-secret-value")
    with pytest.raises(TokenFetchError) as caught:
        _fetch()
    assert "the App Service managed-identity endpoint" in str(caught.value)
    assert "(HTTP 401 unknown_source:" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"IDENTITY_ENDPOINT": "http://127.0.0.1:40342/metadata/identity/oauth2/token"}, "IDENTITY_HEADER"),
        ({"MSI_ENDPOINT": "http://localhost:50342/oauth2/token"}, "MSI_ENDPOINT is set"),
    ],
)
def test_endpoints_that_need_azure_identity(
    variables: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        _fetch()
    assert message in str(caught.value)
    assert "pip install 'oidc-credential-chain[azure]'" in str(caught.value)


def test_emulator_refuses_requests_without_the_metadata_header(azure_imds: AzureIMDSEmulator) -> None:
    import requests

    answer = requests.get(
        f"{azure_imds.url}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": "x"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "bad_request_102",
        "error_description": "Required metadata header not specified",
    }
