from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, TokenFetchError, get_id_token, lifecycle
from oidc_credential_chain.testing import OIDCIssuer


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}:/usr/bin:/bin")
    return directory


def _agent(bin_dir: Path, script: str) -> Path:
    agent = bin_dir / "buildkite-agent"
    agent.write_text("#!/bin/sh\n" + script)
    agent.chmod(agent.stat().st_mode | stat.S_IXUSR)
    return agent


def test_request_token(
    bin_dir: Path, tmp_path: Path, oidc_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = oidc_issuer.mint(
        {"sub": "organization:acme:pipeline:deploy:ref:refs/heads/main", "aud": "sts.amazonaws.com"}
    )
    (tmp_path / "token").write_text(token + "\n")
    monkeypatch.setenv("FAKE_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("FAKE_ARGS_FILE", str(tmp_path / "args"))
    _agent(bin_dir, 'echo "$@" > "$FAKE_ARGS_FILE"\ncat "$FAKE_TOKEN_FILE"\n')

    assert get_id_token("oidc/buildkite/sts.amazonaws.com") == token
    assert (tmp_path / "args").read_text() == "oidc request-token --audience sts.amazonaws.com\n"
    get_id_token("oidc/buildkite")
    assert (tmp_path / "args").read_text() == "oidc request-token\n"


def test_agent_missing(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ConfigurationError) as caught:
        get_id_token("oidc/buildkite/sts.amazonaws.com")
    assert str(caught.value) == (
        "oidc/buildkite/sts.amazonaws.com: the buildkite-agent command is not on PATH; oidc/buildkite works "
        "only inside a Buildkite job, where the agent provides it"
    )


def test_agent_fails(bin_dir: Path) -> None:
    _agent(bin_dir, 'echo "fatal: failed to get OIDC token: 403 Forbidden" >&2\nexit 1\n')
    with pytest.raises(TokenFetchError) as caught:
        get_id_token("oidc/buildkite/sts.amazonaws.com")
    assert str(caught.value) == (
        "oidc/buildkite/sts.amazonaws.com: 'buildkite-agent oidc request-token' exited with status 1: "
        "fatal: failed to get OIDC token: 403 Forbidden; it needs BUILDKITE_AGENT_ACCESS_TOKEN and "
        "BUILDKITE_JOB_ID, which the agent sets in every job"
    )


def test_agent_prints_something_else(bin_dir: Path) -> None:
    _agent(bin_dir, "echo 'bkua_secret_value'\n")
    with pytest.raises(TokenFetchError) as caught:
        get_id_token("oidc/buildkite/x")
    assert "the output of 'buildkite-agent oidc request-token' is not a JWT" in str(caught.value)
    assert "bkua_secret_value" not in str(caught.value)


def test_agent_hangs(bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "1")
    lifecycle.install(lifecycle.Lifecycle())  # a process started with this budget
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "pid"))
    _agent(bin_dir, 'echo $$ > "$FAKE_PID_FILE"\nexec sleep 60\n')
    started = time.monotonic()
    with pytest.raises(TokenFetchError) as caught:
        get_id_token("oidc/buildkite/sts.amazonaws.com")
    assert time.monotonic() - started < 20
    assert str(caught.value) == (
        "oidc/buildkite/sts.amazonaws.com: 'buildkite-agent oidc request-token' did not finish within 1 s "
        "(OIDC_CREDENTIAL_CHAIN_TIMEOUT); the agent could not reach the Buildkite API"
    )
    assert caught.value.retryable
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "pid").read_text()), 0)  # the hung agent was killed and reaped
