"""``role_arn`` + ``source_profile`` chains rooted in an ``oidc_*`` profile: boto3 and the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import boto3
import pytest

import oidc_credential_chain.aws as aws
from tests.aws.support import SPEC, AwsWorld, converse

ACCOUNT = "123456789012"


def chain_config(world: AwsWorld, deploy: str, **extra: str) -> None:
    lines = [
        "[profile fed]",
        f"oidc_web_identity_token = {SPEC}",
        f"oidc_role_arn = {world.role}",
        "oidc_role_session_name = fed-session",
        "",
        "[profile deploy]",
        f"role_arn = {deploy}",
        "source_profile = fed",
        "role_session_name = chained",
        "region = us-east-1",
        *(f"{key} = {value}" for key, value in extra.items()),
    ]
    world.write_config("\n".join(lines) + "\n")


def test_boto3_assumes_the_chained_role(world: AwsWorld) -> None:
    deploy = world.sts.allow_chain("deploy", world.role)
    chain_config(world, deploy)
    aws.install()
    converse(boto3.session.Session(profile_name="deploy").client("bedrock-runtime"))
    assert world.bedrock.callers() == [f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/chained"]
    assert world.sts.calls() == 1
    assert world.sts.calls("AssumeRole") == 1
    # The AssumeRole call was signed with the oidc profile's credentials.
    chained = world.sts.issued[-1]
    assert chained.claims["source"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/bedrock/fed-session"


def test_aws_profile_variable_selects_a_chain(world: AwsWorld) -> None:
    deploy = world.sts.allow_chain("deploy", world.role)
    chain_config(world, deploy)
    world.monkeypatch.setenv("AWS_PROFILE", "deploy")
    aws.install()
    converse(boto3.client("bedrock-runtime"))
    assert world.bedrock.callers() == [f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/chained"]


def test_a_role_that_does_not_trust_the_source_is_botocores_error(world: AwsWorld) -> None:
    from botocore.exceptions import ClientError

    deploy = world.sts.allow_chain("deploy", f"arn:aws:iam::{ACCOUNT}:role/someone-else")
    chain_config(world, deploy)
    aws.install()
    with pytest.raises(ClientError) as info:
        converse(boto3.session.Session(profile_name="deploy").client("bedrock-runtime"))
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert "is not authorized to perform: sts:AssumeRole on resource: " + deploy in str(info.value)


def test_the_chained_role_is_refreshed_through_the_whole_chain(world: AwsWorld) -> None:
    world.sts.credential_lifetime = 2.0
    deploy = world.sts.allow_chain("deploy", world.role)
    chain_config(world, deploy)
    aws.install()
    client = boto3.session.Session(profile_name="deploy").client("bedrock-runtime")
    deadline = time.monotonic() + 5.0
    requests = 0
    while time.monotonic() < deadline:
        converse(client)
        requests += 1
        time.sleep(0.1)
    assert len(world.bedrock.calls) == requests  # none refused with expired credentials
    # The web-identity source was exchanged again as its own credentials ran out.
    assert world.sts.calls() >= 2
    sources = {issued.claims.get("source") for issued in world.sts.issued if issued.role_arn == deploy}
    assert len(sources) == 1 and len([i for i in world.sts.issued if i.role_arn == world.role]) >= 2


def test_the_aws_cli_runs_the_chain(world: AwsWorld) -> None:
    # awscli (v1) bundles its own botocore; the startup hook installs the provider into it.
    deploy = world.sts.allow_chain("deploy", world.role)
    chain_config(world, deploy)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "sts",
            "get-caller-identity",
            "--profile",
            "deploy",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/chained"
    assert world.sts.calls() == 1 and world.sts.calls("AssumeRole") == 1
