"""Azure AD -> Amazon Bedrock: an Entra access token from the ambient Azure identity, exchanged at AWS STS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import aws
from oidc_credential_chain.errors import ExchangeError
from oidc_credential_chain.testing import BedrockRuntimeEmulator, EntraEmulator, OIDCIssuer, STSEmulator

AUDIENCE = "api://bedrock-access"
SPEC = f"oidc/azure/{AUDIENCE}"
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture
def azure_workload(
    entra: EntraEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EntraEmulator]:
    """An AKS pod with workload identity whose Entra app may ask for tokens for the Bedrock audience."""
    with OIDCIssuer(lifetime=3600) as cluster:
        subject = "system:serviceaccount:ml:chat"
        entra.add_federated_credential(cluster, subject)
        token_file = tmp_path / "azure-identity-token"
        token_file.write_text(cluster.mint({"sub": subject, "aud": "api://AzureADTokenExchange"}))
        monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
        yield entra


def test_azure_ad_to_bedrock_end_to_end(
    azure_workload: EntraEmulator, aws_sts: STSEmulator, bedrock_runtime: BedrockRuntimeEmulator
) -> None:
    entra = azure_workload
    # AWS trusts the Entra tenant as an OIDC provider (issuer https://sts.windows.net/<tenant>/).
    aws_sts.register_provider(entra.token_issuer(), audiences=[AUDIENCE], discovery_url=entra.discovery_url())
    role = aws_sts.allow(
        "bedrock-from-azure",
        entra.token_issuer(),
        sub=entra.app().object_id,
        aud=AUDIENCE,
        sub_operator="StringEquals",
    )

    session = aws.session(role_arn=role, web_identity_token=SPEC, region_name="us-east-1")
    bedrock = session.client("bedrock-runtime")
    reply = bedrock.converse(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "hi from Azure"}]}]
    )

    text = reply["output"]["message"]["content"][0]["text"]
    assert "hi from Azure" in text
    [issued] = aws_sts.issued
    assert issued.role_arn == role
    assert issued.claims["iss"] == f"https://sts.windows.net/{entra.tenant_id}/"
    assert issued.claims["aud"] == AUDIENCE
    assert issued.claims["sub"] == entra.app().object_id
    assert bedrock_runtime.callers() == [issued.arn]
    assert [t.scope for t in entra.issued] == [f"{AUDIENCE}/.default"]


def test_the_trust_policy_decides(
    azure_workload: EntraEmulator, aws_sts: STSEmulator, bedrock_runtime: BedrockRuntimeEmulator
) -> None:
    entra = azure_workload
    aws_sts.register_provider(entra.token_issuer(), audiences=[AUDIENCE], discovery_url=entra.discovery_url())
    role = aws_sts.allow("bedrock-from-azure", entra.token_issuer(), sub="someone-else", aud=AUDIENCE)

    with pytest.raises(ExchangeError, match="AccessDenied") as excinfo:
        bedrock = aws.session(role_arn=role, web_identity_token=SPEC, region_name="us-east-1").client(
            "bedrock-runtime"
        )
        bedrock.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": "hi"}]}])

    message = str(excinfo.value)
    assert f"sub='{entra.app().object_id}'" in message
    assert f"iss='https://sts.windows.net/{entra.tenant_id}/'" in message
    assert bedrock_runtime.count() == 0
