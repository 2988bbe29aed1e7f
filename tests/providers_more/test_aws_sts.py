"""oidc/aws/<audience>: STS GetWebIdentityToken signed with the ambient credentials (STS emulator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import (
    ConfigurationError,
    TokenFetchError,
    fetch_id_token,
    get_id_token,
    parse_spec,
)
from oidc_credential_chain.errors import CredentialLoopError
from oidc_credential_chain.providers import aws_sts as aws_provider
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, OIDCIssuer
from oidc_credential_chain.testing.sts import STSEmulator

SPEC = "oidc/aws/api://AzureADTokenExchange"
USER_ARN = "arn:aws:iam::123456789012:user/builder"


@pytest.fixture
def static_keys(aws_sts: STSEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    aws_sts.add_access_key("AKIAEXAMPLESTATIC01", "static-secret-value", arn=USER_ARN)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLESTATIC01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "static-secret-value")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return USER_ARN


@pytest.fixture
def installed() -> Iterator[None]:
    import oidc_credential_chain.aws as aws

    aws.install()
    try:
        yield
    finally:
        aws.uninstall()


def test_token_for_the_ambient_identity(aws_sts: STSEmulator, static_keys: str) -> None:
    token = fetch_id_token(SPEC)
    assert token.subject == USER_ARN
    assert token.audience == "api://AzureADTokenExchange"
    assert token.issuer == aws_sts.outbound_issuer.issuer
    assert token.claims["https://sts.amazonaws.com/"]["principal_id"] == USER_ARN
    aws_sts.outbound_issuer.verify(token.value, audience="api://AzureADTokenExchange")
    assert aws_sts.calls("GetWebIdentityToken") == 1
    form = aws_sts.requests[-1].form()
    assert form["SigningAlgorithm"] == "RS256" and form["DurationSeconds"] == "300"
    assert (
        aws_sts.requests[-1]
        .header("authorization", "")
        .startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLESTATIC01/")
    )
    fetch_id_token(SPEC)
    assert aws_sts.calls("GetWebIdentityToken") == 1  # cached


def test_chained_from_a_github_web_identity(
    aws_sts: STSEmulator,
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    installed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws_sts.register_provider(github_issuer)
    role = aws_sts.allow("azure-caller", github_issuer, sub="repo:octo-org/octo-repo:*")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/github/sts.amazonaws.com")
    monkeypatch.setenv("AWS_ROLE_ARN", role)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "ci")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    token = fetch_id_token(SPEC)
    assert token.subject == "arn:aws:sts::123456789012:assumed-role/azure-caller/ci"
    assert aws_sts.calls("AssumeRoleWithWebIdentity") == 1
    assert aws_sts.calls("GetWebIdentityToken") == 1


def test_ambient_identity_failing_is_reported(
    aws_sts: STSEmulator, installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/github/sts.amazonaws.com")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/azure-caller")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(ConfigurationError) as caught:
        get_id_token(SPEC)
    message = str(caught.value)
    assert message.startswith(f"{SPEC}: the ambient AWS credentials could not be obtained: ")
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in message
    assert aws_sts.calls("GetWebIdentityToken") == 0


@pytest.mark.parametrize(
    ("code", "status", "message", "hint"),
    [
        (
            "OutboundWebIdentityFederationDisabledException",
            None,
            "Outbound web identity federation is not enabled for this account.",
            "outbound identity federation is turned off for this AWS account; an administrator turns it on "
            "in IAM (account settings) before STS will mint tokens",
        ),
        (
            "SessionDurationEscalationException",
            403,
            "The requested token duration exceeds the session duration.",
            "the token may not outlive the session of the credentials that request it",
        ),
        (
            "JWTPayloadSizeExceededException",
            400,
            "The JWT payload is too large.",
            "the token would be too large; send fewer audiences or tags",
        ),
        (
            "AccessDenied",
            403,
            "User is not authorized to perform: sts:GetWebIdentityToken",
            "the ambient AWS identity needs permission for sts:GetWebIdentityToken",
        ),
    ],
)
def test_sts_refusals(
    aws_sts: STSEmulator, static_keys: str, code: str, status: int | None, message: str, hint: str
) -> None:
    aws_sts.fail_with(code, message=message, status=status, action="GetWebIdentityToken")
    with pytest.raises(TokenFetchError) as caught:
        get_id_token(SPEC)
    assert str(caught.value) == f"{SPEC}: STS GetWebIdentityToken refused ({code}: {message}); {hint}"
    assert caught.value.status == (status or 403)
    assert not caught.value.retryable


def test_federation_disabled_by_the_emulator(aws_sts: STSEmulator, static_keys: str) -> None:
    aws_sts.outbound_enabled = False
    with pytest.raises(TokenFetchError, match=r"\(OutboundWebIdentityFederationDisabledException: "):
        get_id_token(SPEC)


def test_unknown_keys(aws_sts: STSEmulator, static_keys: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")
    with pytest.raises(TokenFetchError) as caught:
        get_id_token(SPEC)
    assert str(caught.value).startswith(f"{SPEC}: STS GetWebIdentityToken refused (InvalidClientTokenId")
    assert "static-secret-value" not in str(caught.value)


def test_throttling_is_retryable(
    aws_sts: STSEmulator, static_keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    aws_sts.fail_with("Throttling", action="GetWebIdentityToken")
    with pytest.raises(TokenFetchError) as caught:
        get_id_token(SPEC)
    assert "(Throttling: Rate exceeded)" in str(caught.value)
    assert caught.value.retryable


def test_loop_through_our_own_provider_is_refused(
    aws_sts: STSEmulator, installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/aws/sts.amazonaws.com")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/loop")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(
        CredentialLoopError, match="the ambient AWS credentials come from AWS_WEB_IDENTITY_TOKEN"
    ):
        get_id_token(SPEC)
    assert aws_sts.count() == 0


def test_loop_through_a_source_profile_credential_process(
    aws_sts: STSEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n"
        "region = us-east-1\n"
        "[profile base]\ncredential_process = oidc-credential-chain aws credential-process "
        "--role-arn arn:aws:iam::123456789012:role/base --token oidc/aws/sts.amazonaws.com\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "app")
    with pytest.raises(CredentialLoopError) as caught:
        get_id_token(SPEC)
    assert "come from the source profile 'base''s credential_process" in str(caught.value)
    assert aws_sts.count() == 0


def test_nested_fetch_is_a_loop(aws_sts: STSEmulator, static_keys: str) -> None:
    # What botocore does when the credentials oidc/aws asks for are fetched with another oidc/aws spec.
    with aws_provider._fetching(parse_spec("oidc/aws/outer")), pytest.raises(CredentialLoopError) as caught:
        get_id_token("oidc/aws/inner")
    assert str(caught.value).startswith(
        "oidc/aws/inner: fetching oidc/aws/outer asked for AWS credentials, and those credentials asked for "
        "oidc/aws/inner; oidc/aws signs STS GetWebIdentityToken with the ambient AWS credentials"
    )
    assert aws_sts.count() == 0
