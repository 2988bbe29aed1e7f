"""Item: deeply nested JSON from a server or in a token is our error, never ``RecursionError``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, TokenFetchError, fetch_id_token
from oidc_credential_chain.idtoken import MAX_TOKEN_BYTES
from oidc_credential_chain.testing import EntraEmulator, Fault, GitHubActionsTokenEndpoint, Response
from tests.security.conftest import REQUEST_TOKEN, HostileServer

DEEP = b"[" * 50_000 + b"]" * 50_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_github_200_with_deeply_nested_json(
    hostile: Callable[[Response], HostileServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = hostile(Response(200, b'{"value": ' + DEEP + b"}", {"Content-Type": "application/json"}))
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{server.url}/idtoken?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
    with pytest.raises(TokenFetchError, match="answered HTTP 200 without a JSON 'value' field"):
        fetch_id_token("oidc/github/sts.amazonaws.com")


def test_nested_jwt_payload_under_the_size_cap(tmp_path: Path) -> None:
    payload = b'{"sub": ' + b"[" * 19_500 + b"]" * 19_500 + b"}"
    token = f"{_b64(json.dumps({'alg': 'RS256'}).encode())}.{_b64(payload)}.c2ln"
    assert 50_000 < len(token) < MAX_TOKEN_BYTES
    path = tmp_path / "token"
    path.write_text(token)
    with pytest.raises(ConfigurationError) as info:
        fetch_id_token(f"oidc/file{path}")
    assert "nested deeper than 64 levels" in str(info.value)
    assert "its content is not shown" in str(info.value)


def test_entra_200_with_deeply_nested_json(
    entra: EntraEmulator,
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure import EntraExchangeError, OIDCCredential

    entra.add_federated_credential(
        github_issuer,  # type: ignore[arg-type]
        "repo:octo-org/octo-repo:ref:refs/heads/main",
        name="github-main",
    )
    entra.faults.add(Fault(status=200, body=DEEP, headers={"Content-Type": "application/json"}, path="token"))
    credential = OIDCCredential("oidc/github/api://AzureADTokenExchange")
    with pytest.raises(EntraExchangeError) as info:
        credential.get_token("https://cognitiveservices.azure.com/.default")
    assert isinstance(info.value, ClientAuthenticationError)
    # Reported as an Entra failure (not JSON / invalid JSON), never as a RecursionError.
    assert str(info.value).startswith("Entra ID ") and "JSON" in str(info.value)
    assert not isinstance(info.value.__context__, RecursionError)


@pytest.mark.parametrize("data", [DEEP, b'{"a":' * 10_000, b"\xff\xfe", b"[1,", b""])
def test_parse_json_has_one_error_type(data: bytes) -> None:
    from oidc_credential_chain._internal.untrusted_json import JSONParseError, parse_json

    with pytest.raises(JSONParseError):
        parse_json(data)


def test_nesting_depth_ignores_brackets_in_strings() -> None:
    from oidc_credential_chain._internal.untrusted_json import nesting_depth, parse_json

    assert nesting_depth(b'{"a": [1, "]][[{{"]}') == 2
    assert parse_json('{"a": "' + "[" * 500 + '"}') == {"a": "[" * 500}


def test_doctor_with_a_deeply_nested_trust_policy_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from oidc_credential_chain.cli import main

    policy = tmp_path / "trust.json"
    policy.write_bytes(b'{"Statement": ' + DEEP + b"}")
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiaXNzIjoiaHR0cHM6Ly9pIiwiYXVkIjoiYSJ9.c2ln")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
    code = main(["doctor", f"oidc/file{token}", "--aws-trust-policy", str(policy)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "nests JSON deeper than 64 levels" in out + err


@pytest.mark.parametrize("claims", ["[" * 5_000 + "]" * 5_000, '{"access_token": ["x"]}', "not json"])
def test_a_hostile_cae_claims_challenge(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, claims: str
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from oidc_credential_chain.azure import AzureConfigurationError, OIDCCredential

    credential = OIDCCredential("oidc/github/api://AzureADTokenExchange")
    with pytest.raises(AzureConfigurationError) as info:
        credential.get_token("https://cognitiveservices.azure.com/.default", claims=claims, enable_cae=True)
    assert isinstance(info.value, ClientAuthenticationError)
    assert "the claims challenge passed to get_token is not a JSON object of the CAE form" in str(info.value)
    assert entra.token_requests == 0


def test_a_deeply_nested_trust_policy_string_is_a_configuration_error() -> None:
    from oidc_credential_chain.trust.aws_policy import evaluate_trust_policy

    policy = '{"Statement": ' + "[" * 5_000 + "]" * 5_000 + "}"
    with pytest.raises(ConfigurationError, match="the trust policy nests JSON deeper than 64 levels"):
        evaluate_trust_policy(policy, {"iss": "https://i", "sub": "s", "aud": "a"})
