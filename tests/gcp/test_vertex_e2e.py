"""google-auth credentials from oidc/github and oidc/google via Google STS (and IAM) calling Vertex AI."""

from __future__ import annotations

import logging
import time

import pytest
from google.auth.transport.requests import AuthorizedSession, Request

from oidc_credential_chain import gcp
from oidc_credential_chain.testing import (
    GCPMetadataServer,
    GitHubActionsTokenEndpoint,
    GoogleSTSEmulator,
    IAMCredentialsEmulator,
    OIDCIssuer,
    VertexAIEmulator,
    WorkloadIdentityPoolProvider,
)

from .conftest import PROMPT, SERVICE_ACCOUNT

GITHUB_SUB = "repo:octo-org/octo-repo:ref:refs/heads/main"


def _ask(creds: gcp.Credentials, vertex: VertexAIEmulator) -> str:
    response = AuthorizedSession(creds).post(vertex.model_url("gemini-2.0-flash"), json=PROMPT, timeout=10)
    assert response.status_code == 200, response.text
    text: str = response.json()["candidates"][0]["content"]["parts"][0]["text"]
    return text


def test_github_direct_federated_access(
    github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator, vertex_ai: VertexAIEmulator
) -> None:
    creds = gcp.credentials(
        token="oidc/github", audience=github_pool.audience, token_url=google_sts.token_url
    )

    assert _ask(creds, vertex_ai) == "[gemini-2.0-flash emulator] you said: hello vertex"
    assert vertex_ai.calls[-1].principal == github_pool.principal(GITHUB_SUB)
    assert google_sts.exchanges == 1
    # With no audience in the spec the ID token was requested for https: + the pool audience.
    assert google_sts.accepted[0]["aud"] == "https:" + github_pool.audience


def test_github_impersonated_service_account(
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
    iam_credentials: IAMCredentialsEmulator,
    vertex_ai: VertexAIEmulator,
    vertex_sa: str,
) -> None:
    creds = gcp.credentials(
        token="oidc/github",
        audience=github_pool.audience,
        service_account=vertex_sa,
        token_url=google_sts.token_url,
        iam_endpoint=iam_credentials.url,
    )

    assert _ask(creds, vertex_ai).endswith("hello vertex")
    assert vertex_ai.calls[-1].principal == f"serviceAccount:{SERVICE_ACCOUNT}"
    assert creds.service_account_email == SERVICE_ACCOUNT
    assert google_sts.exchanges == 1
    assert iam_credentials.count(":generateAccessToken") == 1


def test_explicit_audience_is_used_exactly(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    google_sts: GoogleSTSEmulator,
    vertex_ai: VertexAIEmulator,
) -> None:
    pool = google_sts.add_provider(github_issuer, allowed_audiences=["my-gcp-audience"])
    creds = gcp.credentials(
        token="oidc/github/my-gcp-audience", audience=pool.audience, token_url=google_sts.token_url
    )
    _ask(creds, vertex_ai)
    assert google_sts.accepted[0]["aud"] == "my-gcp-audience"


@pytest.mark.parametrize("impersonate", [False, True], ids=["direct", "impersonated"])
def test_google_metadata_identity(
    impersonate: bool,
    gcp_metadata: GCPMetadataServer,
    google_issuer: OIDCIssuer,
    google_sts: GoogleSTSEmulator,
    iam_credentials: IAMCredentialsEmulator,
    vertex_ai: VertexAIEmulator,
) -> None:
    pool = google_sts.add_provider(
        google_issuer,
        pool_id="cloud-run",
        provider_id="google",
        attribute_mapping={"google.subject": "assertion.sub", "attribute.email": "assertion.email"},
        attribute_condition=f"assertion.email == '{gcp_metadata.email}'",
    )
    iam_credentials.add_service_account(
        SERVICE_ACCOUNT, members=[pool.principal_set("email", gcp_metadata.email)]
    )
    creds = gcp.credentials(
        token="oidc/google",
        audience=pool.audience,
        service_account=SERVICE_ACCOUNT if impersonate else None,
        token_url=google_sts.token_url,
        iam_endpoint=iam_credentials.url,
    )

    _ask(creds, vertex_ai)
    expected = (
        f"serviceAccount:{SERVICE_ACCOUNT}"
        if impersonate
        else pool.principal(gcp_metadata.service_account_id)
    )
    assert vertex_ai.calls[-1].principal == expected
    assert google_sts.accepted[0]["aud"] == "https:" + pool.audience
    assert gcp_metadata.count("/identity") == 1
    assert iam_credentials.count(":generateAccessToken") == (1 if impersonate else 0)


