"""GitHub OIDC -> STS -> Bedrock Converse, -> Entra -> Azure OpenAI, -> Google STS -> Vertex AI.

The same code runs against the emulators in every CI run and against the real clouds in the
``live`` workflow (see ``conftest.py``).
"""

from __future__ import annotations

import pytest

from tests.live.conftest import Target

PROMPT = "Reply with one word: ready"


def test_github_to_bedrock(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from oidc_credential_chain import aws

    live = target.need("LIVE_AWS_ROLE_ARN", "LIVE_AWS_REGION", "LIVE_BEDROCK_MODEL_ID")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/github/sts.amazonaws.com")
    monkeypatch.setenv("AWS_ROLE_ARN", live["LIVE_AWS_ROLE_ARN"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", live["LIVE_AWS_REGION"])
    aws.install(default_session=False)

    session = boto3.Session()
    identity = session.client("sts").get_caller_identity()
    role_name = live["LIVE_AWS_ROLE_ARN"].rsplit("/", 1)[-1]
    assert f":assumed-role/{role_name}/" in identity["Arn"]
    reply = session.client("bedrock-runtime").converse(
        modelId=live["LIVE_BEDROCK_MODEL_ID"],
        messages=[{"role": "user", "content": [{"text": PROMPT}]}],
        inferenceConfig={"maxTokens": 16},
    )
    assert reply["output"]["message"]["content"][0]["text"].strip()


def test_github_to_azure_openai(target: Target) -> None:
    from openai import AzureOpenAI

    from oidc_credential_chain.azure import token_provider

    live = target.need(
        "LIVE_AZURE_TENANT_ID",
        "LIVE_AZURE_CLIENT_ID",
        "LIVE_AZURE_OPENAI_ENDPOINT",
        "LIVE_AZURE_OPENAI_DEPLOYMENT",
    )
    client = AzureOpenAI(
        azure_endpoint=live["LIVE_AZURE_OPENAI_ENDPOINT"],
        api_version="2024-10-21",
        azure_ad_token_provider=token_provider(
            "oidc/github/api://AzureADTokenExchange",
            tenant_id=live["LIVE_AZURE_TENANT_ID"],
            client_id=live["LIVE_AZURE_CLIENT_ID"],
        ),
    )
    reply = client.chat.completions.create(
        model=live["LIVE_AZURE_OPENAI_DEPLOYMENT"],
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=16,
    )
    assert (reply.choices[0].message.content or "").strip()


def test_github_to_vertex_ai(target: Target) -> None:
    from google.auth.transport.requests import AuthorizedSession

    from oidc_credential_chain import gcp

    live = target.need("LIVE_GCP_WORKLOAD_IDENTITY_PROVIDER", "LIVE_GCP_PROJECT", "LIVE_GCP_LOCATION")
    location = live["LIVE_GCP_LOCATION"]
    options = {}
    if target.token_url:
        options = {"token_url": target.token_url, "iam_endpoint": target.iam_endpoint}
    credentials = gcp.credentials(
        token="oidc/github",
        audience=live["LIVE_GCP_WORKLOAD_IDENTITY_PROVIDER"],
        service_account=target.settings.get("LIVE_GCP_SERVICE_ACCOUNT") or None,
        **options,
    )
    endpoint = target.settings.get("LIVE_VERTEX_ENDPOINT") or f"https://{location}-aiplatform.googleapis.com"
    model = target.settings.get("LIVE_VERTEX_MODEL") or "gemini-2.0-flash"
    url = (
        f"{endpoint}/v1/projects/{live['LIVE_GCP_PROJECT']}/locations/{location}"
        f"/publishers/google/models/{model}:generateContent"
    )
    reply = AuthorizedSession(credentials).post(
        url, json={"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}, timeout=60
    )
    assert reply.status_code == 200, reply.text[:300]
    assert reply.json()["candidates"][0]["content"]["parts"][0]["text"].strip()
