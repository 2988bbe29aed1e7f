"""Stock openai and azure-core clients, changed only in their token provider, against emulators over TLS."""

from __future__ import annotations

import openai
import pytest
from azure.core import AsyncPipelineClient, PipelineClient
from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, BearerTokenCredentialPolicy
from azure.core.rest import HttpRequest
from azure.identity import ChainedTokenCredential, DefaultAzureCredential, get_bearer_token_provider

from oidc_credential_chain.azure import OIDCCredential, aio, token_provider
from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    EntraEmulator,
    GCPMetadataServer,
    OIDCIssuer,
)
from tests.azure.support import GITHUB_SPEC, SCOPE

GOOGLE_SPEC = "oidc/google/api://AzureADTokenExchange"
CHAT_PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
BODY = {"messages": [{"role": "user", "content": "hello from an Azure SDK pipeline"}]}


def ask(client: openai.AzureOpenAI, text: str = "hello") -> str:
    answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content or ""


def test_cloud_run_identity_to_azure_openai(
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    gcp_metadata: GCPMetadataServer,
    google_issuer: OIDCIssuer,
) -> None:
    entra.add_federated_credential(google_issuer, gcp_metadata.service_account_id, name="cloud-run")
    client = openai.AzureOpenAI(
        azure_endpoint=azure_openai.endpoint,
        api_version=azure_openai.api_version,
        azure_ad_token_provider=token_provider(GOOGLE_SPEC),
    )

    assert ask(client, "from Cloud Run") == "Hello from the Azure OpenAI emulator. You said: from Cloud Run"
    [issued] = entra.issued
    assert issued.assertion_claims["iss"] == "https://accounts.google.com"
    assert issued.assertion_claims["sub"] == gcp_metadata.service_account_id
    assert issued.assertion_claims["aud"] == "api://AzureADTokenExchange"
    assert azure_openai.completions[0].principal == entra.app().object_id


def test_github_actions_to_azure_openai_with_environment_settings(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> None:
    # AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION come from the environment, as openai reads them.
    client = openai.AzureOpenAI(azure_ad_token_provider=token_provider(GITHUB_SPEC))

    for i in range(3):
        assert ask(client, f"run {i}").endswith(f"run {i}")
    assert trusted_github.token_requests == 1
    assert azure_openai.unauthorized == 0


def test_a_new_client_per_request_still_asks_entra_once(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> None:
    for i in range(5):
        client = openai.AzureOpenAI(azure_ad_token_provider=token_provider(GITHUB_SPEC))
        assert ask(client, str(i))

    assert trusted_github.token_requests == 1
    assert len(azure_openai.completions) == 5


def test_azure_openai_rejecting_the_caller_is_reported_by_openai(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> None:
    azure_openai.allowed_principals = {"someone-else"}
    client = openai.AzureOpenAI(azure_ad_token_provider=token_provider(GITHUB_SPEC), max_retries=0)

    with pytest.raises(openai.AuthenticationError, match="Principal does not have access to API/Operation"):
        ask(client)


def test_an_azure_sdk_pipeline_takes_the_credential(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> None:
    # Every Azure SDK client is a PipelineClient with a BearerTokenCredentialPolicy.
    credential = OIDCCredential(GITHUB_SPEC)
    client = PipelineClient(
        azure_openai.endpoint, policies=[BearerTokenCredentialPolicy(credential, SCOPE)], per_call_policies=[]
    )
    with client:
        for _ in range(3):
            response = client.send_request(HttpRequest("POST", azure_openai.endpoint + CHAT_PATH, json=BODY))
            response.raise_for_status()
            assert response.json()["choices"][0]["message"]["role"] == "assistant"

    assert trusted_github.token_requests == 1


async def test_an_async_azure_sdk_pipeline_takes_the_async_credential(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> None:
    from oidc_credential_chain.testing import loopback_ca

    async with aio.OIDCCredential(GITHUB_SPEC) as credential:
        client = AsyncPipelineClient(
            azure_openai.endpoint,
            policies=[AsyncBearerTokenCredentialPolicy(credential, SCOPE)],
            connection_verify=loopback_ca().ca_path,
        )
        async with client:
            response = await client.send_request(
                HttpRequest("POST", azure_openai.endpoint + CHAT_PATH, json=BODY)
            )
            response.raise_for_status()
            await response.read()
            assert response.json()["object"] == "chat.completion"

    assert trusted_github.token_requests == 1


def test_chained_with_default_azure_credential_and_bearer_provider(
    trusted_github: EntraEmulator, azure_openai: AzureOpenAIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", GITHUB_SPEC)
    chain = ChainedTokenCredential(OIDCCredential.from_env(), DefaultAzureCredential())
    client = openai.AzureOpenAI(azure_ad_token_provider=get_bearer_token_provider(chain, SCOPE))

    assert ask(client).startswith("Hello from the Azure OpenAI emulator")
    assert trusted_github.issued[0].assertion_claims["iss"] == "https://token.actions.githubusercontent.com"
