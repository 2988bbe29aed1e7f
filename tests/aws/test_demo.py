"""The AWS half of ``oidc-credential-chain demo``."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import boto3

import oidc_credential_chain.aws as aws
from oidc_credential_chain._demo.aws import PLAIN_BOTO3_CODE, run_aws_demo


def test_run_aws_demo_prints_every_step() -> None:
    before = dict(os.environ)
    default_session = boto3.DEFAULT_SESSION
    out = io.StringIO()
    run_aws_demo(out)
    text = out.getvalue()
    assert "oidc_credential_chain" not in PLAIN_BOTO3_CODE
    assert text.count("ID token claims: iss=") == 2
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in text
    assert "iss='https://accounts.google.com'" in text
    assert "assumed arn:aws:sts::123456789012:assumed-role/bedrock-github-actions/" in text
    assert "assumed arn:aws:sts::123456789012:assumed-role/bedrock-cloud-run/" in text
    assert text.count("Bedrock Converse (SigV4 verified with those credentials): Hello arn:aws:sts::") == 2
    assert "AWS demo passed: 2 STS exchanges, 2 Bedrock calls" in text
    assert "eyJ" not in text
    # The demo leaves the process as it found it.
    assert dict(os.environ) == before
    assert boto3.DEFAULT_SESSION is default_session
    assert not aws.installed()


def test_demo_command_aws_half() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oidc_credential_chain.cli", "demo", "--only", "aws"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "AWS demo passed" in done.stdout


def test_aws_demo_shows_times_in_utc_and_every_variable() -> None:
    out = io.StringIO()
    run_aws_demo(out)
    text = out.getvalue()
    assert re.search(r"expires \d\d:\d\d:\d\d UTC \(in 5 min\)", text)  # the GitHub token
    assert re.search(r"expire \d\d:\d\d:\d\d UTC \(in 60 min\)", text)  # the STS credentials
    for name in (
        "ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN=<the runner's request token; not shown>",
        "GCE_METADATA_HOST=127.0.0.1:",
        "AWS_ENDPOINT_URL_STS=http://127.0.0.1:",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:",
    ):
        assert name in text
    assert not re.search(r"exp=\d{10}", text)
