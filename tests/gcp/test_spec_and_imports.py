from __future__ import annotations

import subprocess
import sys

import pytest

from oidc_credential_chain import Spec, gcp

POOL = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r"
DERIVED = "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("oidc/github", f"oidc/github/{DERIVED}"),
        ("oidc/github/", f"oidc/github/{DERIVED}"),
        ("oidc/google", f"oidc/google/{DERIVED}"),
        ("oidc/aws", f"oidc/aws/{DERIVED}"),
        ("oidc/buildkite", f"oidc/buildkite/{DERIVED}"),
        ("oidc/github/custom-aud", "oidc/github/custom-aud"),
        # no audience argument to fill in: the token is used as it comes
        ("oidc/azure", "oidc/azure"),
        ("oidc/gitlab", "oidc/gitlab"),
        ("oidc/gitlab/GCP_ID_TOKEN", "oidc/gitlab/GCP_ID_TOKEN"),
        ("oidc/kubernetes", "oidc/kubernetes"),
        ("oidc/circleci", "oidc/circleci"),
        ("oidc/terraform/GCP", "oidc/terraform/GCP"),
    ],
)
def test_subject_token_spec(token: str, expected: str) -> None:
    assert gcp.subject_token_spec(token, POOL).text == expected


def test_subject_token_spec_accepts_a_spec_value() -> None:
    assert gcp.subject_token_spec(Spec("github"), POOL) == Spec("github", DERIVED)


def test_credentials_shape() -> None:
    creds = gcp.credentials(
        token="oidc/github", audience=POOL, service_account="sa@p.iam.gserviceaccount.com"
    )
    assert creds.info["audience"] == POOL
    assert creds.info["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert creds.info["token_url"] == "https://sts.googleapis.com/v1/token"
    assert creds.info["service_account_impersonation_url"] == (
        "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
        "sa@p.iam.gserviceaccount.com:generateAccessToken"
    )
    assert creds.service_account_email == "sa@p.iam.gserviceaccount.com"
    assert not creds.requires_scopes
    assert repr(creds._oidc_supplier) == f"SpecSubjectTokenSupplier('oidc/github/{DERIVED}')"


def test_importing_the_subpackage_imports_no_google_auth() -> None:
    code = (
        "import sys, oidc_credential_chain.gcp as g; "
        "assert 'google.auth' not in sys.modules, 'google.auth imported'; "
        "assert 'requests' not in sys.modules, 'requests imported'; "
        "g.credentials; assert 'google.auth' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
