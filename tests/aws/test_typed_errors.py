"""Errors raised through botocore's chain are ours and botocore's, with unchanged messages."""

from __future__ import annotations

import pickle
import time

import boto3
import pytest
from botocore.exceptions import BotoCoreError, CredentialRetrievalError, InvalidConfigError

import oidc_credential_chain.aws as aws
from oidc_credential_chain import ConfigurationError, ExchangeError, OIDCError, TokenFetchError
from oidc_credential_chain.aws.errors import StsExchangeError, botocore_typed
from tests.aws.support import SPEC, AwsWorld, converse


def test_sts_refusal_is_an_exchange_error_and_a_credential_retrieval_error(world: AwsWorld) -> None:
    world.sts.fail_with("AccessDenied")
    world.use_env_identity()
    aws.install()
    with pytest.raises(CredentialRetrievalError) as info:
        boto3.client("bedrock-runtime")
    error = info.value
    assert isinstance(error, ExchangeError) and isinstance(error, StsExchangeError)
    assert error.code == "AccessDenied" and error.service == "AWS STS"
    assert str(error).startswith("AWS STS at us-east-1 (")
    assert "refused AssumeRoleWithWebIdentity for arn:aws:iam::123456789012:role/bedrock" in str(error)
    assert error.kwargs["provider"] == "oidc-web-identity"
    assert "eyJ" not in str(error)


def test_identity_provider_failure_is_a_token_fetch_error_and_a_credential_retrieval_error(
    world: AwsWorld,
) -> None:
    world.monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "1")
    world.github.faults.fail(403, body={"message": "no id-token permission"})
    world.use_env_identity()
    aws.install()
    with pytest.raises(CredentialRetrievalError) as info:
        boto3.client("bedrock-runtime")
    assert isinstance(info.value, TokenFetchError)
    assert "GitHub" in str(info.value) and "403" in str(info.value)
    assert world.sts.calls() == 0


def test_configuration_problem_is_also_invalid_config_error(world: AwsWorld) -> None:
    world.write_config(f"[profile ci]\noidc_web_identity_token = {SPEC}\n")
    aws.install()
    with pytest.raises(InvalidConfigError) as info:
        boto3.session.Session(profile_name="ci").client("bedrock-runtime")
    assert isinstance(info.value, ConfigurationError)
    assert str(info.value) == (
        "oidc_web_identity_token is set to oidc/github/sts.amazonaws.com in profile 'ci', but no role "
        "to assume is configured: set oidc_role_arn to the role's ARN (arn:aws:iam::<account>:role/<name>)"
    )


def test_mandatory_refresh_failure_is_typed_too(world: AwsWorld) -> None:
    world.sts.credential_lifetime = 1.0
    world.use_env_identity()
    aws.install()
    client = boto3.client("bedrock-runtime")
    converse(client)
    world.sts.fail_with("AccessDenied", times=1000)
    # Advisory failures keep serving the current credentials; once they are (almost) expired the
    # refresh is mandatory and its error reaches the caller.
    deadline = time.monotonic() + 10
    with pytest.raises(CredentialRetrievalError) as info:
        while time.monotonic() < deadline:
            converse(client)
            time.sleep(0.05)
    assert isinstance(info.value, ExchangeError) and info.value.code == "AccessDenied"


def test_typed_twin_keeps_message_attributes_and_pickles() -> None:
    original = ExchangeError("STS said no", spec=SPEC, service="AWS STS", code="AccessDenied", status=403)
    twin = botocore_typed(original)
    assert isinstance(twin, ExchangeError) and isinstance(twin, BotoCoreError)
    assert (str(twin), twin.spec, twin.code, twin.status) == ("STS said no", SPEC, "AccessDenied", 403)
    assert repr(twin) == "StsExchangeError('STS said no')"
    again = pickle.loads(pickle.dumps(twin))
    assert type(again) is StsExchangeError and str(again) == "STS said no" and again.code == "AccessDenied"
    assert botocore_typed(twin) is twin
    plain = OIDCError("base")
    assert botocore_typed(plain) is plain


def test_error_names_are_lazy_attributes() -> None:
    assert aws.StsExchangeError is StsExchangeError
    assert issubclass(aws.StsConfigurationError, InvalidConfigError)


def test_dual_types_are_built_with_our_signature() -> None:
    error = aws.StsExchangeError("STS said no", code="AccessDenied", status=403)
    assert isinstance(error, CredentialRetrievalError) and isinstance(error, ExchangeError)
    assert (str(error), error.code, error.kwargs["error_msg"]) == (
        "STS said no",
        "AccessDenied",
        "STS said no",
    )
    config = aws.StsConfigurationError("bad profile")
    assert isinstance(config, InvalidConfigError) and str(config) == "bad profile"
