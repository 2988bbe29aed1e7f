"""The STS and Bedrock emulators verify what they receive, through the real botocore clients."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

import oidc_credential_chain.aws as aws
from oidc_credential_chain.testing import BedrockRuntimeEmulator, LoopbackCA
from oidc_credential_chain.testing.sigv4 import canonical_uri
from tests.aws.support import GITHUB_SUB, MODEL, SPEC, AwsWorld, converse


def assumed(world: AwsWorld) -> dict[str, Any]:
    """Credentials straight from the STS emulator through an unsigned botocore STS client."""
    sts = boto3.client("sts", config=Config(signature_version=UNSIGNED))
    token = world.issuer.mint({"sub": GITHUB_SUB, "aud": "sts.amazonaws.com"})
    response = sts.assume_role_with_web_identity(
        RoleArn=world.role, RoleSessionName="direct", WebIdentityToken=token
    )
    assert response["SubjectFromWebIdentityToken"] == GITHUB_SUB
    assert response["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/bedrock/direct"
    assert (
        response["Provider"] == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    )
    assert response["Audience"] == "sts.amazonaws.com"
    return dict(response["Credentials"])


def bedrock_with(credentials: dict[str, Any], **overrides: str) -> Any:
    keys = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
        **overrides,
    }
    return boto3.client("bedrock-runtime", **keys)


def client_error(call: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        call()
    return info.value


def test_signed_requests_with_issued_credentials_pass(world: AwsWorld) -> None:
    credentials = assumed(world)
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert "assumed-role/bedrock/direct" in converse(bedrock_with(credentials))


def test_unknown_key_is_refused(world: AwsWorld) -> None:
    credentials = assumed(world)
    err = client_error(lambda: converse(bedrock_with(credentials, aws_access_key_id="ASIAUNKNOWNKEY000000")))
    assert err.response["Error"]["Code"] == "UnrecognizedClientException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_session_token_is_refused(world: AwsWorld) -> None:
    credentials = assumed(world)
    err = client_error(lambda: converse(bedrock_with(credentials, aws_session_token="IQoJnottheissuedtoken")))
    assert err.response["Error"]["Code"] == "UnrecognizedClientException"
    assert err.response["Error"]["Message"] == "The security token included in the request is invalid."


def test_wrong_secret_is_refused(world: AwsWorld) -> None:
    credentials = assumed(world)
    err = client_error(lambda: converse(bedrock_with(credentials, aws_secret_access_key="x" * 40)))
    assert err.response["Error"]["Code"] == "InvalidSignatureException"
    assert "does not match the signature you provided" in err.response["Error"]["Message"]


def test_tampered_body_is_refused(world: AwsWorld) -> None:
    client = bedrock_with(assumed(world))

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace(b"hello", b"HELLO")

    client.meta.events.register("before-send.bedrock-runtime.Converse", tamper)
    err = client_error(lambda: converse(client, "hello"))
    assert err.response["Error"]["Code"] == "InvalidSignatureException"


def test_expired_credentials_are_refused(world: AwsWorld) -> None:
    world.sts.credential_lifetime = -5
    err = client_error(lambda: converse(bedrock_with(assumed(world))))
    assert err.response["Error"]["Code"] == "ExpiredTokenException"
    assert err.response["Error"]["Message"] == "The security token included in the request is expired"


def test_stale_signature_date_is_refused(world: AwsWorld) -> None:
    credentials = assumed(world)
    world.sts.clock_offset = 600
    err = client_error(lambda: converse(bedrock_with(credentials)))
    assert err.response["Error"]["Code"] == "InvalidSignatureException"
    assert err.response["Error"]["Message"].startswith("Signature expired: ")
    assert "- 5 min.)" in err.response["Error"]["Message"]


def test_model_ids_are_signed_double_encoded(world: AwsWorld) -> None:
    # botocore sends v1:0 as v1%3A0 and signs v1%253A0; the emulator verified exactly that.
    assert canonical_uri(f"/model/{MODEL.replace(':', '%3A')}/converse").endswith("v1%253A0/converse")
    converse(bedrock_with(assumed(world)))
    assert world.bedrock.calls[-1].model_id == MODEL


def test_invoke_model_formats(world: AwsWorld) -> None:
    client = bedrock_with(assumed(world))
    import json

    anthropic = client.invoke_model(
        modelId=MODEL,
        body=b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, '
        b'"messages": [{"role": "user", "content": "ping"}]}',
    )
    answer = json.loads(anthropic["body"].read())
    assert answer["type"] == "message" and "ping" in answer["content"][0]["text"]
    assert anthropic["contentType"] == "application/json"
    titan = json.loads(
        client.invoke_model(modelId="amazon.titan-text-express-v1", body=b'{"inputText": "pong"}')[
            "body"
        ].read()
    )
    assert "pong" in titan["results"][0]["outputText"]
    assert [c.operation for c in world.bedrock.calls] == ["InvokeModel", "InvokeModel"]


@pytest.mark.bedrock_bearer
def test_bearer_api_keys_over_https(world: AwsWorld, loopback_tls: LoopbackCA) -> None:
    # botocore sends Bedrock API keys only over TLS.
    with BedrockRuntimeEmulator(
        world.sts, api_keys={"bedrock-api-key-for-tests"}, ssl_context=loopback_tls.server_context()
    ) as bedrock:
        world.monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
        world.monkeypatch.setenv("AWS_CA_BUNDLE", str(loopback_tls.ca_path))
        world.monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-for-tests")
        converse(boto3.client("bedrock-runtime"))
        assert bedrock.callers() == ["api-key"]
        world.monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "wrong-key")
        err = client_error(lambda: converse(boto3.client("bedrock-runtime")))
        assert err.response["Error"]["Code"] == "AccessDeniedException"


@pytest.mark.sts_outbound
def test_get_web_identity_token_and_caller_identity(world: AwsWorld) -> None:
    sts = aws.session(role_arn=world.role, web_identity_token=SPEC, role_session_name="outbound").client(
        "sts"
    )
    assumed_arn = "arn:aws:sts::123456789012:assumed-role/bedrock/outbound"
    assert sts.get_caller_identity()["Arn"] == assumed_arn
    response = sts.get_web_identity_token(
        Audience=["https://service.example.com"],
        SigningAlgorithm="RS256",
        DurationSeconds=120,
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    claims = world.sts.outbound_issuer.verify(
        response["WebIdentityToken"], audience="https://service.example.com"
    )
    assert claims["sub"] == assumed_arn
    assert claims["iss"].endswith(".tokens.sts.global.api.aws")
    assert claims["exp"] - claims["iat"] == 120
    assert claims["https://sts.amazonaws.com/"]["principal_id"] == assumed_arn
    assert claims["https://sts.amazonaws.com/"]["request_tags"] == {"team": "ml"}
    two = sts.get_web_identity_token(Audience=["a", "b"], SigningAlgorithm="RS256")
    assert world.sts.outbound_issuer.verify(two["WebIdentityToken"], audience="b")["aud"] == ["a", "b"]
    world.sts.outbound_enabled = False
    err = client_error(lambda: sts.get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256"))
    assert err.response["Error"]["Code"] == "OutboundWebIdentityFederationDisabledException"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.sts_outbound
def test_get_web_identity_token_needs_a_signature(world: AwsWorld) -> None:
    unsigned = boto3.client("sts", config=Config(signature_version=UNSIGNED))
    err = client_error(lambda: unsigned.get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256"))
    assert err.response["Error"]["Code"] == "MissingAuthenticationToken"


@pytest.mark.parametrize(
    ("form", "code", "message"),
    [
        ({"RoleArn": None}, "ValidationError", "Value null at 'roleArn'"),
        ({"DurationSeconds": "100"}, "ValidationError", "greater than or equal to 900"),
        ({"RoleSessionName": "bad name"}, "ValidationError", "at 'roleSessionName' failed to satisfy"),
        ({"WebIdentityToken": "not-a-jwt"}, "InvalidIdentityToken", "not a valid JWT"),
        ({"Version": "2010-01-01"}, "InvalidParameterValue", "Version must be 2011-06-15"),
        ({"Action": "AssumeRoot"}, "InvalidAction", "Could not find operation AssumeRoot"),
    ],
)
def test_sts_query_protocol_errors(
    world: AwsWorld, form: dict[str, str | None], code: str, message: str
) -> None:
    fields: dict[str, str | None] = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": world.role,
        "RoleSessionName": "raw",
        "WebIdentityToken": world.issuer.mint({"sub": GITHUB_SUB, "aud": "sts.amazonaws.com"}),
        **form,
    }
    body = {name: value for name, value in fields.items() if value is not None}
    answer = requests.post(world.sts.url, data=body, timeout=5)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "text/xml"
    assert f"<Code>{code}</Code>" in answer.text and message in answer.text
    assert answer.text.startswith('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')


def test_fault_injection_counts_per_action(world: AwsWorld) -> None:
    world.sts.fail_with("Throttling", action="GetCallerIdentity", times=3)
    world.use_env_identity()
    aws.install()
    converse(boto3.client("bedrock-runtime"))  # the exchange is not affected by the GetCallerIdentity fault
    sts = boto3.client("sts", config=Config(retries={"total_max_attempts": 1}))
    err = client_error(sts.get_caller_identity)
    assert err.response["Error"]["Code"] == "Throttling"
    assert world.sts.calls() == 1
    assert world.sts.calls("GetCallerIdentity") == 1
