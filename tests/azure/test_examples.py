"""The Azure examples, run unchanged as scripts against the emulators."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import aws
from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    BedrockRuntimeEmulator,
    EntraEmulator,
    GCPMetadataServer,
    OIDCIssuer,
    STSEmulator,
)
from tests.azure.support import GITHUB_SPEC

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ANSWER = "Hello from the Azure OpenAI emulator. You said: "


def run_example(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out.strip()


def test_github_actions_to_azure_openai(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_example("github_actions_to_azure_openai.py", capsys) == ANSWER + "Hello from GitHub Actions"
    assert trusted_github.issued[0].assertion_claims["iss"] == "https://token.actions.githubusercontent.com"


def test_cloud_run_to_azure_openai(
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    gcp_metadata: GCPMetadataServer,
    google_issuer: OIDCIssuer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entra.add_federated_credential(google_issuer, gcp_metadata.service_account_id)
    assert run_example("cloud_run_to_azure_openai.py", capsys) == ANSWER + "Hello from Cloud Run"


def test_azure_sdk_client(
    trusted_github: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", GITHUB_SPEC)
    assert run_example("azure_sdk_client.py", capsys) == ANSWER + "Hello from an Azure SDK pipeline"


def test_chained_credential_in_ci(
    trusted_github: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", GITHUB_SPEC)
    assert run_example("chained_credential.py", capsys) == ANSWER + "Hello"
    assert trusted_github.issued[0].assertion_claims["sub"].startswith("repo:octo-org/")


def test_chained_credential_falls_through_to_default_azure_credential(
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No AZURE_FEDERATED_TOKEN: OIDCCredential is unavailable, and workload identity answers instead.
    with OIDCIssuer() as cluster:
        entra.add_federated_credential(cluster, "system:serviceaccount:dev:notebook")
        token_file = tmp_path / "token"
        token_file.write_text(
            cluster.mint({"sub": "system:serviceaccount:dev:notebook", "aud": "api://AzureADTokenExchange"})
        )
        monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
        assert run_example("chained_credential.py", capsys) == ANSWER + "Hello"
    assert entra.issued[0].assertion_claims["sub"] == "system:serviceaccount:dev:notebook"


@pytest.fixture
def installed_aws() -> Iterator[None]:
    import boto3

    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        aws.uninstall()
        boto3.DEFAULT_SESSION = saved


def test_azure_ad_to_bedrock(
    entra: EntraEmulator,
    aws_sts: STSEmulator,
    bedrock_runtime: BedrockRuntimeEmulator,
    installed_aws: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with OIDCIssuer() as cluster:
        entra.add_federated_credential(cluster, "system:serviceaccount:ml:chat")
        token_file = tmp_path / "token"
        token_file.write_text(
            cluster.mint({"sub": "system:serviceaccount:ml:chat", "aud": "api://AzureADTokenExchange"})
        )
        monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
        aws_sts.register_provider(
            entra.token_issuer(), audiences=["api://bedrock-access"], discovery_url=entra.discovery_url()
        )
        role = aws_sts.allow(
            "bedrock-from-azure", entra.token_issuer(), sub=entra.app().object_id, aud="api://bedrock-access"
        )
        monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/azure/api://bedrock-access")
        monkeypatch.setenv("AWS_ROLE_ARN", role)

        output = run_example("azure_ad_to_bedrock.py", capsys)

    assert "Hello from Azure" in output
    assert bedrock_runtime.callers() == [aws_sts.issued[0].arn]
    assert aws_sts.issued[0].claims["sub"] == entra.app().object_id
