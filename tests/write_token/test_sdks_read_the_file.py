"""The SDKs' own token-file readers, fed by `write-token --watch` running as a real subprocess.

- botocore's web-identity provider (``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ROLE_ARN``, no code of
  this library in the botocore session) re-reads the file on each refresh and keeps working
  across rotations, against the STS emulator.
- azure-identity's ``WorkloadIdentityCredential`` reads it; a credential created after a
  rotation presents the new token to the Entra emulator (and one created before keeps its
  old assertion: azure-identity re-reads the file at most every 10 minutes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from oidc_credential_chain.jwt import decode_unverified
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, OIDCIssuer
from oidc_credential_chain.testing.entra import EntraEmulator
from oidc_credential_chain.testing.sts import STSEmulator

LIFETIME = 6  # seconds: the watcher rewrites such short tokens at half their life, every 3 s


def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def _jti(path: Path) -> str:
    return str(decode_unverified(path.read_text())[1]["jti"])


class Writer:
    """`oidc-credential-chain write-token SPEC --out FILE --watch` in a subprocess."""

    def __init__(self, spec: str, out: Path, env: dict[str, str]) -> None:
        self.out = out
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oidc_credential_chain.cli",
                "write-token",
                spec,
                "--out",
                str(out),
                "--watch",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, stderr = self.proc.communicate(timeout=20)
        return self.proc.returncode, stderr


@pytest.fixture
def writer_env(github_actions: GitHubActionsTokenEndpoint) -> dict[str, str]:
    github_actions.lifetime = LIFETIME
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AZURE_"))}
    env.update(github_actions.env())
    return env


@pytest.fixture
def start_writer(writer_env: dict[str, str]) -> Iterator[Callable[[str, Path], Writer]]:
    started: list[Writer] = []

    def start(spec: str, out: Path) -> Writer:
        writer = Writer(spec, out, writer_env)
        started.append(writer)
        _wait_for(lambda: out.exists())
        return writer

    yield start
    for writer in started:
        if writer.proc.poll() is None:
            code, stderr = writer.stop()
            assert code == 0, stderr


def test_botocore_web_identity_provider_across_rotations(
    github_issuer: OIDCIssuer,
    start_writer: Callable[[str, Path], Writer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import botocore.session

    out = tmp_path / "aws-token"
    with STSEmulator(credential_lifetime=5) as sts:
        sts.register_provider(github_issuer)
        role = sts.allow("deploy", github_issuer, sub="repo:octo-org/octo-repo:*")
        writer = start_writer("oidc/github/sts.amazonaws.com", out)
        monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_AUTOLOAD", "0")
        for name, value in {
            **sts.env(),
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(out),
            "AWS_ROLE_ARN": role,
            "AWS_ROLE_SESSION_NAME": "e2e",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)

        session = botocore.session.get_session()  # stock botocore: nothing of this library attached
        client = session.create_client("sts")
        assert session.get_credentials().method == "assume-role-with-web-identity"

        file_tokens = {_jti(out)}
        identities = []
        # Credentials live 5 s, inside botocore's refresh window: every call re-reads the file.
        while len(file_tokens) < 3:
            identities.append(client.get_caller_identity()["Arn"])
            file_tokens.add(_jti(out))
            time.sleep(0.25)
        identities.append(client.get_caller_identity()["Arn"])

        presented = set()
        for request in sts.requests:
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
            if form.get("Action") == "AssumeRoleWithWebIdentity":
                presented.add(decode_unverified(form["WebIdentityToken"])[1]["jti"])
        code, stderr = writer.stop()

    assert code == 0, stderr
    assert stderr.count("wrote oidc/github/sts.amazonaws.com") >= 3
    assert set(identities) == {"arn:aws:sts::123456789012:assumed-role/deploy/e2e"}
    # STS saw at least three different tokens: the first and two rotations, all accepted.
    assert len(presented & file_tokens) >= 3
    assert sts.denials == []


def test_azure_workload_identity_credential_reads_rotated_file(
    github_issuer: OIDCIssuer,
    entra: EntraEmulator,
    start_writer: Callable[[str, Path], Writer],
    tmp_path: Path,
) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import WorkloadIdentityCredential

    entra.add_federated_credential(github_issuer, "repo:octo-org/octo-repo:ref:refs/heads/main")
    out = tmp_path / "azure-token"
    writer = start_writer("oidc/github/api://AzureADTokenExchange", out)

    def credential() -> WorkloadIdentityCredential:
        return WorkloadIdentityCredential(
            tenant_id=entra.tenant_id, client_id=entra.client_id, token_file_path=str(out)
        )

    before = credential()
    first = _jti(out)
    before.get_token("https://cognitiveservices.azure.com/.default")
    assert entra.issued[-1].assertion_claims["jti"] == first

    _wait_for(lambda: _jti(out) != first)
    second = _jti(out)
    after = credential()
    after.get_token("https://cognitiveservices.azure.com/.default")
    assert entra.issued[-1].assertion_claims["jti"] == second

    # The credential created before the rotation still holds the first token (azure-identity
    # re-reads the file at most every 600 s); once that token expires, Entra refuses it.
    first_exp = float(entra.issued[0].assertion_claims["exp"])
    _wait_for(lambda: time.time() > first_exp + 0.5)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700024"):
        before.get_token("https://storage.azure.com/.default")
    assert entra.refusals[-1].assertion_claims is not None
    assert entra.refusals[-1].assertion_claims["jti"] == first

    code, stderr = writer.stop()
    assert code == 0, stderr
