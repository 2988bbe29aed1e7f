"""The Vertex AI examples run unchanged against the emulators."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from oidc_credential_chain.testing import (
    AzureIMDSEmulator,
    GoogleSTSEmulator,
    IAMCredentialsEmulator,
    VertexAIEmulator,
    WorkloadIdentityPoolProvider,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_github_actions_to_vertex_ai(
    github_pool: WorkloadIdentityPoolProvider,
    google_sts: GoogleSTSEmulator,
    iam_credentials: IAMCredentialsEmulator,
    vertex_ai: VertexAIEmulator,
    vertex_sa: str,
) -> None:
    example = _load("github_actions_to_vertex_ai")
    answer = example.ask_vertex(
        "Summarise this release",
        pool_provider=github_pool.audience,
        project=vertex_ai.project,
        service_account=vertex_sa,
        endpoint=vertex_ai.url,
        token_url=google_sts.token_url,
        iam_endpoint=iam_credentials.url,
    )
    assert answer == "[gemini-2.0-flash emulator] you said: Summarise this release"
    assert vertex_ai.calls[-1].principal == f"serviceAccount:{vertex_sa}"


def test_azure_vm_to_vertex_ai(
    azure_imds: AzureIMDSEmulator, google_sts: GoogleSTSEmulator, vertex_ai: VertexAIEmulator
) -> None:
    pool = google_sts.add_provider(
        azure_imds.issuer, pool_id="azure", provider_id="entra", allowed_audiences=["api://google-federation"]
    )
    example = _load("azure_vm_to_vertex_ai")
    answer = example.ask_vertex_from_azure(
        "hello from azure",
        entra_audience="api://google-federation",
        pool_provider=pool.audience,
        project=vertex_ai.project,
        endpoint=vertex_ai.url,
        token_url=google_sts.token_url,
    )
    assert answer.endswith("you said: hello from azure")
    identity = next(iter(azure_imds.identities.values()))
    assert vertex_ai.calls[-1].principal == pool.principal(identity.principal_id)
