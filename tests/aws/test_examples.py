"""The AWS examples run as shown, against the emulators, with the trust policies they print."""

from __future__ import annotations

import ast
import configparser
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain.aws.config import from_profile
from oidc_credential_chain.cli import build_parser
from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    GCPMetadataServer,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACCOUNT = "111122223333"
ORG_ID = "8c4e4d3a-1111-4222-8333-444455556666"
PROJECT_ID = "0a1b2c3d-0000-4000-8000-000000000001"


def docstring(name: str) -> str:
    text = ast.get_docstring(ast.parse((EXAMPLES / name).read_text()))
    assert text is not None
    return text


def policy_in(name: str, **placeholders: str) -> dict[str, Any]:
    text = docstring(name)
    for placeholder, value in placeholders.items():
        text = text.replace(placeholder, value)
    policy, _ = json.JSONDecoder().raw_decode(text[text.index('{"Version"') :])
    assert isinstance(policy, dict)
    return policy


def run_example(name: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # What the installed startup hook does, then the example exactly as a user runs it.
    code = (
        "import oidc_credential_chain_autoload as hook; hook.activate(); "
        f"import runpy; runpy.run_path({str(EXAMPLES / name)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def base_env(tmp_path: Path, sts: STSEmulator, bedrock: BedrockRuntimeEmulator) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_DEFAULT_REGION": "us-east-1",
        **sts.env(),
        **bedrock.env(),
    }


@pytest.fixture
def aws_emulators() -> Any:
    with STSEmulator(account_id=ACCOUNT) as sts, BedrockRuntimeEmulator(sts) as bedrock:
        yield sts, bedrock


def test_github_actions_example(aws_emulators: Any, tmp_path: Path) -> None:
    sts, bedrock = aws_emulators
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
    ):
        sts.register_provider(issuer)
        role = sts.add_role("github-bedrock", policy_in("github_actions_to_bedrock.py"))
        env = {
            **base_env(tmp_path, sts, bedrock),
            **github.env(),
            "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
            "AWS_ROLE_ARN": role,
        }
        done = run_example("github_actions_to_bedrock.py", env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "assumed-role/github-bedrock/" in done.stdout and "Hello from GitHub Actions" in done.stdout


def test_cloud_run_example(aws_emulators: Any, tmp_path: Path) -> None:
    sts, bedrock = aws_emulators
    with (
        OIDCIssuer("https://accounts.google.com", lifetime=3600) as issuer,
        GCPMetadataServer(issuer, service_account_id="112233445566778899000") as metadata,
    ):
        sts.register_provider(issuer, audiences=None)
        role = sts.add_role("cloud-run-bedrock", policy_in("cloud_run_to_bedrock.py"))
        env = {
            **base_env(tmp_path, sts, bedrock),
            **metadata.env(),
            "AWS_WEB_IDENTITY_TOKEN": "oidc/google/sts.amazonaws.com",
            "AWS_ROLE_ARN": role,
        }
        done = run_example("cloud_run_to_bedrock.py", env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "assumed-role/cloud-run-bedrock/" in done.stdout and "Hello from Cloud Run" in done.stdout


def test_circleci_v2_example(aws_emulators: Any, tmp_path: Path) -> None:
    sts, bedrock = aws_emulators
    with OIDCIssuer(f"https://oidc.circleci.com/org/{ORG_ID}", lifetime=3600) as issuer:
        sts.register_provider(issuer, audiences=[ORG_ID])
        policy = policy_in("circleci_v2_to_bedrock.py", **{"<ORG_ID>": ORG_ID, "<PROJECT_ID>": PROJECT_ID})
        role = sts.add_role("circleci-bedrock", policy)
        sub = (
            f"org/{ORG_ID}/project/{PROJECT_ID}/user/5b8f5a2c-0000-4000-8000-000000000002"
            "/vcs-origin/github.com/octo-org/octo-repo/vcs-ref/refs/heads/main"
        )
        env = {
            **base_env(tmp_path, sts, bedrock),
            "CIRCLE_OIDC_TOKEN_V2": issuer.mint({"aud": ORG_ID, "sub": sub}),
            "AWS_WEB_IDENTITY_TOKEN": "oidc/circleci_v2",
            "AWS_ROLE_ARN": role,
        }
        done = run_example("circleci_v2_to_bedrock.py", env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "assumed-role/circleci-bedrock/" in done.stdout
        # Another branch is refused by the same policy, and the error names the token's sub.
        env["CIRCLE_OIDC_TOKEN_V2"] = issuer.mint(
            {"aud": ORG_ID, "sub": sub.replace("heads/main", "heads/dev")}
        )
        refused = run_example("circleci_v2_to_bedrock.py", env, tmp_path)
    assert refused.returncode == 1
    assert "AccessDenied" in refused.stderr and "vcs-ref/refs/heads/dev" in refused.stderr


def test_config_profile_example_parses() -> None:
    parser = configparser.ConfigParser()
    parser.read(EXAMPLES / "aws_config_profile.ini")
    config = from_profile("bedrock", dict(parser["profile bedrock"]))
    assert config is not None
    assert config.spec.text == "oidc/github/sts.amazonaws.com"
    assert config.role_arn == f"arn:aws:iam::{ACCOUNT}:role/github-bedrock"
    assert (config.session_name, config.duration_seconds) == ("bedrock-app", 3600)


def test_credential_process_example_is_a_valid_command() -> None:
    parser = configparser.ConfigParser()
    parser.read(EXAMPLES / "credential_process_profile.ini")
    command = shlex.split(parser["profile bedrock-any-sdk"]["credential_process"])
    assert command[0] == "oidc-credential-chain"
    args = build_parser().parse_args(command[1:])
    assert (args.role_arn, args.token, args.duration_seconds) == (
        f"arn:aws:iam::{ACCOUNT}:role/github-bedrock",
        "oidc/github/sts.amazonaws.com",
        "3600",
    )
    assert parser["profile bedrock-admin"]["source_profile"] == "bedrock-any-sdk"
