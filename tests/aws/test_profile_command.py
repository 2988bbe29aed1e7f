"""``oidc-credential-chain aws profile``: a ready ``~/.aws/config`` block, run by botocore's
ProcessProvider."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.compat import compat_shell_split

from oidc_credential_chain.aws.config import WebIdentityConfig
from oidc_credential_chain.aws.credential_process import installed_command, profile_block
from tests.aws.support import SPEC, AwsWorld, converse


def profile_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oidc_credential_chain", "aws", "profile", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_printed_block_works_with_botocores_process_provider(world: AwsWorld) -> None:
    done = profile_command(
        "bedrock", "--role-arn", world.role, "--token", SPEC, "--session-name", "via-profile"
    )
    assert done.returncode == 0, done.stderr
    block = done.stdout
    assert block.startswith("[profile bedrock]\ncredential_process = ")
    script = compat_shell_split(block.splitlines()[1].split(" = ", 1)[1])[0]
    assert os.path.isabs(script) and Path(script).name == "oidc-credential-chain"
    world.write_config(block)
    client = boto3.session.Session(profile_name="bedrock", region_name="us-east-1").client("bedrock-runtime")
    converse(client)
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/via-profile"]


def test_words_survive_botocores_split() -> None:
    config = WebIdentityConfig.create(
        token="oidc/google/https://example.com/it's a 'test'",
        role_arn="arn:aws:iam::123456789012:role/r",
        region="eu-west-3",
        duration_seconds=900,
    )
    block = profile_block("default", config)
    header, process, region = block.splitlines()
    assert header == "[default]" and region == "region = eu-west-3"
    words = compat_shell_split(process.split(" = ", 1)[1])
    assert words[len(installed_command()) :] == [
        "aws",
        "credential-process",
        "--role-arn",
        "arn:aws:iam::123456789012:role/r",
        "--token",
        "oidc/google/https://example.com/it's a 'test'",
        "--region",
        "eu-west-3",
        "--duration-seconds",
        "900",
    ]


def test_without_the_script_the_block_runs_the_interpreter(
    world: AwsWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An interpreter with no console script beside it (python -m installs, some IDEs): python -m.
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(python))
    assert installed_command() == [str(python), "-m", "oidc_credential_chain"]
    config = WebIdentityConfig.create(token=SPEC, role_arn=world.role, session_name="via-python-m")
    world.write_config(profile_block("bedrock", config))
    converse(boto3.session.Session(profile_name="bedrock", region_name="us-east-1").client("bedrock-runtime"))
    assert world.bedrock.callers() == ["arn:aws:sts::123456789012:assumed-role/bedrock/via-python-m"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["a b", "--role-arn", "arn:aws:iam::123456789012:role/r", "--token", SPEC],
            "NAME must be a profile name",
        ),
        (
            ["ci", "--role-arn", "nope", "--token", SPEC],
            "--role-arn in the command's arguments is not an IAM role",
        ),
        (
            ["ci", "--role-arn", "arn:aws:iam::123456789012:role/r", "--token", "x"],
            "--token in the command's",
        ),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    done = profile_command(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
