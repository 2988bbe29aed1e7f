"""``oidc-credential-chain token`` and ``claims`` run as real processes against the emulators."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from oidc_credential_chain.cli import main
from oidc_credential_chain.testing import GCPMetadataServer, GitHubActionsTokenEndpoint, OIDCIssuer
from tests.core.cli_support import CliResult, run_cli


def _one_paragraph(result: CliResult) -> str:
    """The stderr of a failed command: exactly one line, our prefix, no traceback."""
    assert result.stderr.startswith("oidc-credential-chain: "), result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr[len("oidc-credential-chain: ") : -1]


def test_token_prints_the_raw_token_without_newline_when_piped(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    result = run_cli("token", "oidc/github/sts.amazonaws.com")

    assert result.code == 0
    assert result.stderr == ""
    assert github_issuer.verify(result.stdout, audience="sts.amazonaws.com")
    assert not result.stdout.endswith("\n")
    assert result.stdout.count(".") == 2


def test_token_ends_with_a_newline_on_a_terminal(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    result = run_cli("token", "oidc/github/sts.amazonaws.com", tty=True)

    assert result.code == 0
    assert result.stdout.endswith("\n")
    assert github_issuer.verify(result.stdout.strip(), audience="sts.amazonaws.com")


def test_claims_prints_header_and_claims_never_the_signature(
    gcp_metadata: GCPMetadataServer, google_issuer: OIDCIssuer
) -> None:
    result = run_cli("claims", "oidc/google/https://example.com")

    assert result.code == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert set(document) == {"spec", "header", "claims", "expires_in"}
    assert document["spec"] == "oidc/google/https://example.com"
    assert document["header"]["alg"] == "RS256"
    assert document["header"]["kid"] == google_issuer.kid
    assert document["claims"]["aud"] == "https://example.com"
    assert document["claims"]["iss"] == "https://accounts.google.com"
    assert 3590 <= document["expires_in"] <= 3600
    # An RS256 signature is 342 base64url characters; nothing that long is printed.
    assert not re.search(r"[A-Za-z0-9_-]{100,}", result.stdout)


def test_claims_of_a_file_token(local_issuer: OIDCIssuer, write_file: Callable[..., Path]) -> None:
    token = local_issuer.mint({"sub": "system:serviceaccount:ns:sa", "aud": "sts.amazonaws.com"})
    path = write_file(token)

    result = run_cli("claims", f"oidc/file{path}")

    assert result.code == 0
    assert json.loads(result.stdout)["claims"]["sub"] == "system:serviceaccount:ns:sa"
    assert token.split(".")[2] not in result.stdout
    # Success with an unofficial provider: its one warning, nothing else.
    assert result.stderr.startswith(
        f"WARNING oidc_credential_chain.token: oidc/file{path} uses the generic 'file'"
    )
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("oidc/", "'oidc/' names no identity provider"),
        ("oidc", "'oidc' names no identity provider"),
        (
            "oidc/unknown/x",
            "unknown identity provider 'unknown' in 'oidc/unknown...'; known providers: google,",
        ),
        ("oidc/google/", "'oidc/google' needs an audience: write 'oidc/google/<audience>'"),
        ("oidc/circleci/extra", "'oidc/circleci' takes no argument, but 'oidc/circleci/extra' gives one"),
        ("oidc/circleci", "oidc/circleci reads the environment variable CIRCLE_OIDC_TOKEN, which is not set"),
        ("oidc/file/dev/zero", "token file '/dev/zero' is not a regular file"),
    ],
)
def test_configuration_errors_exit_2_with_one_paragraph(spec: str, message: str) -> None:
    result = run_cli("token", spec)

    assert result.code == 2
    assert result.stdout == ""
    assert message in _one_paragraph(result)


def test_fetch_failures_exit_1(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.fail(403, body={"message": "Resource not accessible by integration"})

    result = run_cli("claims", "oidc/github/sts.amazonaws.com")

    assert result.code == 1
    assert result.stdout == ""
    assert _one_paragraph(result) == (
        "oidc/github/sts.amazonaws.com: GitHub Actions' ID token endpoint refused the request token "
        "(HTTP 403: Resource not accessible by integration); the job needs 'permissions: id-token: write', "
        "and ACTIONS_ID_TOKEN_REQUEST_TOKEN stops working about 6 hours after the job starts"
    )


def test_unreachable_metadata_server_exits_1(gcp_metadata: GCPMetadataServer) -> None:
    gcp_metadata.down()

    result = run_cli("token", "oidc/google/https://example.com")

    assert result.code == 1
    assert "did not answer" in _one_paragraph(result)


def test_debug_adds_the_traceback_and_debug_logs(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.fail(403)

    result = run_cli("--debug", "token", "oidc/github/sts.amazonaws.com")

    assert result.code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "DEBUG oidc_credential_chain.http: GET http://127.0.0.1:" in result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1].startswith("oidc-credential-chain: oidc/github/")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("token",), "the following arguments are required: SPEC"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], expected: str) -> None:
    result = run_cli(*args)

    assert result.code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_help_and_version_exit_0() -> None:
    assert run_cli("--help").code == 0
    version = run_cli("--version")
    assert version.code == 0
    assert version.stdout.startswith("oidc-credential-chain ")


def test_unexpected_errors_are_one_paragraph_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from oidc_credential_chain import _api

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail that may hold anything")

    monkeypatch.setattr(_api, "fetch_id_token", broken)

    assert main(["token", "oidc/circleci"]) == 1
    err = capsys.readouterr().err
    assert err == "oidc-credential-chain: unexpected RuntimeError; run again with --debug for the traceback\n"

    assert main(["--debug", "token", "oidc/circleci"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal detail" in err
