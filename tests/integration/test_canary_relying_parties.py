"""Canary across the relying parties: AWS STS + Bedrock, Entra + Azure OpenAI, Google STS + Vertex.

Every flow runs at DEBUG, successes and refusals, through the public entry points and the
command line.  Every secret involved (ID tokens, the GitHub request token, AWS secret keys and
session tokens, Entra and Google access tokens) is then looked for in each record of the
package's loggers, every repr and exception text a user could see, and the CLI's output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from google.auth.transport.requests import AuthorizedSession
from openai import AzureOpenAI

import oidc_credential_chain
from oidc_credential_chain import OIDCError, gcp
from oidc_credential_chain.azure import OIDCCredential, token_provider
from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    BedrockRuntimeEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    GoogleSTSEmulator,
    OIDCIssuer,
    STSEmulator,
    VertexAIEmulator,
)
from tests.core.canary_support import assert_no_secret, capture_package_logs, collect_exception_texts
from tests.core.cli_support import run_cli

CANARY_REQUEST_TOKEN = "ghs_CANARYrelyingPARTIES0123456789abcdef"
SUB = "repo:octo-org/octo-repo:ref:refs/heads/main"
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


class Secrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.texts: list[str] = []

    def add(self, label: str, value: str | None) -> None:
        if value:
            self.values[f"{label} #{len(self.values)}"] = value

    def error(self, err: BaseException) -> None:
        self.texts.extend(collect_exception_texts(err))


@pytest.fixture
def secrets(github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Secrets]:
    found = Secrets()
    found.add("GitHub request token", CANARY_REQUEST_TOKEN)
    mint = github_issuer.mint

    def recording_mint(*args: Any, **kwargs: Any) -> str:
        token = mint(*args, **kwargs)
        found.add("GitHub ID token", token)
        return token

    monkeypatch.setattr(github_issuer, "mint", recording_mint)
    yield found


@pytest.fixture
def world(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    aws_sts: STSEmulator,
    bedrock_runtime: BedrockRuntimeEmulator,
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    google_sts: GoogleSTSEmulator,
    vertex_ai: VertexAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    github_actions.request_token = CANARY_REQUEST_TOKEN
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", CANARY_REQUEST_TOKEN)
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "5")
    aws_sts.register_provider(github_issuer)
    role = aws_sts.allow("bedrock", github_issuer, sub="repo:octo-org/octo-repo:*")
    denied_role = aws_sts.allow("other", github_issuer, sub="repo:someone-else/*")
    entra.add_federated_credential(github_issuer, SUB, name="github-main")
    pool = google_sts.add_provider(github_issuer, pool_id="github-pool", provider_id="github")
    return {"role": role, "denied_role": denied_role, "pool": pool}


def _collect_aws(secrets: Secrets, sts: STSEmulator) -> None:
    for issued in sts.issued:
        secrets.add("AWS secret key", issued.secret_access_key)
        secrets.add("AWS session token", issued.session_token)


def test_no_secret_leaks_through_aws_azure_and_gcp_flows(
    world: dict[str, Any],
    secrets: Secrets,
    aws_sts: STSEmulator,
    bedrock_runtime: BedrockRuntimeEmulator,
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    google_sts: GoogleSTSEmulator,
    vertex_ai: VertexAIEmulator,
) -> None:
    outcomes: list[str] = []
    with capture_package_logs() as logs:
        # AWS: a session that works, one whose trust policy refuses, one STS failure code.
        session = oidc_credential_chain.aws.session(
            role_arn=world["role"],
            web_identity_token="oidc/github/sts.amazonaws.com",
            region_name="us-east-1",
        )
        reply = session.client("bedrock-runtime").converse(
            modelId=MODEL, messages=[{"role": "user", "content": [{"text": "hi"}]}]
        )
        outcomes.append("aws ok" if reply["output"]["message"]["content"] else "aws empty")
        secrets.texts.append(repr(session.get_credentials()))
        for role, fault in ((world["denied_role"], None), (world["role"], "IDPRejectedClaim")):
            if fault:
                aws_sts.fail_with(fault)
            try:
                oidc_credential_chain.aws.session(
                    role_arn=role,
                    web_identity_token="oidc/github/sts.amazonaws.com",
                    region_name="us-east-1",
                    role_session_name=f"refused-{fault or 'policy'}",
                ).client("bedrock-runtime").converse(
                    modelId=MODEL, messages=[{"role": "user", "content": [{"text": "hi"}]}]
                )
            except (OIDCError, ClientError) as err:
                secrets.error(err)
                outcomes.append(f"aws refused: {type(err).__name__}")
        _collect_aws(secrets, aws_sts)

        # Azure: the openai client through token_provider, a credential, and a refusal.
        client = AzureOpenAI(
            azure_endpoint=azure_openai.endpoint,
            api_version=azure_openai.api_version,
            azure_ad_token_provider=token_provider("oidc/github/api://AzureADTokenExchange"),
            max_retries=0,
        )
        answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        outcomes.append("azure ok" if answer.choices else "azure empty")
        credential = OIDCCredential("oidc/github/api://AzureADTokenExchange")
        info = credential.get_token_info("https://vault.azure.net/.default")
        secrets.texts.extend([repr(credential), repr(info.expires_on)])
        entra.inject_error(70021)
        try:
            OIDCCredential("oidc/github/api://AzureADTokenExchange").get_token(
                "https://storage.azure.com/.default"
            )
        except Exception as err:
            secrets.error(err)
            outcomes.append(f"azure refused: {type(err).__name__}")
        for issued_token in entra.issued:
            secrets.add("Entra access token", issued_token.access_token)

        # Google: external-account credentials through Google STS to Vertex.
        creds = gcp.credentials(
            token="oidc/github", audience=world["pool"].audience, token_url=google_sts.token_url
        )
        response = AuthorizedSession(creds).post(
            vertex_ai.model_url("gemini-2.0-flash"),
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
            timeout=10,
        )
        outcomes.append(f"gcp {response.status_code}")
        secrets.add("Google access token", creds.token)
        secrets.texts.append(repr(creds))
        refused = gcp.credentials(
            token="oidc/github/not-an-allowed-audience",
            audience=world["pool"].audience,
            token_url=google_sts.token_url,
        )
        try:
            AuthorizedSession(refused).post(vertex_ai.model_url("gemini-2.0-flash"), json={}, timeout=10)
        except Exception as err:
            secrets.error(err)
            outcomes.append(f"gcp refused: {type(err).__name__}")
        credential.close()

    assert outcomes == [
        "aws ok",
        "aws refused: StsExchangeError",
        "aws refused: StsExchangeError",
        "azure ok",
        "azure refused: EntraExchangeError",
        "gcp 200",
        "gcp refused: ExchangeRefreshError",
    ], outcomes
    assert any(r.levelname == "INFO" for r in logs.records), "exchanges are logged at INFO"
    assert sum(label.startswith("AWS secret key") for label in secrets.values) >= 1
    assert sum(label.startswith("Entra access token") for label in secrets.values) >= 2
    for label, secret in secrets.values.items():
        assert_no_secret(logs.records, secrets.texts, secret, label=label)


def test_no_secret_in_aws_and_azure_command_output(
    world: dict[str, Any], secrets: Secrets, aws_sts: STSEmulator, entra: EntraEmulator
) -> None:
    process = run_cli(
        "--debug",
        "aws",
        "credential-process",
        "--role-arn",
        world["role"],
        "--token",
        "oidc/github/sts.amazonaws.com",
        "--region",
        "us-east-1",
    )
    assert process.code == 0, process.stderr
    issued = json.loads(process.stdout)
    assert issued["Version"] == 1
    refused = run_cli(
        "--debug",
        "aws",
        "credential-process",
        "--role-arn",
        world["denied_role"],
        "--token",
        "oidc/github/sts.amazonaws.com",
        "--region",
        "us-east-1",
    )
    assert refused.code == 1
    assert "AccessDenied" in refused.stderr
    doctor = run_cli(
        "doctor", "oidc/github/sts.amazonaws.com", "--role-arn", world["denied_role"], "--exchange"
    )
    assert doctor.code in (1, 3)
    azure = run_cli("--debug", "azure", "token", "--token", "oidc/github/api://AzureADTokenExchange")
    assert azure.code == 0, azure.stderr
    access_token = json.loads(azure.stdout)["accessToken"]
    _collect_aws(secrets, aws_sts)
    # The credential_process and azure token outputs are the credentials by design; nothing else may be.
    assert issued["SecretAccessKey"] in secrets.values.values()
    assert access_token in [t.access_token for t in entra.issued]
    texts = [
        process.stderr,
        f"{refused.stdout}\n{refused.stderr}",
        f"{doctor.stdout}\n{doctor.stderr}",
        azure.stderr,
    ]
    for label, secret in secrets.values.items():
        assert_no_secret([], texts, secret, label=label)
    for secret in (issued["SecretAccessKey"], issued["SessionToken"], access_token):
        assert_no_secret([], texts, secret, label="issued credential")
