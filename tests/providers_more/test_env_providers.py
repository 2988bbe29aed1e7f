"""gitlab, bitbucket and terraform: tokens the CI system puts in variables."""

from __future__ import annotations

import pytest

from oidc_credential_chain import ConfigurationError, fetch_id_token, get_id_token, parse_spec
from oidc_credential_chain.testing import OIDCIssuer


@pytest.mark.parametrize(
    ("spec", "variable"),
    [
        ("oidc/gitlab", "GITLAB_OIDC_TOKEN"),
        ("oidc/gitlab/", "GITLAB_OIDC_TOKEN"),
        ("oidc/gitlab/AWS_ID_TOKEN", "AWS_ID_TOKEN"),
        ("oidc/bitbucket", "BITBUCKET_STEP_OIDC_TOKEN"),
        ("oidc/terraform", "TFC_WORKLOAD_IDENTITY_TOKEN"),
        ("oidc/terraform/AWS", "TFC_WORKLOAD_IDENTITY_TOKEN_AWS"),
        ("oidc/terraform/gcp_2", "TFC_WORKLOAD_IDENTITY_TOKEN_gcp_2"),
    ],
)
def test_reads_the_variable(
    spec: str, variable: str, oidc_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = oidc_issuer.mint({"sub": "project_path:g/p:ref_type:branch:ref:main", "aud": "sts.amazonaws.com"})
    monkeypatch.setenv(variable, f"  {token}\n")
    assert get_id_token(spec) == token
    assert fetch_id_token(spec).subject == "project_path:g/p:ref_type:branch:ref:main"


def test_a_new_value_is_noticed(oidc_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = (oidc_issuer.mint({"sub": s, "aud": "a"}) for s in ("one", "two"))
    monkeypatch.setenv("TFC_WORKLOAD_IDENTITY_TOKEN_AWS", first)
    assert get_id_token("oidc/terraform/AWS") == first
    monkeypatch.setenv("TFC_WORKLOAD_IDENTITY_TOKEN_AWS", second)
    assert get_id_token("oidc/terraform/AWS") == second


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "oidc/gitlab",
            "oidc/gitlab reads the environment variable GITLAB_OIDC_TOKEN, which is not set; declare it in "
            ".gitlab-ci.yml: 'id_tokens: {GITLAB_OIDC_TOKEN: {aud: <audience>}}' on the job",
        ),
        (
            "oidc/gitlab/GCP_TOKEN",
            "oidc/gitlab/GCP_TOKEN reads the environment variable GCP_TOKEN, which is not set; declare it in "
            ".gitlab-ci.yml: 'id_tokens: {GCP_TOKEN: {aud: <audience>}}' on the job",
        ),
        (
            "oidc/bitbucket",
            "oidc/bitbucket reads the environment variable BITBUCKET_STEP_OIDC_TOKEN, which is not set; "
            "Bitbucket sets it only in steps with 'oidc: true' in bitbucket-pipelines.yml",
        ),
        (
            "oidc/terraform",
            "oidc/terraform reads the environment variable TFC_WORKLOAD_IDENTITY_TOKEN, which is not set; "
            "HCP Terraform sets it during plan and apply when the workspace defines "
            "TFC_WORKLOAD_IDENTITY_AUDIENCE",
        ),
        (
            "oidc/terraform/AZURE",
            "oidc/terraform/AZURE reads the environment variable TFC_WORKLOAD_IDENTITY_TOKEN_AZURE, which is "
            "not set; HCP Terraform sets it during plan and apply when the workspace defines "
            "TFC_WORKLOAD_IDENTITY_AUDIENCE_AZURE",
        ),
    ],
)
def test_missing_variable(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        get_id_token(spec)
    assert str(caught.value) == message


def test_empty_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITBUCKET_STEP_OIDC_TOKEN", "  ")
    with pytest.raises(ConfigurationError, match="BITBUCKET_STEP_OIDC_TOKEN, which is empty"):
        get_id_token("oidc/bitbucket")


def test_variable_that_is_not_a_jwt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_OIDC_TOKEN", "glpat-secret-value")
    with pytest.raises(ConfigurationError) as caught:
        get_id_token("oidc/gitlab")
    assert "the GitLab ID token variable GITLAB_OIDC_TOKEN is not a JWT" in str(caught.value)
    assert "glpat-secret-value" not in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("oidc/bitbucket/x", "'oidc/bitbucket' takes no argument, but 'oidc/bitbucket/x' gives one"),
        ("oidc/gitlab/not-a-name", "'not-a-name' is not an environment variable name"),
        ("oidc/gitlab/1ABC", "'1ABC' is not an environment variable name"),
        ("oidc/terraform/a-b", "the tag 'a-b' may hold only letters, digits and '_'"),
        ("oidc/terraform/A/B", "the tag 'A/B' may hold only letters, digits and '_'"),
    ],
)
def test_bad_arguments(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_spec(spec)
    assert message in str(caught.value)
