"""Command-line messages in the command line's own terms: flags, variables, extras to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from oidc_credential_chain import get_id_token
from oidc_credential_chain._internal.extras import MissingExtraError
from oidc_credential_chain.errors import ConfigurationError, TokenFetchError
from oidc_credential_chain.providers import google
from oidc_credential_chain.testing import GCPMetadataServer, OIDCIssuer
from tests.core.cli_support import run_cli


def test_azure_token_without_tenant_or_client_names_the_flags() -> None:
    result = run_cli("azure", "token", "--token", "oidc/github/api://AzureADTokenExchange")

    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "oidc-credential-chain: azure token needs the Entra tenant and the app whose federated credential "
        "trusts the token: pass --tenant-id (or AZURE_TENANT_ID) and --client-id (or AZURE_CLIENT_ID)\n"
    )


def test_azure_token_names_only_what_is_missing() -> None:
    env = {**os.environ, "AZURE_TENANT_ID": "8e2b0c1d-0000-4000-8000-000000000001"}
    result = run_cli("azure", "token", "--token", "oidc/github/api://AzureADTokenExchange", env=env)

    assert result.code == 2
    assert result.stderr.endswith("pass --client-id (or AZURE_CLIENT_ID)\n")
    assert "--tenant-id" not in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_is_accepted_before_or_after_the_command(
    where: str, local_issuer: OIDCIssuer, write_file: Callable[..., Path]
) -> None:
    path = write_file(local_issuer.mint({"sub": "ci", "aud": "sts.amazonaws.com"}))
    command = ["claims", f"oidc/file{path}"]
    args = ["--debug", *command] if where == "before" else [*command, "--debug"]

    result = run_cli(*args)

    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["claims"]["sub"] == "ci"
    assert "DEBUG oidc_credential_chain" in result.stderr


def test_claims_of_an_expired_token_prints_them_flags_the_expiry_and_exits_1(
    local_issuer: OIDCIssuer, write_file: Callable[..., Path]
) -> None:
    now = int(time.time())
    token = local_issuer.mint({"sub": "ci", "aud": "sts.amazonaws.com", "iat": now - 1500, "exp": now - 1200})
    path = write_file(token)

    result = run_cli("claims", f"oidc/file{path}")

    assert result.code == 1
    document = json.loads(result.stdout)
    assert document["claims"]["sub"] == "ci"
    assert document["expired"] is True
    assert -1210 < document["expires_in"] <= -1200
    assert f"oidc/file{path}: the token expired 20 min ago (" in result.stderr
    assert "UTC); fetch a fresh one" in result.stderr
    assert token.split(".")[2] not in result.stdout + result.stderr


def test_claims_of_a_token_expired_within_the_clock_allowance_is_flagged_too(
    local_issuer: OIDCIssuer, write_file: Callable[..., Path]
) -> None:
    now = int(time.time())
    path = write_file(local_issuer.mint({"sub": "ci", "iat": now - 400, "exp": now - 60}))

    result = run_cli("claims", f"oidc/file{path}")

    assert result.code == 1
    assert json.loads(result.stdout)["expired"] is True
    assert "the token expired 60 s ago" in result.stderr or "the token expired 61 s ago" in result.stderr


@pytest.mark.parametrize("command", ["claims", "token"])
def test_a_raw_jwt_instead_of_a_spec_suggests_oidc_env(command: str, local_issuer: OIDCIssuer) -> None:
    token = local_issuer.mint({"sub": "ci"})

    result = run_cli(command, token)

    assert result.code == 2
    assert "looks like a token itself (not shown)" in result.stderr
    assert "oidc/env/VAR" in result.stderr
    assert token not in result.stderr and token.split(".")[1] not in result.stderr


def test_claims_reads_a_token_from_stdin(local_issuer: OIDCIssuer) -> None:
    token = local_issuer.mint({"sub": "piped", "aud": "x"})
    done = subprocess.run(
        [sys.executable, "-m", "oidc_credential_chain", "claims", "-"],
        input=token,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["spec"], document["claims"]["sub"]) == ("-", "piped")
    assert token.split(".")[2] not in done.stdout


def test_google_off_gcp_says_where_it_works_and_names_the_url_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default host stands for "not on Google Cloud": a loopback port where nothing listens.
    monkeypatch.setattr(google, "DEFAULT_HOST", "127.0.0.1:9")
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "2")

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/google/https://example.com")

    message = str(info.value)
    assert message.count("/computeMetadata/v1/instance/service-accounts/default/identity") == 1
    assert "oidc/google works only on Google Cloud (Cloud Run, GCE, GKE, Cloud Functions)" in message
    assert "'oidc-credential-chain doctor' finds it" in message
    assert "set GCE_METADATA_HOST" in message


def test_google_with_gce_metadata_host_points_at_the_variable(
    gcp_metadata: GCPMetadataServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "2")
    gcp_metadata.down()

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/google/https://example.com")

    assert str(info.value).endswith("Check GCE_METADATA_HOST: it names the metadata server to ask")
    assert "works only on Google Cloud" not in str(info.value)


def _run_without(modules: tuple[str, ...], *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The command line in a process where ``modules`` cannot be imported (a bare install)."""
    code = (
        "import sys\n"
        f"sys.modules.update(dict.fromkeys({modules!r}))\n"
        "from oidc_credential_chain.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    assert done.stdout == ""
    return done.returncode, done.stderr


def test_credential_process_without_the_aws_extra_names_it() -> None:
    code, stderr = _run_without(
        ("boto3", "botocore"),
        "aws",
        "credential-process",
        "--role-arn",
        "arn:aws:iam::111122223333:role/r",
        "--token",
        "oidc/github/sts.amazonaws.com",
    )

    assert code == 2
    assert stderr == (
        "oidc-credential-chain: aws credential-process needs botocore, which is not installed: "
        "pip install 'oidc-credential-chain[aws]'\n"
    )


def test_azure_token_without_the_azure_extra_names_it() -> None:
    code, stderr = _run_without(
        ("azure", "msal"),
        "azure",
        "token",
        "--token",
        "oidc/github/api://AzureADTokenExchange",
        env={"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"},
    )

    assert code == 2
    assert stderr == (
        "oidc-credential-chain: azure token needs azure-identity, which is not installed: "
        "pip install 'oidc-credential-chain[azure]'\n"
    )


def test_gcp_credentials_without_the_gcp_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [
        m for m in sys.modules if m == "google" or m.startswith(("google.", "oidc_credential_chain.gcp."))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "google", None)
    import oidc_credential_chain.gcp as gcp

    monkeypatch.delitem(vars(gcp), "credentials", raising=False)
    with pytest.raises(MissingExtraError) as info:
        gcp.credentials(token="oidc/github", audience="//iam.googleapis.com/projects/1/x")

    assert isinstance(info.value, ConfigurationError) and isinstance(info.value, ImportError)
    assert str(info.value) == (
        "oidc_credential_chain.gcp.credentials needs google-auth, which is not installed: "
        "pip install 'oidc-credential-chain[gcp]'"
    )


def test_azure_credential_without_the_azure_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith(("azure.", "oidc_credential_chain.azure."))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "azure", None)
    import oidc_credential_chain.azure as azure

    monkeypatch.delitem(vars(azure), "OIDCCredential", raising=False)
    with pytest.raises(MissingExtraError) as info:
        azure.OIDCCredential("oidc/github/api://AzureADTokenExchange")

    assert str(info.value) == (
        "oidc_credential_chain.azure.OIDCCredential needs azure-identity, which is not installed: "
        "pip install 'oidc-credential-chain[azure]'"
    )
