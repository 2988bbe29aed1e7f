"""oidc/github against the GitHub Actions token endpoint emulator over loopback HTTP(S)."""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain import ConfigurationError, TokenFetchError, fetch_id_token, get_id_token, lifecycle
from oidc_credential_chain.testing import Fault, GitHubActionsTokenEndpoint, OIDCIssuer


def test_token_for_an_audience(github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer) -> None:
    token = get_id_token("oidc/github/sts.amazonaws.com")

    claims = github_issuer.verify(token, audience="sts.amazonaws.com")
    assert claims["iss"] == "https://token.actions.githubusercontent.com"
    assert claims["sub"] == "repo:octo-org/octo-repo:ref:refs/heads/main"
    assert github_actions.count() == 1
    request = github_actions.requests[0]
    assert request.header("authorization") == f"Bearer {github_actions.request_token}"
    assert request.header("accept") == "application/json; api-version=2.0"
    assert request.arg("api-version") == "2.0"
    assert request.arg("audience") == "sts.amazonaws.com"


def test_without_audience_github_picks_its_default(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    token = get_id_token("oidc/github/")

    assert github_issuer.verify(token)["aud"] == "https://github.com/octo-org"
    assert "audience" not in github_actions.requests[0].query


@pytest.mark.parametrize(
    "audience",
    [
        "api://AzureADTokenExchange",
        "https://example.com/",
        "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r",
        "a b+c&d=e?f#g%41/é",
    ],
)
def test_audience_is_sent_percent_encoded_and_arrives_exactly(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, audience: str
) -> None:
    token = get_id_token(f"oidc/github/{audience}")

    assert github_issuer.verify(token, audience=audience)["aud"] == audience
    raw_query = github_actions.requests[0].raw_path.partition("?")[2]
    encoded = raw_query.split("audience=", 1)[1]
    # Everything but unreserved characters is escaped, so nothing in the audience can end
    # the parameter early or be read as a space.
    assert all(ch.isalnum() or ch in "-._~%" for ch in encoded), encoded


def test_request_url_without_query_gets_one(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", github_actions.request_url.partition("?")[0])

    token = get_id_token("oidc/github/sts.amazonaws.com")

    assert github_issuer.verify(token, audience="sts.amazonaws.com")
    assert github_actions.requests[0].arg("audience") == "sts.amazonaws.com"


@pytest.mark.parametrize("missing", ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
def test_missing_variables_are_named_and_nothing_is_sent(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.delenv(missing)

    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    message = str(info.value)
    assert f"environment variable {missing}, which is not set" in message
    assert "permissions: id-token: write" in message
    assert github_actions.count() == 0


def test_empty_variable_is_called_empty(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "  ")

    with pytest.raises(ConfigurationError, match="ACTIONS_ID_TOKEN_REQUEST_TOKEN, which is empty"):
        get_id_token("oidc/github")
    assert github_actions.count() == 0


def test_redirect_to_another_host_is_refused(
    github_actions: GitHubActionsTokenEndpoint, start_recorder: Callable[..., Any]
) -> None:
    thief = start_recorder(host="127.0.0.2")
    github_actions.redirect_to = f"{thief.url}/collect"

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    message = str(info.value)
    assert "answered HTTP 302 redirecting to 127.0.0.2" in message
    assert "redirects are not followed" in message
    assert info.value.status == 302
    assert github_actions.request_token not in message
    assert thief.count() == 0
    assert github_actions.count() == 1


def test_plain_http_to_a_remote_host_is_refused_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ACTIONS_ID_TOKEN_REQUEST_URL", "http://pipelines.example.invalid/idtoken?api-version=2.0"
    )
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-value")

    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    message = str(info.value)
    assert "https is required" in message
    assert "http://pipelines.example.invalid/idtoken" in message
    assert "request-token-value" not in message


def test_bad_request_token_is_a_fetch_error_without_retry(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ghs_expired_request_token")

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    message = str(info.value)
    assert "refused the request token (HTTP 401: Bad credentials)" in message
    assert "ghs_expired_request_token" not in message
    assert info.value.status == 401
    assert github_actions.count() == 1


def test_403_is_not_retried(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.fail(403, body={"message": "Resource not accessible by integration"})

    with pytest.raises(TokenFetchError, match="HTTP 403: Resource not accessible by integration"):
        get_id_token("oidc/github/sts.amazonaws.com")
    assert github_actions.count() == 1


def test_two_503s_then_success(github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer) -> None:
    github_actions.faults.fail(503, times=2)

    token = get_id_token("oidc/github/sts.amazonaws.com")

    assert github_issuer.verify(token, audience="sts.amazonaws.com")
    assert github_actions.count() == 3


def test_503_on_every_attempt_gives_up_after_the_attempt_budget(
    github_actions: GitHubActionsTokenEndpoint,
) -> None:
    github_actions.faults.fail(503, times=10, body={"message": "unavailable"})

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    assert "HTTP 503: unavailable" in str(info.value)
    assert info.value.retryable
    assert github_actions.count() == 3


def test_attempts_are_configurable(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "4")
    github_actions.faults.fail(503, times=3)

    get_id_token("oidc/github/sts.amazonaws.com")

    assert github_actions.count() == 4


def test_retry_after_is_honoured(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.throttle(1)

    started = time.monotonic()
    get_id_token("oidc/github/sts.amazonaws.com")
    elapsed = time.monotonic() - started

    assert github_actions.count() == 2
    assert 0.9 <= elapsed < 8


def test_retry_after_beyond_the_deadline_ends_the_call(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "2")
    github_actions.faults.throttle(60)

    started = time.monotonic()
    with pytest.raises(TokenFetchError, match="HTTP 429") as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    assert time.monotonic() - started < 10
    assert info.value.retryable
    assert github_actions.count() == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=200, body={"count": 0}),
        Fault(malformed=True),
        Fault(status=200, body={"value": ""}),
    ],
    ids=["no-value", "malformed", "empty-value"],
)
def test_answer_without_a_value_is_a_fetch_error(
    github_actions: GitHubActionsTokenEndpoint, fault: Fault
) -> None:
    github_actions.faults.add(fault)

    with pytest.raises(TokenFetchError, match="answered HTTP 200 without a JSON 'value' field"):
        get_id_token("oidc/github/sts.amazonaws.com")


def test_a_value_that_is_not_a_jwt_is_refused_unechoed(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.add(status=200, body={"value": "SECRET-NOT-A-JWT-1234"})

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    message = str(info.value)
    assert "is not a JWT" in message
    assert "its content is not shown" in message
    assert "SECRET-NOT-A-JWT" not in message


def test_token_over_64_kib_is_refused(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    github_actions.faults.add(status=200, body={"value": github_issuer.mint({"pad": "x" * 70_000})})

    with pytest.raises(TokenFetchError, match="holds more than 65536 bytes; not a token"):
        get_id_token("oidc/github/sts.amazonaws.com")


def test_response_body_over_the_limit_is_not_read(github_actions: GitHubActionsTokenEndpoint) -> None:
    github_actions.faults.add(status=200, body=b"x" * (1024 * 1024 + 1))

    with pytest.raises(TokenFetchError, match="larger than 1048576 bytes; refused"):
        get_id_token("oidc/github/sts.amazonaws.com")
    assert github_actions.count() == 1


def test_connection_reset_mid_body_is_retried(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    github_actions.faults.add(reset=True)

    token = get_id_token("oidc/github/sts.amazonaws.com")

    assert github_issuer.verify(token, audience="sts.amazonaws.com")
    assert github_actions.count() == 2


def test_netrc_does_not_replace_the_request_token(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    # HOME is a fresh temporary directory for every test (tests/conftest.py).
    netrc = Path.home() / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)

    token = get_id_token("oidc/github/sts.amazonaws.com")

    assert github_issuer.verify(token, audience="sts.amazonaws.com")
    assert github_actions.requests[0].header("authorization") == f"Bearer {github_actions.request_token}"


def test_https_endpoint_is_verified_against_the_configured_ca(
    github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import trustme

    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    with GitHubActionsTokenEndpoint(github_issuer, ssl_context=server_context) as endpoint:
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        assert endpoint.request_url.startswith("https://127.0.0.1:")

        with pytest.raises(TokenFetchError, match="TLS verification failed"):
            get_id_token("oidc/github/sts.amazonaws.com")

        bundle = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CA_BUNDLE", str(bundle))
        lifecycle.install(lifecycle.Lifecycle())  # a process started with this variable
        token = fetch_id_token("oidc/github/sts.amazonaws.com")

    assert token.audience == "sts.amazonaws.com"


def test_missing_ca_bundle_is_a_configuration_error(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CA_BUNDLE", str(tmp_path / "nope.pem"))

    with pytest.raises(
        ConfigurationError, match=re.escape("nope.pem' does not exist; fix OIDC_CREDENTIAL_CHAIN_CA_BUNDLE")
    ):
        get_id_token("oidc/github/sts.amazonaws.com")
