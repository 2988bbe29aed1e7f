"""The AWS -> Azure OpenAI example, unchanged, through STS GetWebIdentityToken, Entra ID and Azure OpenAI."""

from __future__ import annotations

import importlib.util
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import lifecycle
from oidc_credential_chain.testing import AzureOpenAIEmulator, EntraEmulator, OIDCIssuer
from oidc_credential_chain.testing.bedrock import BedrockRuntimeEmulator
from oidc_credential_chain.testing.sts import STSEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "aws_to_azure_openai.py"
ROLE_SESSION = "arn:aws:sts::123456789012:assumed-role/ecs-task/task-1"


def test_aws_to_azure_openai(
    aws_sts: STSEmulator,
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The workload's own credentials, as an ECS task role would provide them.
    aws_sts.add_access_key(
        "ASIAEXAMPLETASKROLE1", "task-secret", arn=ROLE_SESSION, session_token="task-token"
    )
    for name, value in {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLETASKROLE1",
        "AWS_SECRET_ACCESS_KEY": "task-secret",
        "AWS_SESSION_TOKEN": "task-token",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    entra.add_federated_credential(
        aws_sts.outbound_issuer, ROLE_SESSION, audiences=["api://AzureADTokenExchange"]
    )

    spec = importlib.util.spec_from_file_location("aws_to_azure_openai", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    answer = example.ask_azure_openai("hello from ECS", endpoint=azure_openai.endpoint, deployment="gpt-4o")
    assert answer == "Hello from the Azure OpenAI emulator. You said: hello from ECS"
    assert aws_sts.calls("GetWebIdentityToken") == 1
    assert entra.issued[-1].assertion_claims["sub"] == ROLE_SESSION
    assert azure_openai.completions[-1].principal == entra.app().object_id


@pytest.fixture
def installed() -> Iterator[None]:
    import oidc_credential_chain.aws as aws

    aws.install()
    try:
        yield
    finally:
        aws.uninstall()


def test_buildkite_and_kubernetes_to_bedrock(
    aws_sts: STSEmulator,
    bedrock_runtime: BedrockRuntimeEmulator,
    oidc_issuer: OIDCIssuer,
    installed: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws_sts.register_provider(oidc_issuer)
    role = aws_sts.allow("ci-bedrock", oidc_issuer, sub="organization:acme:*")
    monkeypatch.setenv("AWS_ROLE_ARN", role)
    token = oidc_issuer.mint(
        {"sub": "organization:acme:pipeline:deploy:ref:refs/heads/main", "aud": "sts.amazonaws.com"}
    )

    # Buildkite: a stand-in agent prints the token.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "token").write_text(token)
    agent = bin_dir / "buildkite-agent"
    agent.write_text(f"#!/bin/sh\ncat {tmp_path / 'token'}\n")
    agent.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/buildkite/sts.amazonaws.com")
    runpy.run_path(str(EXAMPLES / "buildkite_to_bedrock.py"))
    assert "assumed-role/ci-bedrock/" in capsys.readouterr().out

    # Kubernetes: a projected token file.
    lifecycle.install(lifecycle.Lifecycle())  # as in another process
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", f"oidc/kubernetes{tmp_path / 'token'}")
    runpy.run_path(str(EXAMPLES / "kubernetes_to_bedrock.py"))
    assert "You asked amazon.nova-micro-v1:0: 'Hello from a pod'" in capsys.readouterr().out
    assert [call.operation for call in bedrock_runtime.calls] == ["Converse", "Converse"]
