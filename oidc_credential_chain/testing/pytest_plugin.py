"""pytest fixtures that start the emulators on loopback and stop them afterwards.

Opt in from a project's top-level ``conftest.py``::

    pytest_plugins = ["oidc_credential_chain.testing.pytest_plugin"]

or on the command line with ``-p oidc_credential_chain.testing.pytest_plugin``.  Installing
the package registers no plugin (no ``pytest11`` entry point), so other projects' pytest runs
in the same environment are unchanged.  Each fixture starts fresh per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .azure_imds import AzureIMDSEmulator
from .azure_openai import AzureOpenAIEmulator
from .bedrock import BedrockRuntimeEmulator
from .entra import EntraEmulator
from .gcp_metadata import GCPMetadataServer
from .github import GitHubActionsTokenEndpoint
from .google_sts import GoogleSTSEmulator
from .iam_credentials import IAMCredentialsEmulator
from .issuer import OIDCIssuer
from .sts import STSEmulator
from .tls import LoopbackCA, loopback_ca
from .vertex import VertexAIEmulator


@pytest.fixture
def oidc_issuer() -> Iterator[OIDCIssuer]:
    """A generic OIDC issuer whose ``iss`` is its own loopback URL."""
    with OIDCIssuer() as issuer:
        yield issuer


@pytest.fixture
def github_issuer() -> Iterator[OIDCIssuer]:
    """An issuer whose tokens say ``iss=https://token.actions.githubusercontent.com``."""
    with OIDCIssuer("https://token.actions.githubusercontent.com") as issuer:
        yield issuer


@pytest.fixture
def google_issuer() -> Iterator[OIDCIssuer]:
    """An issuer whose tokens say ``iss=https://accounts.google.com``."""
    with OIDCIssuer("https://accounts.google.com", lifetime=3600) as issuer:
        yield issuer


@pytest.fixture
def github_actions(
    github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GitHubActionsTokenEndpoint]:
    """The GitHub Actions token endpoint, with its variables set in ``os.environ``."""
    with GitHubActionsTokenEndpoint(github_issuer) as endpoint:
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        yield endpoint


@pytest.fixture
def gcp_metadata(google_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[GCPMetadataServer]:
    """The GCP metadata server, with ``GCE_METADATA_HOST`` pointing at it."""
    with GCPMetadataServer(google_issuer) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def loopback_tls(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackCA]:
    """The process-wide loopback CA, trusted through ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE`` for the test."""
    ca = loopback_ca()
    for name, value in ca.env().items():
        monkeypatch.setenv(name, value)
    yield ca


@pytest.fixture
def entra(loopback_tls: LoopbackCA, monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraEmulator]:
    """Entra ID's token endpoint over HTTPS, with ``AZURE_AUTHORITY_HOST``, ``AZURE_TENANT_ID`` and
    ``AZURE_CLIENT_ID`` set for its default app (which has no federated credentials yet)."""
    with EntraEmulator() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def azure_openai(entra: EntraEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureOpenAIEmulator]:
    """Azure OpenAI chat completions over HTTPS, accepting ``entra``'s tokens; sets
    ``AZURE_OPENAI_ENDPOINT`` and ``OPENAI_API_VERSION``."""
    with AzureOpenAIEmulator(entra) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def google_sts() -> Iterator[GoogleSTSEmulator]:
    """Google STS ``/v1/token`` with no pool providers yet: add them with ``add_provider(issuer, ...)``."""
    with GoogleSTSEmulator() as server:
        yield server


@pytest.fixture
def iam_credentials(google_sts: GoogleSTSEmulator) -> Iterator[IAMCredentialsEmulator]:
    """IAM Credentials ``generateAccessToken`` accepting ``google_sts``'s federated tokens."""
    with IAMCredentialsEmulator(google_sts) as server:
        yield server


@pytest.fixture
def vertex_ai(
    google_sts: GoogleSTSEmulator, iam_credentials: IAMCredentialsEmulator
) -> Iterator[VertexAIEmulator]:
    """Vertex AI ``generateContent`` accepting tokens from ``google_sts`` and ``iam_credentials``."""
    with VertexAIEmulator(google_sts, iam_credentials) as server:
        yield server


@pytest.fixture
def azure_imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureIMDSEmulator]:
    """Azure IMDS with one user-assigned identity; ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` and
    ``AZURE_CLIENT_ID`` point at it."""
    with AzureIMDSEmulator() as server:
        identity = server.add_identity("5e1d0c1a-0000-4000-8000-00000000c1d0")
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AZURE_CLIENT_ID", identity.client_id)
        yield server


@pytest.fixture
def aws_sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[STSEmulator]:
    """AWS STS (AssumeRoleWithWebIdentity, GetWebIdentityToken), with ``AWS_ENDPOINT_URL_STS`` set.

    Register issuers and roles with ``register_provider(issuer)`` and ``allow(role, issuer, sub=...)``.
    """
    with STSEmulator() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def bedrock_runtime(
    aws_sts: STSEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BedrockRuntimeEmulator]:
    """Bedrock Runtime verifying SigV4 with ``aws_sts``'s credentials; sets
    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (and ``AWS_DEFAULT_REGION=us-east-1`` when unset)."""
    with BedrockRuntimeEmulator(aws_sts) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        if not os.environ.get("AWS_DEFAULT_REGION"):
            monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield server
