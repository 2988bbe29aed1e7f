"""Every STS error path: the error's type and message, and how many STS calls it took."""

from __future__ import annotations

import logging

import boto3
import pytest

import oidc_credential_chain.aws as aws
from oidc_credential_chain import ExchangeError
from oidc_credential_chain.testing.sts import ACCESS_DENIED_MESSAGE, VERIFICATION_KEY_MESSAGE
from tests.aws.support import GITHUB_SUB, AwsWorld, converse


def exchange_error(world: AwsWorld) -> ExchangeError:
    world.use_env_identity()
    aws.install()
    with pytest.raises(ExchangeError) as info:
        boto3.client("bedrock-runtime")
    return info.value


def assert_reports_the_token(err: ExchangeError, world: AwsWorld) -> None:
    text = str(err)
    assert "iss='https://token.actions.githubusercontent.com'" in text
    assert "aud='sts.amazonaws.com'" in text
    assert f"sub='{GITHUB_SUB}'" in text
    assert "exp=" in text
    assert err.claims["sub"] == GITHUB_SUB and set(err.claims) == {"iss", "aud", "sub", "exp"}
    assert "eyJ" not in text and "eyJ" not in repr(err)
    assert err.service == "AWS STS"


@pytest.fixture(autouse=True)
def _no_token_in_logs(caplog: pytest.LogCaptureFixture) -> object:
    caplog.set_level(logging.DEBUG)
    yield None
    assert "eyJ" not in caplog.text


@pytest.mark.parametrize("code", ["IDPCommunicationError", "InvalidIdentityToken"])
def test_idp_side_failures_retry_with_fresh_tokens_then_report(world: AwsWorld, code: str) -> None:
    world.sts.fail_with(code, times=10)
    err = exchange_error(world)
    assert err.code == code
    assert err.status == 400
    assert err.retryable is True
    assert world.sts.calls() == 3
    assert world.token_fetches() == 3  # the first from the cache's fetch, then two forced fresh ones
    assert f"refused AssumeRoleWithWebIdentity for {world.role}" in str(err)
    assert "after 3 attempts" in str(err)
    assert "could not fetch the signing keys" in str(err)
    assert_reports_the_token(err, world)


def test_unreachable_jwks_is_retried_with_a_fresh_token_and_recovers(world: AwsWorld) -> None:
    # The issuer's JWKS answers 503 once: STS says it could not retrieve the verification key.
    world.issuer.faults.fail(503, path="jwks", times=1)
    world.use_env_identity()
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.sts.calls() == 2
    assert world.token_fetches() == 2


def test_issuer_down_is_idp_communication_error(world: AwsWorld) -> None:
    world.issuer.down()
    err = exchange_error(world)
    assert err.code == "IDPCommunicationError"
    assert world.sts.calls() == 3
    assert world.token_fetches() == 3


def test_verification_key_message_is_the_retryable_kind(world: AwsWorld) -> None:
    world.sts.fail_with("InvalidIdentityToken", message=VERIFICATION_KEY_MESSAGE, times=1)
    world.use_env_identity()
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.sts.calls() == 2
    assert world.token_fetches() == 2


@pytest.mark.parametrize("code", ["Throttling", "InternalFailure", "ServiceUnavailable"])
def test_throttling_and_5xx_retry_with_the_same_token(world: AwsWorld, code: str) -> None:
    world.sts.fail_with(code, times=2)
    world.use_env_identity()
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.sts.calls() == 3
    assert world.token_fetches() == 1


def test_persistent_throttling_is_reported(world: AwsWorld) -> None:
    world.sts.fail_with("Throttling", times=5)
    err = exchange_error(world)
    assert err.code == "Throttling" and err.retryable is True
    assert "Throttling (HTTP 400): Rate exceeded" in str(err)
    assert world.sts.calls() == 3
    assert world.token_fetches() == 1


def test_sts_unreachable(world: AwsWorld) -> None:
    world.sts.down()
    err = exchange_error(world)
    assert err.code is None and err.retryable is True
    assert "could not reach AWS STS at us-east-1" in str(err)
    assert "after 3 attempts" in str(err)
    assert world.token_fetches() == 1


