"""oidc/azure/<audience>: an Entra access token from the ambient Azure identity (AKS workload identity)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import fetch_id_token
from oidc_credential_chain.azure._ambient import scope_for
from oidc_credential_chain.errors import TokenFetchError
from oidc_credential_chain.testing import EntraEmulator, OIDCIssuer

SERVICE_ACCOUNT = "system:serviceaccount:payments:api"


@pytest.fixture
def aks_issuer() -> Iterator[OIDCIssuer]:
    with OIDCIssuer(lifetime=3600) as issuer:
        yield issuer


@pytest.fixture
def workload_identity(
    entra: EntraEmulator, aks_issuer: OIDCIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """What the AKS webhook sets up: a projected token file and AZURE_* variables (entra sets the rest)."""
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(aks_issuer.mint({"sub": SERVICE_ACCOUNT, "aud": "api://AzureADTokenExchange"}))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    return token_file


def test_scope_for_an_audience() -> None:
    assert scope_for("api://bedrock-access") == "api://bedrock-access/.default"
    assert scope_for("https://management.azure.com/") == "https://management.azure.com/.default"
    assert scope_for("api://x/.default") == "api://x/.default"


def test_workload_identity_gives_an_entra_access_token_for_the_audience(
    entra: EntraEmulator, aks_issuer: OIDCIssuer, workload_identity: Path
) -> None:
    entra.add_federated_credential(aks_issuer, SERVICE_ACCOUNT)

    token = fetch_id_token("oidc/azure/api://bedrock-access")

    claims = entra.verify_access_token(token.value, audience="api://bedrock-access")
    assert token.issuer == entra.token_issuer() == f"https://sts.windows.net/{entra.tenant_id}/"
    assert token.subject == claims["oid"] == entra.app().object_id
    [issued] = entra.issued
    assert issued.scope == "api://bedrock-access/.default"
    assert issued.assertion_claims["sub"] == SERVICE_ACCOUNT
    # Cached like any ID token: the next call asks nobody.
    assert fetch_id_token("oidc/azure/api://bedrock-access").value == token.value
    assert entra.token_requests == 1


def test_without_the_token_file_argument_it_reads_the_aks_file(
    entra: EntraEmulator, workload_identity: Path
) -> None:
    token = fetch_id_token("oidc/azure")
    assert token.subject == SERVICE_ACCOUNT
    assert entra.token_requests == 0


def test_an_ambient_identity_entra_refuses_is_a_fetch_error(
    entra: EntraEmulator, aks_issuer: OIDCIssuer, workload_identity: Path
) -> None:
    entra.add_federated_credential(aks_issuer, "system:serviceaccount:payments:other")

    with pytest.raises(TokenFetchError) as excinfo:
        fetch_id_token("oidc/azure/api://bedrock-access")

    message = str(excinfo.value)
    assert message.startswith("oidc/azure/api://bedrock-access: the ambient Azure identity")
    assert "api://bedrock-access/.default" in message
    assert "AADSTS700213" in message
    assert workload_identity.read_text() not in message
