"""Every failure is a google-auth RefreshError that is also the library's error, with the token's claims."""

from __future__ import annotations

import pytest
from google.auth import exceptions
from google.auth.transport.requests import AuthorizedSession, Request

from oidc_credential_chain import ConfigurationError, ExchangeError, OIDCError, TokenFetchError, gcp
from oidc_credential_chain.testing import (
    GitHubActionsTokenEndpoint,
    GoogleSTSEmulator,
    IAMCredentialsEmulator,
    OIDCIssuer,
    VertexAIEmulator,
    WorkloadIdentityPoolProvider,
)

from .conftest import PROMPT

GITHUB_SUB = "repo:octo-org/octo-repo:ref:refs/heads/main"


def _refresh_error(creds: gcp.Credentials) -> exceptions.RefreshError:
    with pytest.raises(exceptions.RefreshError) as caught:
        creds.refresh(Request())
    assert isinstance(caught.value, OIDCError)
    return caught.value


def _creds(pool: WorkloadIdentityPoolProvider, sts: GoogleSTSEmulator, **kwargs: object) -> gcp.Credentials:
    return gcp.credentials(token="oidc/github", audience=pool.audience, token_url=sts.token_url, **kwargs)  # type: ignore[arg-type]


def test_attribute_condition_refusal(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, google_sts: GoogleSTSEmulator
) -> None:
    pool = google_sts.add_provider(
        github_issuer, attribute_condition="assertion.repository_owner == 'other-org'"
    )
    err = _refresh_error(_creds(pool, google_sts))
    assert isinstance(err, ExchangeError) and isinstance(err, gcp.ExchangeRefreshError)
    assert err.service == "Google STS"
    assert err.code == "invalid_grant"
    assert err.claims["sub"] == GITHUB_SUB
    assert err.claims["iss"] == "https://token.actions.githubusercontent.com"
    message = str(err)
    assert message.startswith("oidc/github/https://iam.googleapis.com/projects/")
    assert (
        "Google STS refused the token exchange (invalid_grant: The given credential is rejected by the "
        "attribute condition.)" in message
    )
    assert f"sub='{GITHUB_SUB}'" in message
    assert "attribute condition must accept this token" in message
    assert f"check the workload identity pool provider {pool.audience}: its issuer" in message
    assert not err.retryable


def test_wrong_audience_refusal(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, google_sts: GoogleSTSEmulator
) -> None:
    pool = google_sts.add_provider(github_issuer, allowed_audiences=["only-this"])
    err = _refresh_error(_creds(pool, google_sts))
    assert isinstance(err, ExchangeError)
    assert err.code == "invalid_grant"
    assert "does not match the expected audience only-this" in str(err)
    assert err.claims["aud"] == "https:" + pool.audience


def test_wrong_issuer_refusal(
    github_actions: GitHubActionsTokenEndpoint, google_sts: GoogleSTSEmulator
) -> None:
    with OIDCIssuer("https://gitlab.example.com") as other:
        pool = google_sts.add_provider(other)
        err = _refresh_error(_creds(pool, google_sts))
    assert isinstance(err, ExchangeError)
    assert (
        "The issuer in ID Token https://token.actions.githubusercontent.com does not match the expected "
        "ones: https://gitlab.example.com." in str(err)
    )


