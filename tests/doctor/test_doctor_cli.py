"""`doctor` end to end through the CLI, against the GitHub Actions and GCP metadata emulators."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain.cli import main
from oidc_credential_chain.testing import GCPMetadataServer, GitHubActionsTokenEndpoint

GH = "token.actions.githubusercontent.com"
ROLE = "arn:aws:iam::123456789012:role/deploy"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")


def trust_policy(
    sub: str = "repo:octo-org/octo-repo:ref:refs/heads/main", account: str = "123456789012"
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubMain",
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{GH}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{GH}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{GH}:sub": sub},
                },
            }
        ],
    }


def write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert not JWT.search(captured.out) and not JWT.search(captured.err), "a token was printed"
    # Human output is wrapped for terminals; compare it with whitespace collapsed.
    out = captured.out if "--json" in args else " ".join(captured.out.split())
    return code, out, " ".join(captured.err.split())


def test_detects_github_and_shows_claims(
    github_actions: GitHubActionsTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/octo-repo")
    code, out, _ = run(["doctor"], capsys)
    assert code == 0
    assert "[ok] GitHub Actions: GitHub Actions job in octo-org/octo-repo" in out
    assert "AWS: oidc/github/sts.amazonaws.com" in out
    assert "Token oidc/github/sts.amazonaws.com (detected)" in out
    for line in (
        "iss ",
        "https://token.actions.githubusercontent.com",
        "repository",
        "octo-org/octo-repo",
        "job_workflow_ref",
        "ref_type",
    ):
        assert line in out
    assert "Result: ok (exit 0)" in out


def test_github_without_id_token_permission(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run(["doctor"], capsys)
    assert code == 2
    assert "[--] GitHub Actions" in out
    assert "permissions: id-token: write" in out
    assert "no spec given and no identity source detected" in out


def test_trust_policy_mismatch_names_the_condition(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github_actions.claims["sub"] = "repo:octo-org/octo-repo:pull_request"
    policy = write_json(tmp_path / "trust.json", trust_policy())
    code, out, _ = run(["doctor", "oidc/github/sts.amazonaws.com", "--aws-trust-policy", policy], capsys)
    assert code == 3
    assert "Result: mismatch found (exit 3)" in out
    assert f"[FAIL] StringLike {GH}:sub: sub 'repo:octo-org/octo-repo:pull_request' does not match" in out
    assert "pull_request event" in out
    assert f"[ok ] StringEquals {GH}:aud" in out


def test_trust_policy_allows(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_json(
        tmp_path / "trust.json", {"Role": {"AssumeRolePolicyDocument": trust_policy("repo:octo-org/*")}}
    )
    code, out, _ = run(
        ["doctor", "oidc/github/sts.amazonaws.com", "--aws-trust-policy", policy, "--role-arn", ROLE], capsys
    )
    assert code == 0, out
    assert "Allowed by statement 1 (Sid 'GitHubMain')" in out


def test_json_report(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github_actions.claims["sub"] = "repo:Octo-Org/octo-repo:ref:refs/heads/main"
    policy = write_json(tmp_path / "trust.json", trust_policy())
    code, out, _ = run(
        ["doctor", "oidc/github/sts.amazonaws.com", "--aws-trust-policy", policy, "--json"], capsys
    )
    assert code == 3
    doc = json.loads(out)
    assert doc["result"] == "mismatch found" and doc["exit_code"] == 3
    assert doc["token"]["claims"]["sub"] == "repo:Octo-Org/octo-repo:ref:refs/heads/main"
    assert 0 < doc["token"]["expires_in"] <= 300
    assert doc["aws"]["allowed"] is False
    failed = [c for s in doc["aws"]["statements"] for c in s["conditions"] if not c["passed"]]
    assert [c["key"] for c in failed] == [f"{GH}:sub"]
    assert "only in letter case" in failed[0]["explanation"]


def test_provider_in_another_account(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_json(tmp_path / "trust.json", trust_policy(account="999999999999"))
    code, out, _ = run(
        ["doctor", "oidc/github/sts.amazonaws.com", "--aws-trust-policy", policy, "--role-arn", ROLE], capsys
    )
    assert code == 3
    assert "outside the role's account 123456789012" in out


def test_bad_role_arn_is_a_usage_error(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_json(tmp_path / "trust.json", trust_policy())
    code, _, err = run(
        ["doctor", "oidc/github/sts.amazonaws.com", "--aws-trust-policy", policy, "--role-arn", "deploy"],
        capsys,
    )
    assert code == 2
    assert "--role-arn 'deploy' is not a role ARN" in err


def test_azure_federated_credentials(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github_actions.claims["sub"] = "repo:octo-org/octo-repo:environment:prod"
    records = [
        {
            "name": "main",
            "issuer": f"https://{GH}",
            "subject": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "audiences": ["api://AzureADTokenExchange"],
            "description": "",
        },
        {
            "name": "staging",
            "issuer": f"https://{GH}",
            "subject": "repo:octo-org/octo-repo:environment:staging",
            "audiences": ["api://AzureADTokenExchange"],
            "description": "",
        },
    ]
    fic = write_json(tmp_path / "fic.json", records)
    code, out, _ = run(
        ["doctor", "oidc/github/api://AzureADTokenExchange", "--azure-federated-credential", fic], capsys
    )
    assert code == 3
    assert "nearest record: 'staging' (differs in: subject)" in out
    assert "'repo:octo-org/octo-repo:environment:prod'" in out
    records.append({**records[1], "name": "prod", "subject": "repo:octo-org/octo-repo:environment:prod"})
    write_json(tmp_path / "fic.json", {"value": records})  # Graph's list page shape
    code, out, _ = run(
        ["doctor", "oidc/github/api://AzureADTokenExchange", "--azure-federated-credential", fic, "--json"],
        capsys,
    )
    assert code == 0
    assert json.loads(out)["azure"]["matched"]["name"] == "prod"


def test_azure_spec_is_detected_for_azure_checks(
    github_actions: GitHubActionsTokenEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    fic = write_json(
        tmp_path / "fic.json",
        {
            "name": "main",
            "issuer": f"https://{GH}",
            "subject": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "audiences": ["api://AzureADTokenExchange"],
        },
    )
    code, out, _ = run(["doctor", "--azure-federated-credential", fic], capsys)
    assert code == 0, out
    assert "Token oidc/github/api://AzureADTokenExchange (detected)" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "the trust policy file '{path}' does not exist"),
        ("{not json", "the trust policy file '{path}' is not valid JSON"),
        ('{"Version": "2012-10-17"}', "the trust policy has no 'Statement' element"),
    ],
)
def test_unusable_trust_policy_file(
    github_actions: GitHubActionsTokenEndpoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "trust.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(["doctor", "oidc/github/sts.amazonaws.com", "--aws-trust-policy", str(path)], capsys)
    assert code == 2
    assert message.format(path=path) in err
    assert out == ""


def test_fetch_failure_exits_1(
    github_actions: GitHubActionsTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "1")
    github_actions.faults.fail(503, times=3)
    code, out, _ = run(["doctor", "oidc/github/sts.amazonaws.com"], capsys)
    assert code == 1
    assert "[FAIL]" in out and "HTTP 503" in out
    assert "Result: token fetch failed (exit 1)" in out


def test_missing_variable_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["doctor", "oidc/circleci"], capsys)
    assert code == 2
    assert "CIRCLE_OIDC_TOKEN, which is not set" in out


def test_exchange_needs_a_relying_party(
    github_actions: GitHubActionsTokenEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["doctor", "oidc/github/sts.amazonaws.com", "--exchange"], capsys)
    assert code == 2
    assert "--exchange needs a relying party" in err


def test_role_arn_alone_says_what_to_add(
    github_actions: GitHubActionsTokenEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["doctor", "oidc/github/sts.amazonaws.com", "--role-arn", ROLE], capsys)
    assert code == 0
    assert "--role-arn alone checks nothing locally" in out


def test_bedrock_bearer_token_warning(
    github_actions: GitHubActionsTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-" + "x" * 20)
    code, out, _ = run(["doctor", "oidc/github/sts.amazonaws.com", "--json"], capsys)
    assert code == 0
    warnings = json.loads(out)["environment"]["warnings"]
    assert any("AWS_BEARER_TOKEN_BEDROCK is set" in w and "ignore every credential" in w for w in warnings)
    assert "x" * 20 not in out


def test_google_metadata_is_probed(
    gcp_metadata: GCPMetadataServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["doctor", "--json"], capsys)
    assert code == 0, out
    doc = json.loads(out)
    google = [d for d in doc["environment"]["detections"] if d["provider"] == "google"]
    assert google and google[0]["available"] is True
    assert doc["spec"] == "oidc/google/sts.amazonaws.com"
    assert doc["token"]["claims"]["iss"] == "https://accounts.google.com"
    assert doc["token"]["claims"]["aud"] == "sts.amazonaws.com"
