"""Canary: run every token flow at DEBUG with known secrets and prove none of them leaks.

Each ``flow_*`` function drives real fetches (successes and failures) against the emulators
and hands every user-visible text (reprs, ``str``/``repr`` of errors and their tracebacks) to
the :class:`Canary`.  The test then checks those texts, every record of the
``oidc_credential_chain`` loggers, and the command line's output for each secret.  To cover
another area, write a ``flow_<area>(canary)`` and add it to ``FLOWS``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain import OIDCError, fetch_id_token, parse_spec
from oidc_credential_chain._internal import clock
from oidc_credential_chain.providers.base import FetchContext
from oidc_credential_chain.testing import GCPMetadataServer, GitHubActionsTokenEndpoint, OIDCIssuer
from tests.core.canary_support import assert_no_secret, capture_package_logs, collect_exception_texts
from tests.core.cli_support import run_cli

CANARY_REQUEST_TOKEN = "ghs_CANARYrequestTOKEN0123456789abcdefXYZ"
CANARY_TEXT = "CANARY-file-content-that-is-not-a-token-5f3a9c"


@dataclasses.dataclass
class Canary:
    """What a flow needs, and what it found: secrets to look for and texts to look in."""

    github: GitHubActionsTokenEndpoint
    github_issuer: OIDCIssuer
    gcp: GCPMetadataServer
    google_issuer: OIDCIssuer
    local_issuer: OIDCIssuer
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    secrets: dict[str, str] = dataclasses.field(default_factory=dict)
    texts: list[str] = dataclasses.field(default_factory=list)
    outcomes: list[str] = dataclasses.field(default_factory=list)

    def secret(self, label: str, value: str) -> str:
        self.secrets[label] = value
        return value

    def token(self, label: str, claims: dict[str, Any] | None = None, **kwargs: Any) -> str:
        """A canary JWT from the local issuer."""
        return self.secret(
            label, self.local_issuer.mint({"sub": "canary", "aud": "canary-aud", **(claims or {})}, **kwargs)
        )

    def file(self, name: str, content: str) -> Path:
        path = self.tmp_path / name
        path.write_text(content)
        return path

    def fetch(self, spec: str, *, force_refresh: bool = True, ok: bool | None = None) -> None:
        """Fetch, recording what a user could see of the outcome (and that it went as expected)."""
        self.texts.append(repr(parse_spec(spec)) if _parses(spec) else "")
        try:
            token = fetch_id_token(spec, force_refresh=force_refresh)
        except OIDCError as err:
            self.texts.extend(collect_exception_texts(err))
            self.outcomes.append(f"{spec}: {type(err).__name__}")
            assert ok is not True, f"{spec} failed: {err}"
        else:
            self.texts.extend([repr(token), str(token), token.describe(), repr(token.summary())])
            self.texts.append(repr(token.header) + repr(token.claims))
            self.outcomes.append(f"{spec}: ok")
            assert ok is not False, f"{spec} unexpectedly succeeded"


def _parses(spec: str) -> bool:
    try:
        parse_spec(spec)
    except OIDCError:
        return False
    return True


def _record_minted(issuer: OIDCIssuer, canary: Canary, label: str) -> None:
    """Every token the emulator mints becomes a secret to look for."""
    mint = issuer.mint

    def recording_mint(*args: Any, **kwargs: Any) -> str:
        token = mint(*args, **kwargs)
        canary.secret(f"{label} #{len(canary.secrets)}", token)
        return token

    canary.monkeypatch.setattr(issuer, "mint", recording_mint)


# --- flows --------------------------------------------------------------------------------


def flow_github(canary: Canary) -> None:
    gh = canary.github
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", gh.request_token)
    spec = "oidc/github/sts.amazonaws.com"
    canary.fetch(spec, ok=True)
    canary.fetch("oidc/github", ok=True)
    gh.faults.fail(503, times=2)
    canary.fetch(spec, ok=True)
    gh.faults.fail(403, body={"message": "Resource not accessible by integration"})
    canary.fetch(spec, ok=False)
    gh.faults.add(status=200, body={"value": CANARY_TEXT})
    canary.fetch(spec, ok=False)
    gh.faults.add(malformed=True)
    canary.fetch(spec, ok=False)
    gh.redirect_to = "http://127.0.0.2:9/steal"
    canary.fetch(spec, ok=False)
    gh.redirect_to = None
    # A fresh token that is already long expired by a fast local clock.
    canary.monkeypatch.setattr(clock, "wall", lambda: time.time() + 3600)
    canary.fetch(spec, ok=False)
    canary.monkeypatch.setattr(clock, "wall", time.time)
    # The request token rejected: the endpoint never learns it, and nor does anything we print.
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", CANARY_REQUEST_TOKEN + "-wrong")
    canary.fetch(spec, ok=False)
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", gh.request_token)
    # Plain http to a remote host is refused before sending.
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://pipelines.example.invalid/idtoken?x=1")
    canary.fetch(spec, ok=False)
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", gh.request_url)


def flow_google(canary: Canary) -> None:
    spec = "oidc/google/https://example.com"
    canary.fetch(spec, ok=True)
    canary.gcp.faults.add(status=200, body=CANARY_TEXT, headers={"Metadata-Flavor": "Google"})
    canary.fetch(spec, ok=False)
    canary.gcp.faults.fail(500, times=3, body=CANARY_TEXT[:8])
    canary.fetch(spec, ok=False)


def flow_files(canary: Canary) -> None:
    good = canary.file("good", canary.token("file token") + "\n")
    canary.fetch(f"oidc/file{good}", ok=True)
    canary.fetch(f"oidc/file/{good}", ok=True)
    canary.fetch(f"oidc/file{canary.file('text', CANARY_TEXT)}", ok=False)
    canary.fetch(f"oidc/file{canary.file('big', canary.token('big token', {'pad': 'x' * 70_000}))}", ok=False)
    garbled = canary.token("garbled token").replace(".", ".e30", 1)  # JWT-shaped, header not JSON
    canary.secret("garbled token", garbled)
    canary.fetch(f"oidc/file{canary.file('garbled', garbled)}", ok=False)
    canary.monkeypatch.setenv("CANARY_PATH", str(good))
    canary.fetch("oidc/env_path/CANARY_PATH", ok=True)
    canary.monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(good))
    canary.fetch("oidc/azure", ok=True)


def flow_env(canary: Canary) -> None:
    canary.monkeypatch.setenv("CANARY_TOKEN", canary.token("env token"))
    canary.fetch("oidc/env/CANARY_TOKEN", ok=True)
    canary.monkeypatch.setenv("CANARY_TEXT", CANARY_TEXT)
    canary.fetch("oidc/env/CANARY_TEXT", ok=False)
    canary.fetch("oidc/env/CANARY_UNSET", ok=False)


def flow_circleci(canary: Canary) -> None:
    canary.monkeypatch.setenv("CIRCLE_OIDC_TOKEN", canary.token("circleci token"))
    canary.fetch("oidc/circleci", ok=True)
    canary.monkeypatch.setenv("CIRCLE_OIDC_TOKEN_V2", canary.token("circleci v2 token"))
    canary.fetch("oidc/circleci_v2", ok=True)
    expired = canary.token("expired token", iat=int(time.time()) - 7200, lifetime=3600)
    canary.monkeypatch.setenv("CIRCLE_OIDC_TOKEN", expired)
    canary.fetch("oidc/circleci", ok=False)
    canary.fetch(f"oidc/env/{expired}", ok=False)  # a token pasted where a variable name goes


def flow_hostile_values(canary: Canary) -> None:
    """Tokens where paths belong, servers that echo what they were sent, a FILE_DIRS refusal."""
    pasted = canary.token("token pasted where a path belongs", {"pad": "p" * 200})
    for variable in ("GITLAB_OIDC_TOKEN", "CANARY_PATH_VAR"):
        canary.monkeypatch.setenv(variable, pasted)
        canary.fetch(f"oidc/env_path/{variable}", ok=False)
    canary.monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", pasted)  # too long for a name: ENAMETOOLONG
    canary.fetch("oidc/azure", ok=False)
    canary.fetch(f"oidc/kubernetes/var/run/{pasted}", ok=False)
    canary.monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(canary.tmp_path / "allowed"))
    canary.fetch("oidc/env_path/CANARY_PATH_VAR", ok=False)
    canary.monkeypatch.delenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS")
    gh = canary.github
    spec = "oidc/github/sts.amazonaws.com"
    gh.faults.fail(401, body={"message": f"Bad credentials: Bearer {CANARY_REQUEST_TOKEN}"})
    canary.fetch(spec, ok=False)
    gh.faults.fail(400, body=f"echo: subject_token={pasted}&client_assertion={pasted}")
    canary.fetch(spec, ok=False)
    gh.faults.add(status=200, body=b'{"value": ' + b"[" * 20_000 + b"]" * 20_000 + b"}")
    canary.fetch(spec, ok=False)
    canary.texts.append(repr(FetchContext()))


FLOWS: list[Callable[[Canary], None]] = [
    flow_github,
    flow_google,
    flow_files,
    flow_env,
    flow_circleci,
    flow_hostile_values,
]


@pytest.fixture
def canary(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    gcp_metadata: GCPMetadataServer,
    google_issuer: OIDCIssuer,
    local_issuer: OIDCIssuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Canary:
    github_actions.request_token = CANARY_REQUEST_TOKEN
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", CANARY_REQUEST_TOKEN)
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "3")
    result = Canary(
        github_actions, github_issuer, gcp_metadata, google_issuer, local_issuer, tmp_path, monkeypatch
    )
    result.secret("GitHub request token", CANARY_REQUEST_TOKEN)
    result.secret("file content", CANARY_TEXT)
    _record_minted(github_issuer, result, "GitHub token")
    _record_minted(google_issuer, result, "Google token")
    return result


def test_no_secret_in_logs_reprs_or_errors(canary: Canary) -> None:
    with capture_package_logs() as logs:
        for flow in FLOWS:
            flow(canary)

    # The flows really ran, at DEBUG, through successes and failures.
    assert sum(outcome.endswith(": ok") for outcome in canary.outcomes) >= 10, canary.outcomes
    assert sum(not outcome.endswith(": ok") for outcome in canary.outcomes) >= 14, canary.outcomes
    messages = [record.getMessage() for record in logs.records]
    assert any(m.startswith("fetched an ID token for oidc/github/sts.amazonaws.com") for m in messages)
    assert any(m.startswith("GET http://127.0.0.1:") for m in messages)
    assert len(canary.secrets) >= 12
    for label, secret in canary.secrets.items():
        assert_no_secret(logs.records, canary.texts, secret, label=label)


def test_no_secret_in_command_line_output(canary: Canary) -> None:
    file_token = canary.token("file token")
    good = canary.file("good", file_token)
    text = canary.file("text", CANARY_TEXT)
    runs = {
        "claims file": run_cli("--debug", "claims", f"oidc/file{good}"),
        "claims github": run_cli("--debug", "claims", "oidc/github/sts.amazonaws.com"),
        "token github": run_cli("--debug", "token", "oidc/github/sts.amazonaws.com"),
        "token not-a-jwt": run_cli("--debug", "token", f"oidc/file{text}"),
        "claims not-a-jwt": run_cli("claims", f"oidc/file{text}"),
    }
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", CANARY_REQUEST_TOKEN + "-wrong")
    runs["token refused"] = run_cli("--debug", "token", "oidc/github/sts.amazonaws.com")
    canary.monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", CANARY_REQUEST_TOKEN)
    # A token where a path belongs, through the command line, credential-process and doctor.
    canary.monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", file_token)
    canary.monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    canary.monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
    runs["token path holds a token"] = run_cli("--debug", "token", "oidc/azure")
    runs["credential-process"] = run_cli(
        "--debug",
        "aws",
        "credential-process",
        "--role-arn",
        "arn:aws:iam::123456789012:role/canary",
        "--token",
        "oidc/azure",
    )
    runs["doctor"] = run_cli("--debug", "doctor", "oidc/azure")
    runs["doctor json"] = run_cli("doctor", "--json", "oidc/azure")

    assert [r.code for r in runs.values()] == [0, 0, 0, 2, 2, 1, 2, 2, 2, 2]
    printed_token = runs.pop("token github").stdout
    assert printed_token in canary.secrets.values()  # `token` prints the token, and only `token` does
    texts = [f"{name}: {r.stdout}\n{r.stderr}" for name, r in runs.items()]
    assert "DEBUG oidc_credential_chain" in texts[0]
    for label, secret in canary.secrets.items():
        assert_no_secret([], texts, secret, label=label)
