"""session(...) and credential_process (through botocore's own ProcessProvider)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import threading

import boto3
import pytest

import oidc_credential_chain.aws as aws
from oidc_credential_chain import ConfigurationError
from tests.aws.support import SPEC, AwsWorld, converse

ROLE_PREFIX = "arn:aws:iam::123456789012:role/"


def test_session_with_explicit_arguments(world: AwsWorld) -> None:
    session = aws.session(
        role_arn=world.role,
        web_identity_token=SPEC,
        role_session_name="explicit",
        region_name="eu-west-1",
        duration_seconds=900,
    )
    assert isinstance(session, boto3.Session)
    assert session.region_name == "eu-west-1"
    converse(session.client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/explicit"]
    issued = world.sts.issued[-1]
    assert issued.expiration is not None and 800 < issued.expiration - world.sts.now() <= 901


def test_session_accepts_litellm_style_keys(world: AwsWorld) -> None:
    session = aws.session(
        aws_role_name=world.role,
        aws_session_name="litellm",
        aws_web_identity_token=SPEC,
        aws_region_name="us-west-2",
    )
    client = session.client("bedrock-runtime")
    assert client.meta.region_name == "us-west-2"
    converse(client)
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/litellm"]


def test_session_ignores_static_environment_keys(world: AwsWorld) -> None:
    world.monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTUSEDBYSESSION")
    world.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-used")
    converse(aws.session(role_arn=world.role, web_identity_token=SPEC).client("bedrock-runtime"))
    assert world.sts.calls() == 1
    assert world.bedrock.callers()[-1].startswith("arn:aws:sts::123456789012:assumed-role/bedrock/")


def test_session_per_request_from_many_threads_calls_sts_once(world: AwsWorld) -> None:
    errors: list[BaseException] = []

    def request() -> None:
        try:
            converse(aws.session(role_arn=world.role, web_identity_token=SPEC).client("bedrock-runtime"))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(world.bedrock.calls) == 12
    assert world.sts.calls() == 1
    assert world.token_fetches() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role_arn": "arn:aws:iam::123456789012:role/r"}, "session() needs web_identity_token"),
        ({"web_identity_token": SPEC}, "set role_arn to the role's ARN"),
        (
            {
                "role_arn": "arn:aws:iam::123456789012:role/a",
                "aws_role_name": "arn:aws:iam::123456789012:role/b",
            },
            "role_arn and aws_role_name name the same setting but differ",
        ),
        (
            {"web_identity_token": "eyJ.a.b", "role_arn": "x"},
            "web_identity_token in session() must be an oidc/",
        ),
        (
            {
                "web_identity_token": SPEC,
                "role_arn": "arn:aws:iam::123456789012:role/r",
                "duration_seconds": 50000,
            },
            "duration_seconds in session() must be between 900 and 43200",
        ),
    ],
)
def test_session_argument_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        aws.session(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def process_command(world: AwsWorld, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "oidc_credential_chain.cli",
        "aws",
        "credential-process",
        "--role-arn",
        world.role,
        "--token",
        SPEC,
        *extra,
    ]


def test_credential_process_through_botocores_process_provider(world: AwsWorld) -> None:
    command = shlex.join(process_command(world, "--session-name", "via-process"))
    world.write_config(f"[profile bedrock]\ncredential_process = {command}\nregion = us-east-1\n")
    client = boto3.session.Session(profile_name="bedrock").client("bedrock-runtime")
    converse(client)
    converse(client)
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/via-process"] * 2
    assert world.sts.calls() == 1


def test_credential_process_output(world: AwsWorld) -> None:
    done = subprocess.run(
        process_command(world, "--duration-seconds", "900"), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["Version"] == 1
    assert set(document) == {
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
        "AccountId",
    }
    issued = world.sts.lookup(document["AccessKeyId"])
    assert issued is not None and issued.secret_access_key == document["SecretAccessKey"]
    assert document["Expiration"].endswith("Z") and document["AccountId"] == "123456789012"
    assert done.stderr == ""


def test_credential_process_refusal_exits_1_without_secrets(world: AwsWorld) -> None:
    world.sts.allow("bedrock", world.issuer, sub="repo:octo-org/other-repo:*")
    done = subprocess.run(process_command(world), capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "refused AssumeRoleWithWebIdentity" in done.stderr
    assert "AccessDenied" in done.stderr
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in done.stderr
    assert "eyJ" not in done.stderr


def test_credential_process_usage_error_exits_2(world: AwsWorld) -> None:
    command = process_command(world)
    command[command.index("--role-arn") + 1] = "not-an-arn"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "--role-arn in the command's arguments is not an IAM role ARN" in done.stderr
    assert world.sts.calls() == 0
