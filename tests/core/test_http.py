"""The HTTP transport's rules: deadlines, retries, URL security, configuration."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import pytest

from oidc_credential_chain import ConfigurationError
from oidc_credential_chain._internal.http import (
    HttpClient,
    HttpConfig,
    InsecureURLError,
    TransportError,
    _retry_after_seconds,
    check_url_security,
    describe_url,
    reset_pools,
)
from oidc_credential_chain.testing import Response


def test_a_nearly_spent_deadline_still_sends_one_request(start_recorder: Callable[..., Any]) -> None:
    server = start_recorder(Response(200, "ok"))
    client = HttpClient(HttpConfig(total_timeout=0.001))

    response = client.request("GET", f"{server.url}/x")

    assert (response.status, response.text) == (200, "ok")
    assert server.count() == 1


def test_a_retryable_answer_is_returned_when_no_time_is_left_to_retry(
    start_recorder: Callable[..., Any],
) -> None:
    server = start_recorder(Response(503, "busy", {"Retry-After": "30"}))
    client = HttpClient(HttpConfig(total_timeout=1))

    started = time.monotonic()
    response = client.request("GET", f"{server.url}/x")

    assert response.status == 503
    assert server.count() == 1
    assert time.monotonic() - started < 5


def test_retry_false_sends_once(start_recorder: Callable[..., Any]) -> None:
    server = start_recorder(Response(503, "busy"))

    response = HttpClient(HttpConfig()).request("GET", f"{server.url}/x", retry=False)

    assert response.status == 503
    assert server.count() == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_client_errors_are_not_retried(start_recorder: Callable[..., Any], status: int) -> None:
    server = start_recorder(Response(status, "no"))

    assert HttpClient(HttpConfig()).request("GET", f"{server.url}/x").status == status
    assert server.count() == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_server_errors_and_throttling_are_retried(start_recorder: Callable[..., Any], status: int) -> None:
    server = start_recorder(Response(status, "again"))

    assert (
        HttpClient(HttpConfig(attempts=2, backoff_base=0.01)).request("GET", f"{server.url}/x").status
        == status
    )
    assert server.count() == 2


def test_a_redirect_is_returned_not_followed(start_recorder: Callable[..., Any]) -> None:
    target = start_recorder(Response(200, "followed"))
    server = start_recorder(Response(307, b"", {"Location": f"{target.url}/there"}))

    response = HttpClient(HttpConfig()).request(
        "GET", f"{server.url}/x", headers={"Authorization": "Bearer t"}
    )

    assert response.status == 307
    assert target.count() == 0


def test_refused_connections_raise_after_every_attempt() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpClient(HttpConfig(attempts=3, backoff_base=0.01))

    with pytest.raises(TransportError) as info:
        client.request("GET", f"http://127.0.0.1:{port}/x")

    assert str(info.value) == f"could not reach http://127.0.0.1:{port}/x (connection refused)"
    assert info.value.retryable


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/x",
        "http://127.0.0.1:8080/x",
        "http://127.5.6.7/x",
        "http://localhost/x",
        "http://[::1]:80/x",
    ],
)
def test_allowed_urls(url: str) -> None:
    check_url_security(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/x",
        "ftp://example.com/x",
        "example.com/x",
    ],
)
def test_https_is_required_elsewhere(url: str) -> None:
    with pytest.raises(InsecureURLError, match="https is required except for loopback and the link-local"):
        check_url_security(url)


def test_metadata_endpoints_are_vouched_for_by_the_caller() -> None:
    check_url_security("http://169.254.169.254/metadata", allow_http=True)
    check_url_security("http://metadata.google.internal/computeMetadata/v1/", allow_http=True)
    with pytest.raises(InsecureURLError):
        check_url_security("ftp://169.254.169.254/", allow_http=True)


def test_describe_url_drops_query_and_userinfo() -> None:
    assert describe_url("https://user:pw@example.com:8443/a/b?sig=secret#f") == "https://example.com:8443/a/b"


def test_retry_after_forms() -> None:
    assert _retry_after_seconds("3") == 3
    assert _retry_after_seconds("-1") == 0
    assert _retry_after_seconds(None) is None
    assert _retry_after_seconds("soon") is None
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert _retry_after_seconds(when) == pytest.approx(20, abs=2)


def test_backoff_is_full_jitter_under_a_cap() -> None:
    config = HttpConfig(backoff_base=0.25, backoff_cap=4.0)
    samples = [config.backoff(attempt) for attempt in (1, 2, 3, 10) for _ in range(200)]

    assert all(0 <= s <= 4.0 for s in samples)
    assert max(config.backoff(1) for _ in range(200)) <= 0.25
    assert max(config.backoff(10) for _ in range(200)) > 1  # grows to the cap


def test_config_from_environment() -> None:
    config = HttpConfig.from_env(
        {
            "OIDC_CREDENTIAL_CHAIN_TIMEOUT": "12",
            "OIDC_CREDENTIAL_CHAIN_CONNECT_TIMEOUT": "2.5",
            "OIDC_CREDENTIAL_CHAIN_ATTEMPTS": "5",
        }
    )
    assert (config.total_timeout, config.connect_timeout, config.read_timeout, config.attempts) == (
        12,
        2.5,
        10,
        5,
    )

    defaults = HttpConfig.from_env({})
    assert (defaults.total_timeout, defaults.connect_timeout, defaults.attempts) == (30, 5, 3)
    # Nothing waits longer than the overall bound.
    short = HttpConfig.from_env({"OIDC_CREDENTIAL_CHAIN_TIMEOUT": "1"})
    assert (short.connect_timeout, short.read_timeout) == (1, 1)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "soon", "must be a number of seconds, got 'soon'"),
        ("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "0", "must be a positive number of seconds, got '0'"),
        ("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "nan", "must be a positive number of seconds, got 'nan'"),
        ("OIDC_CREDENTIAL_CHAIN_CONNECT_TIMEOUT", "inf", "must be a positive number of seconds, got 'inf'"),
        ("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "0", "must be a positive integer, got '0'"),
        ("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "three", "must be a positive integer, got 'three'"),
    ],
)
def test_bad_configuration_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        HttpConfig.from_env({name: value})

    assert str(info.value) == f"{name} {message}"


def test_bad_configuration_reaches_the_caller_as_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from oidc_credential_chain import get_id_token

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "-5")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://example.invalid/x?a=1")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t")

    with pytest.raises(ConfigurationError, match="OIDC_CREDENTIAL_CHAIN_TIMEOUT must be a positive number"):
        get_id_token("oidc/github/sts.amazonaws.com")


def test_reset_pools_forgets_pooled_connections(start_recorder: Callable[..., Any]) -> None:
    import oidc_credential_chain._internal.http as http

    server = start_recorder(Response(200, "ok"))
    client = HttpClient(HttpConfig())
    client.request("GET", f"{server.url}/x")
    pools_before = dict(http._managers)

    reset_pools()

    assert pools_before and http._managers == {}
    assert client.request("GET", f"{server.url}/x").status == 200  # new pools on the next request
    assert all(manager is not pools_before.get(key) for key, manager in http._managers.items())


def test_an_oversized_body_is_refused_and_not_retried(start_recorder: Callable[..., Any]) -> None:
    server = start_recorder(Response(200, b"x" * 2048))

    with pytest.raises(TransportError) as info:
        HttpClient(HttpConfig(max_body=1024)).request("GET", f"{server.url}/x")

    assert str(info.value) == f"the response from {server.url}/x is larger than 1024 bytes; refused"
    assert not info.value.retryable
    assert server.count() == 1


def test_requests_ca_bundle_is_trusted_as_requests_trusted_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import ssl

    import trustme

    from oidc_credential_chain.testing import EmulatorServer

    class Ok(EmulatorServer):
        def handle(self, request: Any) -> Response:
            return Response(200, "ok")

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with Ok(ssl_context=context) as server:
        url = f"https://127.0.0.1:{server.port}/x"
        with pytest.raises(TransportError, match="TLS verification failed"):
            HttpClient(HttpConfig(attempts=1)).request("GET", url)

        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        assert HttpClient(HttpConfig(attempts=1)).request("GET", url).text == "ok"
