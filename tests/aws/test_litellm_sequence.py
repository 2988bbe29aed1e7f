"""LiteLLM's own variables: ``AWS_ROLE_NAME`` / ``AWS_SESSION_NAME`` and its call sequence.

LiteLLM (``aws_role_name=...`` with ``AWS_WEB_IDENTITY_TOKEN=oidc/...``) first builds
``boto3.client("sts")`` with the ambient chain, then calls ``assume_role_with_web_identity``
itself with the token it fetched.  Reproduced here without importing litellm
(``bench/litellm_oidc.py`` runs the real one).
"""

from __future__ import annotations

import boto3

import oidc_credential_chain
import oidc_credential_chain.aws as aws
from tests.aws.support import MODEL, SPEC, AwsWorld, converse


def litellm_env(world: AwsWorld) -> None:
    world.monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", SPEC)
    world.monkeypatch.setenv("AWS_ROLE_NAME", world.role)
    world.monkeypatch.setenv("AWS_SESSION_NAME", "litellm-session")


def test_litellm_call_sequence(world: AwsWorld) -> None:
    litellm_env(world)
    aws.install()
    sts = boto3.client("sts")  # the ambient chain: our provider, with LiteLLM's names as fallbacks
    token = oidc_credential_chain.get_id_token(SPEC)
    answer = sts.assume_role_with_web_identity(
        RoleArn=world.role, RoleSessionName="litellm-session", WebIdentityToken=token, DurationSeconds=3600
    )
    keys = answer["Credentials"]
    bedrock = boto3.client(
        "bedrock-runtime",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    response = bedrock.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert response["output"]["message"]["content"][0]["text"]
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/litellm-session"]


def test_litellm_environment_serves_plain_boto3(world: AwsWorld) -> None:
    litellm_env(world)
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/litellm-session"]


def test_our_names_win_over_litellms(world: AwsWorld) -> None:
    litellm_env(world)
    world.monkeypatch.setenv("AWS_ROLE_ARN", world.role)
    world.monkeypatch.setenv("AWS_ROLE_NAME", "arn:aws:iam::123456789012:role/not-this-one")
    world.monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "ours")
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/ours"]