@pytest.mark.parametrize("impersonate", [False, True], ids=["direct", "impersonated"])
def test_refresh_after_expiry_fetches_a_fresh_subject_token(
    impersonate: bool,
    github_actions: GitHubActionsTokenEndpoint,
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
    iam_credentials: IAMCredentialsEmulator,
    vertex_ai: VertexAIEmulator,
    vertex_sa: str,
) -> None:
    # google-auth treats a token as expired 225 s before its end: these live about 2 s for it.
    google_sts.token_lifetime = 227
    iam_credentials.token_lifetime = 227
    # ID tokens living 6 s are kept 1 s by the cache (refreshed 5 s before expiry).
    github_actions.lifetime = 6
    creds = gcp.credentials(
        token="oidc/github",
        audience=github_pool.audience,
        service_account=vertex_sa if impersonate else None,
        token_url=google_sts.token_url,
        iam_endpoint=iam_credentials.url,
    )

    _ask(creds, vertex_ai)
    _ask(creds, vertex_ai)
    assert google_sts.exchanges == 1
    assert github_actions.count() == 1

    time.sleep(2.5)
    _ask(creds, vertex_ai)
    assert google_sts.exchanges == 2
    assert github_actions.count() == 2
    first, second = google_sts.accepted
    assert first["jti"] != second["jti"]
    assert iam_credentials.count(":generateAccessToken") == (2 if impersonate else 0)
    assert len(vertex_ai.calls) == 3


def test_subject_token_is_cached_between_exchanges(
    github_actions: GitHubActionsTokenEndpoint,
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
    vertex_ai: VertexAIEmulator,
) -> None:
    google_sts.token_lifetime = 1  # every request makes google-auth exchange again
    creds = gcp.credentials(
        token="oidc/github", audience=github_pool.audience, token_url=google_sts.token_url
    )
    for _ in range(3):
        _ask(creds, vertex_ai)
    assert google_sts.exchanges == 3
    assert github_actions.count() == 1  # google-auth does not cache suppliers; we do
    assert len({a["jti"] for a in google_sts.accepted}) == 1


def test_copies_made_by_google_auth_stay_ours(
    github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator, vertex_ai: VertexAIEmulator
) -> None:
    creds = gcp.credentials(
        token="oidc/github", audience=github_pool.audience, token_url=google_sts.token_url
    )
    scoped = creds.with_scopes(["https://www.googleapis.com/auth/cloud-platform"])
    quota = creds.with_quota_project("demo-project")
    assert isinstance(scoped, gcp.Credentials) and isinstance(quota, gcp.Credentials)
    _ask(scoped, vertex_ai)
    assert vertex_ai.calls[-1].principal == github_pool.principal(GITHUB_SUB)


def test_vertex_refuses_tokens_without_cloud_platform_scope(
    github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator, vertex_ai: VertexAIEmulator
) -> None:
    creds = gcp.credentials(
        token="oidc/github",
        audience=github_pool.audience,
        scopes=["https://www.googleapis.com/auth/userinfo.email"],
        token_url=google_sts.token_url,
    )
    response = AuthorizedSession(creds).post(vertex_ai.model_url(), json=PROMPT, timeout=10)
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_no_token_in_logs(
    caplog: pytest.LogCaptureFixture,
    github_actions: GitHubActionsTokenEndpoint,
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
    iam_credentials: IAMCredentialsEmulator,
    vertex_ai: VertexAIEmulator,
    vertex_sa: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    creds = gcp.credentials(
        token="oidc/github",
        audience=github_pool.audience,
        service_account=vertex_sa,
        token_url=google_sts.token_url,
        iam_endpoint=iam_credentials.url,
    )
    creds.refresh(Request())
    subject_token = google_sts.requests[-1].form()["subject_token"]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("oidc_credential_chain"))
    assert f"Google service-account ({SERVICE_ACCOUNT}) token obtained for oidc/github/https:" in ours
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in ours
    for secret in (subject_token, creds.token, github_actions.request_token):
        assert secret and secret not in ours
        assert secret not in repr(creds) and secret not in repr(creds._oidc_supplier)
