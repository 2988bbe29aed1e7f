"""Profiles in ~/.aws/config, and the order of botocore's chain with our provider in it."""

from __future__ import annotations

import boto3
import pytest

import oidc_credential_chain.aws as aws
from oidc_credential_chain import ConfigurationError
from tests.aws.support import SPEC, AwsWorld, converse

STATIC_KEY = "AKIAEXAMPLESTATIC01"
STATIC_SECRET = "static-secret-key-for-tests-000000000000"


def profile(name: str, role: str, **extra: str) -> str:
    header = "[default]" if name == "default" else f"[profile {name}]"
    lines = [header, f"oidc_web_identity_token = {SPEC}", f"oidc_role_arn = {role}"]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def test_default_profile_configuration(world: AwsWorld) -> None:
    world.write_config(profile("default", world.role, oidc_role_session_name="from-profile"))
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/from-profile"]


def test_explicit_profile_with_duration(world: AwsWorld) -> None:
    world.sts.roles[world.role].max_session_duration = 5400
    world.write_config(profile("ci", world.role, oidc_duration_seconds="5400", region="eu-west-3"))
    world.monkeypatch.delenv("AWS_DEFAULT_REGION")
    aws.install()
    client = boto3.session.Session(profile_name="ci").client("bedrock-runtime")
    assert client.meta.region_name == "eu-west-3"
    converse(client)
    assert world.sts.calls() == 1
    issued = world.sts.issued[-1]
    assert issued.expiration is not None
    assert 5300 < issued.expiration - world.sts.now() <= 5401


def test_aws_profile_variable_selects_the_profile(world: AwsWorld) -> None:
    world.write_config(profile("ci", world.role, oidc_role_session_name="via-aws-profile"))
    world.monkeypatch.setenv("AWS_PROFILE", "ci")
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers()[-1].endswith("/via-aws-profile")


def test_profile_errors_name_our_keys(world: AwsWorld) -> None:
    world.write_config(f"[profile ci]\noidc_web_identity_token = {SPEC}\n")
    aws.install()
    with pytest.raises(ConfigurationError) as info:
        boto3.session.Session(profile_name="ci").client("bedrock-runtime")
    assert "oidc_web_identity_token is set to oidc/github/sts.amazonaws.com in profile 'ci'" in str(
        info.value
    )
    assert "set oidc_role_arn" in str(info.value)


def test_profile_token_must_be_a_spec(world: AwsWorld) -> None:
    world.write_config("[profile ci]\noidc_web_identity_token = /var/run/token\noidc_role_arn = x\n")
    aws.install()
    with pytest.raises(ConfigurationError) as info:
        boto3.session.Session(profile_name="ci").client("bedrock-runtime")
    assert "oidc_web_identity_token in profile 'ci' must be an oidc/... spec" in str(info.value)
    assert "/var/run/token" not in str(info.value)


def test_static_environment_keys_win(world: AwsWorld) -> None:
    world.sts.add_access_key(STATIC_KEY, STATIC_SECRET, arn="arn:aws:iam::123456789012:user/static")
    world.use_env_identity(AWS_ACCESS_KEY_ID=STATIC_KEY, AWS_SECRET_ACCESS_KEY=STATIC_SECRET)
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:iam::123456789012:user/static"]
    assert world.sts.calls() == 0
    assert world.token_fetches() == 0


def test_explicit_profile_ignores_our_environment(world: AwsWorld) -> None:
    other = world.sts.allow("profile-role", world.issuer, sub="repo:octo-org/octo-repo:*")
    world.write_config(profile("ci", other, oidc_role_session_name="profile-session"))
    world.use_env_identity(AWS_ROLE_SESSION_NAME="env-session")
    aws.install()
    converse(boto3.session.Session(profile_name="ci").client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/profile-role/profile-session"]


def test_explicit_profile_with_static_keys_wins_over_our_environment(world: AwsWorld) -> None:
    world.sts.add_access_key(STATIC_KEY, STATIC_SECRET, arn="arn:aws:iam::123456789012:user/profile-static")
    world.write_credentials(
        f"[static]\naws_access_key_id = {STATIC_KEY}\naws_secret_access_key = {STATIC_SECRET}\n"
    )
    world.use_env_identity()
    aws.install()
    converse(boto3.session.Session(profile_name="static").client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:iam::123456789012:user/profile-static"]
    assert world.sts.calls() == 0


def test_environment_spec_wins_over_the_default_profiles(world: AwsWorld) -> None:
    other = world.sts.allow("profile-role", world.issuer, sub="repo:octo-org/octo-repo:*")
    world.write_config(profile("default", other))
    world.use_env_identity(AWS_ROLE_SESSION_NAME="env-session")
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/env-session"]


def test_our_provider_comes_before_botocores_assume_role(world: AwsWorld) -> None:
    # A default profile that would assume a role from static keys: our variables are consulted first.
    world.write_credentials(
        f"[base]\naws_access_key_id = {STATIC_KEY}\naws_secret_access_key = {STATIC_SECRET}\n"
    )
    world.write_config("[default]\nrole_arn = arn:aws:iam::123456789012:role/other\nsource_profile = base\n")
    world.use_env_identity(AWS_ROLE_SESSION_NAME="env-session")
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/env-session"]
    assert world.sts.calls("AssumeRole") == 0
    assert world.sts.calls() == 1