def test_forged_signature_refusal(
    github_issuer: OIDCIssuer, google_sts: GoogleSTSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = github_issuer.mint(
        {"sub": GITHUB_SUB, "aud": "x"},
        signing_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    monkeypatch.setenv("FORGED", forged)
    pool = google_sts.add_provider(github_issuer, allowed_audiences=["x"])
    creds = gcp.credentials(token="oidc/env/FORGED", audience=pool.audience, token_url=google_sts.token_url)
    err = _refresh_error(creds)
    assert isinstance(err, ExchangeError)
    assert "(invalid_grant: Invalid ID Token signature.)" in str(err)
    assert forged not in str(err)


def test_unknown_pool_provider(
    github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator
) -> None:
    audience = github_pool.audience.replace("/providers/github", "/providers/typo")
    creds = gcp.credentials(token="oidc/github", audience=audience, token_url=google_sts.token_url)
    err = _refresh_error(creds)
    assert isinstance(err, ExchangeError)
    assert err.code == "invalid_request"
    assert 'Invalid value for "audience"' in str(err)


def test_issuer_keys_unreachable(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, google_sts: GoogleSTSEmulator
) -> None:
    pool = google_sts.add_provider(github_issuer)
    creds = _creds(pool, google_sts)
    github_issuer.faults.fail(503, times=5, path="/.well-known/")
    err = _refresh_error(creds)
    assert isinstance(err, ExchangeError)
    assert "Unable to fetch the JWKS of https://token.actions.githubusercontent.com: HTTPError" in str(err)


def test_rejected_subject_token_is_replaced_next_time(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, google_sts: GoogleSTSEmulator
) -> None:
    pool = google_sts.add_provider(github_issuer)
    creds = _creds(pool, google_sts)
    github_issuer.faults.fail(503, path="/.well-known/openid-configuration")
    _refresh_error(creds)
    creds.refresh(Request())  # succeeds, with a fresh subject token rather than the refused one
    assert github_actions.count() == 2
    assert google_sts.exchanges == 1


def test_sts_server_error_is_retryable(
    github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator
) -> None:
    google_sts.faults.add(status=503, body={"error": "temporarily_unavailable", "error_description": "busy"})
    err = _refresh_error(_creds(github_pool, google_sts))
    assert isinstance(err, ExchangeError)
    assert err.code == "temporarily_unavailable"
    assert err.retryable
    assert "(temporarily_unavailable: busy)" in str(err)


def test_sts_unreachable(github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator) -> None:
    creds = _creds(github_pool, google_sts)
    google_sts.down()
    err = _refresh_error(creds)
    assert isinstance(err, ExchangeError)
    assert err.retryable
    assert "the Google token exchange could not be completed (TransportError" in str(err)
    assert err.claims["sub"] == GITHUB_SUB


def test_service_account_not_granted(
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
    iam_credentials: IAMCredentialsEmulator,
) -> None:
    iam_credentials.add_service_account(
        "locked@demo-project.iam.gserviceaccount.com",
        members=[github_pool.principal_set("repository", "octo-org/another-repo")],
    )
    creds = _creds(
        github_pool,
        google_sts,
        service_account="locked@demo-project.iam.gserviceaccount.com",
        iam_endpoint=iam_credentials.url,
    )
    err = _refresh_error(creds)
    assert isinstance(err, ExchangeError)
    assert err.service == "IAM Credentials"
    assert err.code == "PERMISSION_DENIED"
    assert err.status == 403
    assert "Permission 'iam.serviceAccounts.getAccessToken' denied" in str(err)
    assert "needs roles/iam.workloadIdentityUser on locked@demo-project.iam.gserviceaccount.com" in str(err)
    assert err.claims["sub"] == GITHUB_SUB
    assert google_sts.exchanges == 1


def test_subject_token_fetch_failure_is_a_refresh_error(
    github_pool: WorkloadIdentityPoolProvider, google_sts: GoogleSTSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = _creds(github_pool, google_sts)
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL")
    err = _refresh_error(creds)
    assert isinstance(err, ConfigurationError) and isinstance(err, gcp.ConfigurationRefreshError)
    assert "reads the environment variable ACTIONS_ID_TOKEN_REQUEST_URL, which is not set" in str(err)
    assert google_sts.count() == 0


def test_identity_provider_down_is_a_refresh_error(
    github_actions: GitHubActionsTokenEndpoint,
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
) -> None:
    github_actions.faults.fail(401, body={"message": "Bad credentials"})
    err = _refresh_error(_creds(github_pool, google_sts))
    assert isinstance(err, TokenFetchError) and isinstance(err, gcp.TokenFetchRefreshError)
    assert err.status == 401
    assert "refused the request token (HTTP 401: Bad credentials)" in str(err)


def test_authorized_session_raises_refresh_error(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    google_sts: GoogleSTSEmulator,
    vertex_ai: VertexAIEmulator,
) -> None:
    pool = google_sts.add_provider(github_issuer, attribute_condition="false")
    with pytest.raises(exceptions.RefreshError, match="rejected by the attribute condition"):
        AuthorizedSession(_creds(pool, google_sts)).post(vertex_ai.model_url(), json=PROMPT, timeout=10)
    assert vertex_ai.count() == 0


@pytest.mark.parametrize(
    "audience",
    [
        "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r",
        "pool",
        "",
    ],
)
def test_bad_audience_is_a_configuration_error(audience: str) -> None:
    with pytest.raises(
        ConfigurationError, match="audience must be a workload identity pool provider's full name"
    ):
        gcp.credentials(token="oidc/github", audience=audience)


def test_bad_spec_is_a_configuration_error() -> None:
    audience = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r"
    with pytest.raises(ConfigurationError, match="unknown identity provider 'nope'"):
        gcp.credentials(token="oidc/nope", audience=audience)
    with pytest.raises(ConfigurationError, match="'oidc/bitbucket' takes no argument"):
        gcp.credentials(token="oidc/bitbucket/x", audience=audience)
    with pytest.raises(ConfigurationError, match="service_account must be an email or a unique ID"):
        gcp.credentials(token="oidc/github", audience=audience, service_account=" ")
