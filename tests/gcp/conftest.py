from __future__ import annotations

import pytest

from oidc_credential_chain.testing import (
    GitHubActionsTokenEndpoint,
    GoogleSTSEmulator,
    IAMCredentialsEmulator,
    OIDCIssuer,
    WorkloadIdentityPoolProvider,
)

SERVICE_ACCOUNT = "vertex-caller@demo-project.iam.gserviceaccount.com"
PROMPT = {"contents": [{"role": "user", "parts": [{"text": "hello vertex"}]}]}


@pytest.fixture
def github_pool(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, google_sts: GoogleSTSEmulator
) -> WorkloadIdentityPoolProvider:
    """A pool provider trusting GitHub Actions tokens of the octo-org organisation."""
    return google_sts.add_provider(
        github_issuer,
        pool_id="github-pool",
        provider_id="github",
        attribute_mapping={
            "google.subject": "assertion.sub",
            "attribute.repository": "assertion.repository",
            "attribute.repository_owner": "assertion.repository_owner",
        },
        attribute_condition=(
            "assertion.repository_owner == 'octo-org' && assertion.ref.startsWith('refs/heads/')"
        ),
    )


@pytest.fixture
def vertex_sa(iam_credentials: IAMCredentialsEmulator, github_pool: WorkloadIdentityPoolProvider) -> str:
    iam_credentials.add_service_account(
        SERVICE_ACCOUNT, members=[github_pool.principal_set("repository", "octo-org/octo-repo")]
    )
    return SERVICE_ACCOUNT