def test_expired_token_is_retried_once_with_a_fresh_one(world: AwsWorld) -> None:
    world.sts.fail_with("ExpiredTokenException", times=1)
    world.use_env_identity()
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.sts.calls() == 2
    assert world.token_fetches() == 2


def test_expired_token_twice_is_reported(world: AwsWorld) -> None:
    # STS's clock is ahead of the issuer's by more than the tokens' 300 s life: every token is expired.
    world.sts.clock_offset = 400
    err = exchange_error(world)
    assert err.code == "ExpiredTokenException"
    assert err.retryable is False
    assert "Token expired: current date/time" in str(err)
    assert "expired even after a fresh one was fetched" in str(err)
    assert world.sts.calls() == 2
    assert world.token_fetches() == 2
    assert_reports_the_token(err, world)


def test_trust_policy_mismatch_names_the_failing_claim(world: AwsWorld) -> None:
    world.sts.allow("bedrock", world.issuer, sub="repo:octo-org/octo-repo:environment:prod")
    err = exchange_error(world)
    assert err.code == "AccessDenied"
    assert err.status == 403
    assert err.retryable is False
    assert world.sts.calls() == 1
    assert world.token_fetches() == 1
    text = str(err)
    assert f"AccessDenied (HTTP 403): {ACCESS_DENIED_MESSAGE}" in text
    assert f"sub='{GITHUB_SUB}'" in text
    assert (
        "conditions on token.actions.githubusercontent.com:sub and token.actions.githubusercontent.com:aud"
        in text
    )
    assert "oidc-credential-chain doctor oidc/github/sts.amazonaws.com --role-arn" in text
    assert_reports_the_token(err, world)
    # The emulator's own verdict says which condition failed.
    verdict = world.sts.last_denial
    assert verdict is not None and not verdict.allowed
    failed = verdict.failed_conditions
    assert [c.key for c in failed] == ["token.actions.githubusercontent.com:sub"]


def test_idp_rejected_claim_is_not_retried(world: AwsWorld) -> None:
    world.sts.fail_with("IDPRejectedClaim")
    err = exchange_error(world)
    assert err.code == "IDPRejectedClaim" and err.status == 403 and not err.retryable
    assert "reported this token as expired or revoked" in str(err)
    assert world.sts.calls() == 1
    assert_reports_the_token(err, world)


def test_wrong_audience_is_not_retried(world: AwsWorld) -> None:
    world.sts.register_provider(world.issuer, audiences=["api://something-else"])
    err = exchange_error(world)
    assert err.code == "InvalidIdentityToken"
    assert "InvalidIdentityToken (HTTP 400): Incorrect token audience" in str(err)
    assert "Add the token's aud to the client IDs of the IAM OIDC provider" in str(err)
    assert world.sts.calls() == 1
    assert world.token_fetches() == 1


def test_unknown_provider_is_not_retried(world: AwsWorld) -> None:
    world.sts.providers.clear()
    err = exchange_error(world)
    assert err.code == "InvalidIdentityToken"
    assert (
        "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com"
        in str(err)
    )
    assert "Create an IAM OIDC identity provider for https://token.actions.githubusercontent.com" in str(err)
    assert world.sts.calls() == 1


def test_duration_above_the_roles_maximum(world: AwsWorld) -> None:
    world.monkeypatch.setenv("AWS_ROLE_DURATION_SECONDS", "7200")
    err = exchange_error(world)
    assert err.code == "ValidationError"
    assert "exceeds the MaxSessionDuration set for this role" in str(err)
    assert "the role's maximum session duration may be lower" in str(err)
    assert world.sts.calls() == 1


def test_forged_token_signature_is_refused(world: AwsWorld) -> None:
    from oidc_credential_chain.testing.issuer import _new_rsa_key

    forged = world.issuer.mint({"sub": GITHUB_SUB, "aud": "sts.amazonaws.com"}, signing_key=_new_rsa_key())
    world.monkeypatch.setenv("FORGED", forged)
    world.monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/env/FORGED")
    world.monkeypatch.setenv("AWS_ROLE_ARN", world.role)
    aws.install()
    with pytest.raises(ExchangeError) as info:
        boto3.client("bedrock-runtime")
    assert info.value.code == "InvalidIdentityToken"
    assert "signature is invalid" in str(info.value)
    assert world.sts.calls() == 1
