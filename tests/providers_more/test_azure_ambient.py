"""oidc/azure/<audience> end to end through the managed-identity endpoint emulator."""

from __future__ import annotations

import sys

import pytest

from oidc_credential_chain import fetch_id_token
from oidc_credential_chain.testing import AzureIMDSEmulator

SPEC = "oidc/azure/api://AzureADTokenExchange"


def test_without_azure_identity_imds_is_asked_directly(
    azure_imds: AzureIMDSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # as if azure-identity were not installed
    token = fetch_id_token(SPEC)
    identity = next(iter(azure_imds.identities.values()))
    assert token.subject == identity.principal_id
    assert token.audience == "api://AzureADTokenExchange"
    assert azure_imds.count("/metadata/identity/oauth2/token") == 1
    assert azure_imds.requests[-1].header("x-client-sku") is None  # not MSAL: our own request
    fetch_id_token(SPEC)
    assert azure_imds.count() == 1  # cached until shortly before expiry


def test_azure_identity_uses_the_same_emulator(azure_imds: AzureIMDSEmulator) -> None:
    token = fetch_id_token(SPEC)
    identity = next(iter(azure_imds.identities.values()))
    assert token.subject == identity.principal_id
    assert azure_imds.requests[-1].arg("client_id") == identity.client_id
