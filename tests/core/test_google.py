"""oidc/google against the GCP metadata server emulator over loopback HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from oidc_credential_chain import (
    ConfigurationError,
    TokenFetchError,
    fetch_id_token,
    get_id_token,
    parse_spec,
)
from oidc_credential_chain.testing import GCPMetadataServer, GitHubActionsTokenEndpoint, OIDCIssuer, Response


def test_identity_token_for_an_audience(gcp_metadata: GCPMetadataServer, google_issuer: OIDCIssuer) -> None:
    token = get_id_token("oidc/google/https://example.com")

    claims = google_issuer.verify(token, audience="https://example.com")
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["sub"] == claims["azp"] == gcp_metadata.service_account_id
    assert claims["email"] == gcp_metadata.email  # format=full
    request = gcp_metadata.requests[0]
    assert request.header("metadata-flavor") == "Google"
    assert request.arg("format") == "full"
    assert request.path == "/computeMetadata/v1/instance/service-accounts/default/identity"


def test_audience_is_used_exactly_as_written(
    gcp_metadata: GCPMetadataServer, google_issuer: OIDCIssuer
) -> None:
    audience = "https://example.com/a path/?x=1&y=2/"
    token = get_id_token(f"oidc/google/{audience}")

    assert google_issuer.verify(token, audience=audience)["aud"] == audience
    assert gcp_metadata.requests[0].arg("audience") == audience


@pytest.mark.parametrize("spec", ["oidc/google/", "oidc/google"])
def test_audience_is_required(gcp_metadata: GCPMetadataServer, spec: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        get_id_token(spec)

    assert str(info.value) == "'oidc/google' needs an audience: write 'oidc/google/<audience>'"
    assert gcp_metadata.count() == 0


def test_token_is_cached_until_shortly_before_expiry(gcp_metadata: GCPMetadataServer) -> None:
    first = fetch_id_token("oidc/google/https://example.com")
    second = fetch_id_token("oidc/google/https://example.com")

    assert first is second
    assert gcp_metadata.count() == 1
    assert 3590 < first.seconds_left() <= 3600
    # Another audience is another spec, so another token.
    fetch_id_token("oidc/google/https://example.org")
    assert gcp_metadata.count() == 2


def test_unreachable_metadata_server_fails_after_the_retries_in_bounded_time(
    gcp_metadata: GCPMetadataServer,
) -> None:
    gcp_metadata.down()

    started = time.monotonic()
    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/google/https://example.com")

    assert time.monotonic() - started < 8
    message = str(info.value)
    assert message.startswith("oidc/google/https://example.com: the GCP metadata server at http://127.0.0.1:")
    assert "did not answer (could not reach" in message
    assert "connection refused" in message
    assert "after up to 3 attempts within 8 s" in message
    assert info.value.retryable


def test_each_failed_connection_is_retried(gcp_metadata: GCPMetadataServer) -> None:
    gcp_metadata.faults.add(reset=True, times=3)

    with pytest.raises(TokenFetchError, match="did not answer"):
        get_id_token("oidc/google/https://example.com")

    assert gcp_metadata.count() == 3


def test_slow_metadata_server_is_cut_off_at_the_deadline(
    gcp_metadata: GCPMetadataServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "1")
    gcp_metadata.faults.delay = 3

    started = time.monotonic()
    with pytest.raises(TokenFetchError, match=re.escape("timed out waiting for http://127.0.0.1:")):
        get_id_token("oidc/google/https://example.com")

    assert time.monotonic() - started < 2.9  # well before the server would have answered
    gcp_metadata.faults.delay = 0


def test_no_service_account(gcp_metadata: GCPMetadataServer) -> None:
    gcp_metadata.faults.fail(404, body="Not Found")

    with pytest.raises(TokenFetchError, match="has no default service account identity \\(HTTP 404\\)"):
        get_id_token("oidc/google/https://example.com")
    assert gcp_metadata.count() == 1


def test_server_that_is_not_the_metadata_server(
    start_recorder: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, google_issuer: OIDCIssuer
) -> None:
    impostor = start_recorder(Response(200, google_issuer.mint({"aud": "x"})))
    monkeypatch.setenv("GCE_METADATA_HOST", impostor.netloc)

    with pytest.raises(TokenFetchError, match="answered without 'Metadata-Flavor: Google'"):
        get_id_token("oidc/google/https://example.com")


def test_a_body_that_is_not_a_jwt_is_refused_unechoed(gcp_metadata: GCPMetadataServer) -> None:
    gcp_metadata.faults.add(
        status=200, body="<html>captive portal PRIVATE-PAGE</html>", headers={"Metadata-Flavor": "Google"}
    )

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/google/https://example.com")

    assert "the GCP metadata server at 127.0.0.1" in str(info.value)
    assert "is not a JWT" in str(info.value)
    assert "PRIVATE-PAGE" not in str(info.value)


def test_rate_limit_with_retry_after_then_success(gcp_metadata: GCPMetadataServer) -> None:
    gcp_metadata.faults.throttle(0.5)

    started = time.monotonic()
    fetch_id_token("oidc/google/https://example.com")

    assert time.monotonic() - started >= 0.45
    assert gcp_metadata.count() == 2


def test_metadata_requests_bypass_the_proxy(
    gcp_metadata: GCPMetadataServer,
    github_actions: GitHubActionsTokenEndpoint,
    start_recorder: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = start_recorder(Response(502, "proxy says no"))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)

    token = fetch_id_token("oidc/google/https://example.com")

    assert token.audience == "https://example.com"
    assert gcp_metadata.count() == 1
    assert proxy.count() == 0
    # The same proxy does receive requests that may use it: the setting above is live.
    with pytest.raises(TokenFetchError, match="HTTP 502"):
        get_id_token("oidc/github/sts.amazonaws.com")
    assert proxy.count() >= 1
    assert github_actions.count() == 0


def test_metadata_host_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    from oidc_credential_chain.providers.google import metadata_host

    assert metadata_host({}) == "metadata.google.internal"
    assert metadata_host({"GCE_METADATA_HOST": "127.0.0.1:8080"}) == "127.0.0.1:8080"
    assert metadata_host({"GCE_METADATA_ROOT": "http://10.0.0.1/computeMetadata/v1/"}) == "10.0.0.1"
    assert parse_spec("oidc/google/x").argument == "x"
