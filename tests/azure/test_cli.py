"""``oidc-credential-chain azure token``."""

from __future__ import annotations

import datetime
import json

import pytest

from oidc_credential_chain.cli import main
from oidc_credential_chain.testing import EntraEmulator, GitHubActionsTokenEndpoint, OIDCIssuer
from tests.azure.support import GITHUB_SPEC
from tests.core.cli_support import run_cli


def test_azure_token_prints_json_for_scripts(trusted_github: EntraEmulator) -> None:
    result = run_cli("azure", "token", "--token", GITHUB_SPEC)

    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    claims = trusted_github.verify_access_token(
        document["accessToken"], audience="https://cognitiveservices.azure.com"
    )
    assert claims["appid"] == document["clientId"] == trusted_github.client_id
    assert document["tenant"] == trusted_github.tenant_id
    assert document["scope"] == "https://cognitiveservices.azure.com/.default"
    assert document["tokenType"] == "Bearer"
    assert 0 <= claims["exp"] - document["expires_on"] <= 1
    assert document["refresh_on"] < document["expires_on"]
    expires = datetime.datetime.fromisoformat(document["expiresOn"].replace("Z", "+00:00"))
    assert int(expires.timestamp()) == document["expires_on"]
    assert result.stderr == ""


def test_scope_tenant_and_client_options(
    trusted_github: EntraEmulator, github_issuer: OIDCIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    other = trusted_github.add_app()
    trusted_github.add_federated_credential(
        github_issuer, "repo:octo-org/octo-repo:ref:refs/heads/main", client_id=other.client_id
    )

    code = main(
        [
            "azure",
            "token",
            "--token",
            GITHUB_SPEC,
            "--scope",
            "api://reports/.default",
            "--client-id",
            other.client_id,
            "--tenant-id",
            trusted_github.tenant_id,
        ]
    )

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    claims = trusted_github.verify_access_token(document["accessToken"], audience="api://reports")
    assert claims["appid"] == other.client_id


def test_unconfigured_exits_2_naming_the_variable(
    entra: EntraEmulator,
    github_actions: GitHubActionsTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AZURE_TENANT_ID")

    code = main(["azure", "token", "--token", GITHUB_SPEC])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "AZURE_TENANT_ID" in captured.err
    # In the command's own terms: the flag first, then the variable (issue 13).
    assert captured.err.startswith("oidc-credential-chain: azure token needs the Entra tenant")
    assert "pass --tenant-id (or AZURE_TENANT_ID)" in captured.err


def test_refusal_exits_1_with_the_code_and_no_token(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["azure", "token", "--token", GITHUB_SPEC])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "AADSTS70021" in captured.err
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in captured.err
    assert "eyJ" not in captured.err


def test_an_http_authority_exits_2(entra: EntraEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["azure", "token", "--token", GITHUB_SPEC, "--authority", "http://login.example.com"])

    assert code == 2
    assert "not an https URL" in capsys.readouterr().err


def test_token_is_required() -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["azure", "token"])
    assert excinfo.value.code == 2
