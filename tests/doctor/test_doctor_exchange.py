"""`doctor --exchange`: the real exchange against the STS and Entra emulators, error codes explained."""

from __future__ import annotations

import json
import re

import pytest

from oidc_credential_chain.cli import main
from oidc_credential_chain.doctor.exchange import explain_entra_error, explain_sts_error
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, OIDCIssuer
from oidc_credential_chain.testing.entra import EntraEmulator
from oidc_credential_chain.testing.sts import STSEmulator

AWS_SPEC = "oidc/github/sts.amazonaws.com"
AZURE_SPEC = "oidc/github/api://AzureADTokenExchange"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert not JWT.search(captured.out + captured.err), "a token was printed"
    # Human output is wrapped for terminals; compare it with whitespace collapsed.
    out = captured.out if "--json" in args else " ".join(captured.out.split())
    return code, out, " ".join(captured.err.split())


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("AccessDenied", "trust policy refused the token"),
        ("InvalidIdentityToken", "no IAM OIDC provider exists in the role's account"),
        ("IDPCommunicationError", "could not reach the issuer's discovery document"),
        ("ExpiredTokenException", "had expired"),
        ("IDPRejectedClaim", "expired or revoked"),
        ("ValidationError", "maximum session duration"),
        ("RegionDisabledException", "not activated"),
        ("Throttling", "rate-limiting"),
    ],
)
def test_sts_codes_are_explained(code: str, fragment: str) -> None:
    assert fragment in explain_sts_error(code)


def test_unknown_sts_code_has_no_explanation() -> None:
    assert explain_sts_error("SomethingNew") == ""
    assert explain_sts_error(None) == ""


@pytest.mark.parametrize(
    ("code", "message", "fragment"),
    [
        ("AADSTS70021", "", "may still be propagating"),
        ("AADSTS700211", "", "issuer (iss)"),
        ("AADSTS700213", "", "subject (sub)"),
        ("AADSTS7002138", "", "case-insensitively"),
        ("AADSTS7002131", "", "claimsMatchingExpression"),
        (
            "invalid_client",
            "AADSTS700024: Client assertion is not within its valid time range.",
            "validity window",
        ),
        ("AADSTS700016", "", "no application with this client ID"),
        ("AADSTS90002", "", "tenant was not found"),
        ("invalid_scope", "", "scope is not valid"),
        ("temporarily_unavailable", "", "retry"),
    ],
)
def test_entra_codes_are_explained(code: str, message: str, fragment: str) -> None:
    assert fragment in explain_entra_error(code, message)


def test_sts_exchange_succeeds(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    aws_sts: STSEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws_sts.register_provider(github_issuer)
    role = aws_sts.allow("deploy", github_issuer, sub="repo:octo-org/octo-repo:*")
    code, out, _ = run(["doctor", AWS_SPEC, "--role-arn", role, "--exchange"], capsys)
    assert code == 0, out
    assert (
        "[ok] AWS STS (arn:aws:iam::123456789012:role/deploy): assumed "
        "arn:aws:sts::123456789012:assumed-role/deploy/oidc-credential-chain-doctor" in out
    )
    for secret in (aws_sts.issued[-1].secret_access_key, aws_sts.issued[-1].session_token):
        assert secret and secret not in out


def test_sts_access_denied_is_explained_and_matched_locally(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    aws_sts: STSEmulator,
    tmp_path,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    github_actions.claims["sub"] = "repo:octo-org/octo-repo:pull_request"
    aws_sts.register_provider(github_issuer)
    role = aws_sts.allow("deploy", github_issuer, sub="repo:octo-org/octo-repo:ref:refs/heads/main")
    code, out, _ = run(["doctor", AWS_SPEC, "--role-arn", role, "--exchange"], capsys)
    assert code == 1
    assert "[FAIL] AWS STS" in out and "AccessDenied" in out
    assert "what AccessDenied means: the role's trust policy refused the token" in out
    assert "Result: exchange failed (exit 1)" in out

    policy = tmp_path / "trust.json"
    policy.write_text(json.dumps(aws_sts.roles[role].trust_policy))
    code, out, _ = run(
        ["doctor", AWS_SPEC, "--role-arn", role, "--aws-trust-policy", str(policy), "--exchange", "--json"],
        capsys,
    )
    assert code == 3
    doc = json.loads(out)
    assert doc["exchange"][0]["code"] == "AccessDenied" and doc["exchange"][0]["ok"] is False
    assert "pull_request event" in doc["aws"]["reason"]
    # The local verdict and the emulator's (which uses the same evaluator) agree.
    assert aws_sts.last_denial is not None and aws_sts.last_denial.reason == doc["aws"]["reason"]


def test_sts_unknown_provider(
    github_actions: GitHubActionsTokenEndpoint, aws_sts: STSEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    role = aws_sts.add_role("deploy", {"Version": "2012-10-17", "Statement": []})
    code, out, _ = run(["doctor", AWS_SPEC, "--role-arn", role, "--exchange"], capsys)
    assert code == 1
    assert "InvalidIdentityToken" in out and "No OpenIDConnect provider found" in out
    assert "no IAM OIDC provider exists in the role's account" in out


def test_entra_exchange_succeeds(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    entra: EntraEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entra.add_federated_credential(github_issuer, "repo:octo-org/octo-repo:ref:refs/heads/main")
    code, out, _ = run(["doctor", AZURE_SPEC, "--exchange"], capsys)
    assert code == 0, out
    assert f"[ok] Entra ID (tenant {entra.tenant_id}, client {entra.client_id}): Entra ID issued" in out
    assert entra.issued[-1].access_token not in out


def test_entra_subject_mismatch_is_explained(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    entra: EntraEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github_actions.claims["sub"] = "repo:octo-org/octo-repo:pull_request"
    entra.add_federated_credential(github_issuer, "repo:octo-org/octo-repo:ref:refs/heads/main")
    code, out, _ = run(["doctor", AZURE_SPEC, "--exchange", "--json"], capsys)
    assert code == 1
    outcome = json.loads(out)["exchange"][0]
    assert outcome["ok"] is False and outcome["code"] == "AADSTS700213"
    assert "has the assertion's subject (sub)" in outcome["explanation"]


def test_entra_unknown_tenant(
    github_actions: GitHubActionsTokenEndpoint, entra: EntraEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        [
            "doctor",
            AZURE_SPEC,
            "--exchange",
            "--tenant-id",
            "00000000-0000-4000-8000-000000000000",
            "--client-id",
            entra.client_id,
        ],
        capsys,
    )
    assert code == 1
    assert "AADSTS90002" in out and "tenant was not found" in out
