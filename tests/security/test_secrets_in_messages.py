"""Item: a variable meant to hold a path (or a spec meant to name a file) holds the token itself.

Every message, the command line's stderr and ``doctor``'s text and JSON must describe the
value without showing it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, fetch_id_token
from oidc_credential_chain.cli import main
from tests.security.conftest import signature


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _payload(token: str) -> str:
    return token.split(".")[1]


def _assert_hidden(text: str, token: str) -> None:
    assert signature(token) not in text
    assert _payload(token) not in text
    assert token[:40] not in text


def test_env_path_holding_a_jwt_is_described_not_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], canary_jwt: str
) -> None:
    monkeypatch.setenv("GITLAB_OIDC_TOKEN", canary_jwt)
    code, out, err = _cli(capsys, "token", "oidc/env_path/GITLAB_OIDC_TOKEN")
    assert code == 2 and out == ""
    _assert_hidden(err, canary_jwt)
    assert "token file named by GITLAB_OIDC_TOKEN (a JWT, not a path; not shown)" in err


def test_azure_token_file_variable_holding_a_jwt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], canary_jwt: str
) -> None:
    # The JWT is longer than a file name may be: the open fails with ENAMETOOLONG.
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", canary_jwt)
    with pytest.raises(ConfigurationError) as info:
        fetch_id_token("oidc/azure")
    _assert_hidden(str(info.value), canary_jwt)
    assert "AZURE_FEDERATED_TOKEN_FILE (a JWT, not a path; not shown) cannot be opened" in str(info.value)
    code, _, err = _cli(capsys, "token", "oidc/azure")
    assert code == 2
    _assert_hidden(err, canary_jwt)


@pytest.mark.parametrize("prefix", ["", "var/run/secrets/tokens/"])
def test_kubernetes_spec_holding_a_jwt(
    capsys: pytest.CaptureFixture[str], canary_jwt: str, prefix: str
) -> None:
    code, _, err = _cli(capsys, "token", f"oidc/kubernetes/{prefix}{canary_jwt}")
    assert code == 2
    _assert_hidden(err, canary_jwt)
    assert "not shown" in err


def test_file_dirs_refusal_does_not_echo_a_jwt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], canary_jwt: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(tmp_path))
    monkeypatch.setenv("MY_TOKEN_PATH", canary_jwt)
    code, _, err = _cli(capsys, "token", "oidc/env_path/MY_TOKEN_PATH")
    assert code == 2
    _assert_hidden(err, canary_jwt)
    assert "is outside the directories allowed by OIDC_CREDENTIAL_CHAIN_FILE_DIRS" in err
    assert "(a JWT, not a path; not shown)" in err


def test_aws_credential_process_does_not_echo_a_jwt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], canary_jwt: str
) -> None:
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_PATH", canary_jwt)
    code, out, err = _cli(
        capsys,
        "aws",
        "credential-process",
        "--role-arn",
        "arn:aws:iam::123456789012:role/demo",
        "--token",
        "oidc/env_path/AWS_WEB_IDENTITY_TOKEN_PATH",
    )
    assert code == 2 and out == ""
    _assert_hidden(err, canary_jwt)
    assert "AWS_WEB_IDENTITY_TOKEN_PATH (a JWT, not a path; not shown)" in err


def test_doctor_text_and_json_do_not_echo_a_jwt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], canary_jwt: str
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", canary_jwt)
    # Metadata probes go to a closed loopback port: refused at once.
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
    _, text, err = _cli(capsys, "doctor")
    _assert_hidden(text + err, canary_jwt)
    assert "AZURE_FEDERATED_TOKEN_FILE names (a JWT, not a path; not shown)" in text
    _, raw, err = _cli(capsys, "doctor", "--json")
    _assert_hidden(raw + err, canary_jwt)
    detections = json.loads(raw)["environment"]["detections"]
    assert any("(a JWT, not a path; not shown)" in json.dumps(d) for d in detections)


def test_a_long_path_is_shown_shortened(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["level"] * 20), "token")
    with pytest.raises(ConfigurationError) as info:
        fetch_id_token(f"oidc/file{deep}")
    message = str(info.value)
    assert "/…/" in message and "level/token' does not exist" in message
