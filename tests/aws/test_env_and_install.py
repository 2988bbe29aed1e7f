"""Environment configuration and install(): stock boto3 code, real sockets, verified SigV4."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import boto3
import botocore
import botocore.session
import pytest
from botocore.exceptions import NoCredentialsError

import oidc_credential_chain.aws as aws
from oidc_credential_chain import ConfigurationError
from oidc_credential_chain.aws.installer import install_into
from tests.aws.support import GITHUB_SUB, SPEC, AwsWorld, converse

DURATION = "AWS_ROLE_DURATION_SECONDS"


def sts_form(world: AwsWorld, index: int = -1) -> dict[str, str]:
    posts = [r for r in world.sts.requests if r.method == "POST"]
    return {k: v[0] for k, v in parse_qs(posts[index].body.decode()).items()}


def test_env_configuration_drives_stock_boto3(world: AwsWorld) -> None:
    world.use_env_identity()
    aws.install()
    client = boto3.client("bedrock-runtime")
    answer = converse(client, "hi")
    assert "assumed-role/bedrock/oidc-credential-chain-" in answer
    assert world.sts.calls() == 1
    assert world.bedrock.callers() == [world.sts.issued[-1].arn]
    issued = world.sts.issued[-1]
    assert issued.claims["sub"] == GITHUB_SUB
    form = sts_form(world)
    assert form["DurationSeconds"] == "3600"
    assert form["RoleArn"] == world.role
    assert "Policy" not in form and "ProviderId" not in form
    # The default session name is fixed for the process, so caching across sessions works.
    assert form["RoleSessionName"].startswith("oidc-credential-chain-")


def test_env_session_name_and_duration(world: AwsWorld) -> None:
    world.sts.roles[world.role].max_session_duration = 7200
    world.use_env_identity(AWS_ROLE_SESSION_NAME="ci-run-42", AWS_ROLE_DURATION_SECONDS="7200")
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    form = sts_form(world)
    assert form["RoleSessionName"] == "ci-run-42"
    assert form["DurationSeconds"] == "7200"
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/ci-run-42"]


def test_new_session_per_request_calls_sts_once(world: AwsWorld) -> None:
    world.use_env_identity()
    aws.install()
    for _ in range(5):
        converse(boto3.session.Session().client("bedrock-runtime"))
    assert world.sts.calls() == 1
    assert world.token_fetches() == 1
    assert len(set(world.bedrock.callers())) == 1
    assert len(world.bedrock.calls) == 5


def test_no_spec_configured_changes_nothing(world: AwsWorld) -> None:
    aws.install()
    with pytest.raises(NoCredentialsError):
        converse(boto3.client("bedrock-runtime"))
    assert world.sts.calls() == 0
    assert world.token_fetches() == 0


def test_literal_token_in_the_variable_is_not_ours(world: AwsWorld) -> None:
    world.monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", world.issuer.mint({"sub": GITHUB_SUB}))
    world.monkeypatch.setenv("AWS_ROLE_ARN", world.role)
    aws.install()
    with pytest.raises(NoCredentialsError):
        converse(boto3.client("bedrock-runtime"))
    assert world.sts.calls() == 0


def test_a_spec_without_a_role_warns_once_and_leaves_the_chain_to_botocore(
    world: AwsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # Unrelated code that creates clients never breaks because of us: one warning, then botocore's chain.
    from botocore.exceptions import NoCredentialsError

    from oidc_credential_chain._internal.log import reset_warnings

    reset_warnings()
    world.monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", SPEC)
    aws.install()
    caplog.set_level(logging.WARNING, logger="oidc_credential_chain")
    for _ in range(2):
        client = boto3.session.Session().client("bedrock-runtime")
        with pytest.raises(NoCredentialsError):
            converse(client)
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("oidc_credential_chain")]
    assert warnings == [
        "AWS_WEB_IDENTITY_TOKEN holds an oidc/... spec but no role is configured: set AWS_ROLE_ARN to the "
        "role's ARN (arn:aws:iam::<account>:role/<name>); the oidc/... credential provider is skipped"
    ]
    assert world.sts.calls() == 0
    assert world.token_fetches() == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "AWS_ROLE_DURATION_SECONDS",
            "600",
            "AWS_ROLE_DURATION_SECONDS in the environment must be between 900",
        ),
        (
            "AWS_ROLE_DURATION_SECONDS",
            "1h",
            "AWS_ROLE_DURATION_SECONDS in the environment must be a whole number",
        ),
        (
            "AWS_ROLE_SESSION_NAME",
            "has space",
            "AWS_ROLE_SESSION_NAME in the environment must be 2-64 characters",
        ),
        ("AWS_ROLE_ARN", "arn:aws:iam::12:role/x", "AWS_ROLE_ARN in the environment is not an IAM role ARN"),
        (
            "AWS_WEB_IDENTITY_TOKEN",
            "oidc/nope/x",
            "AWS_WEB_IDENTITY_TOKEN in the environment: unknown identity",
        ),
    ],
)
def test_bad_environment_values(world: AwsWorld, name: str, value: str, message: str) -> None:
    world.use_env_identity()
    world.monkeypatch.setenv(name, value)
    aws.install()
    with pytest.raises(ConfigurationError) as info:
        boto3.client("bedrock-runtime")
    assert message in str(info.value)
    assert world.sts.calls() == 0


def test_install_reaches_the_existing_default_session_keeping_its_region(
    world: AwsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world.use_env_identity()
    world.monkeypatch.delenv("AWS_DEFAULT_REGION")
    boto3.setup_default_session(region_name="eu-west-1")
    default = boto3.DEFAULT_SESSION
    caplog.set_level("INFO", logger="oidc_credential_chain")
    aws.install()
    client = boto3.client("bedrock-runtime")
    assert boto3.DEFAULT_SESSION is default
    assert client.meta.region_name == "eu-west-1"
    converse(client)
    assert world.sts.calls() == 1
    assert "at STS eu-west-1" in caplog.text


def test_install_keeps_the_default_sessions_profile(world: AwsWorld) -> None:
    world.write_config(
        "[profile ci]\nregion = eu-central-1\n"
        f"oidc_web_identity_token = {SPEC}\noidc_role_arn = {world.role}\n"
    )
    world.monkeypatch.delenv("AWS_DEFAULT_REGION")
    boto3.setup_default_session(profile_name="ci")
    aws.install()
    client = boto3.client("bedrock-runtime")
    assert client.meta.region_name == "eu-central-1"
    converse(client)
    assert world.sts.calls() == 1


def test_install_is_idempotent_and_uninstall_stops_new_sessions(world: AwsWorld) -> None:
    world.use_env_identity()
    aws.install()
    aws.install()
    assert aws.installed()
    session = botocore.session.Session()
    methods = [p.METHOD for p in session.get_component("credential_provider").providers]
    assert methods.count("oidc-web-identity") == 1
    assert methods.index("oidc-web-identity") == methods.index("assume-role") - 1
    assert methods.index("env") < methods.index("oidc-web-identity")
    aws.uninstall()
    assert not aws.installed()
    with pytest.raises(NoCredentialsError):
        converse(boto3.session.Session().client("bedrock-runtime"))
    assert world.sts.calls() == 0


def test_botocore_without_register_initializer_is_patched_and_restored(
    world: AwsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The AWS CLI v2 bundles a botocore without register_initializer.
    monkeypatch.delattr(botocore, "register_initializer")
    original = botocore.session.Session._create_credential_resolver
    world.use_env_identity()
    install_into(botocore)
    assert botocore.session.Session._create_credential_resolver is not original
    converse(boto3.session.Session().client("bedrock-runtime"))
    assert world.sts.calls() == 1
    aws.uninstall()
    assert botocore.session.Session._create_credential_resolver is original
