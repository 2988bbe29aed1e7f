"""Fault injection against the emulators: what the caller sees, and what it cost.

Each test drives stock boto3 (Bedrock) or stock openai (Azure OpenAI) through the whole
chain while one part misbehaves.  It asserts the outcome (success after retries, or a
clear error of the library's types within a generous bound derived from the configured
timeouts), the calls each emulator received, and that no request reached Bedrock or
Azure OpenAI with expired credentials.  ``--fault-table=FILE`` writes the README's table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain import ExchangeError, TokenFetchError, lifecycle
from oidc_credential_chain._internal.http import HttpConfig

fault = pytest.mark.fault


def _bound() -> float:
    # A generous ceiling: three full budgets (token fetch, exchange, one fresh-token retry) + slack.
    return 3 * HttpConfig.from_env().total_timeout + 10.0


# --- the identity provider (GitHub Actions' token endpoint) ----------------------------------------


@fault(
    fault="IdP down (connection refused)",
    path="GitHub → STS → Bedrock",
    sees="`TokenFetchError` naming the endpoint and 'connection refused', after 3 attempts within the "
    "timeout; nothing sent to STS or Bedrock",
)
def test_idp_down(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.github.down()
    result, seconds = timed(aws_world.call)
    assert isinstance(result, TokenFetchError)
    assert "GitHub Actions' ID token endpoint" in str(result)
    assert "connection refused" in str(result)
    assert "after up to 3 attempts" in str(result)
    assert seconds < _bound()
    assert aws_world.sts_calls == 0 and aws_world.bedrock.count() == 0


@fault(
    fault="IdP slower than the timeout",
    path="GitHub → STS → Bedrock",
    sees="`TokenFetchError` 'timed out' once `OIDC_CREDENTIAL_CHAIN_TIMEOUT` is spent; nothing sent on",
)
def test_idp_slow_past_the_timeout(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.github.faults.delay = HttpConfig.from_env().total_timeout + 1.5
    result, seconds = timed(aws_world.call)
    aws_world.github.faults.delay = 0
    assert isinstance(result, TokenFetchError)
    assert "timed out" in str(result)
    assert seconds < _bound()
    assert aws_world.sts_calls == 0 and aws_world.bedrock.count() == 0


@fault(fault="IdP 5xx (503 twice)", path="GitHub → STS → Bedrock", sees="success after 2 retries")
def test_idp_5xx(aws_world: Any) -> None:
    aws_world.github.faults.fail(503, times=2)
    assert "Hello" in aws_world.call()
    assert aws_world.idp_calls == 3
    assert aws_world.sts_calls == 1
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="IdP 429 with `Retry-After: 1`",
    path="GitHub → STS → Bedrock",
    sees="success; the retry waits the second the IdP asked for",
)
def test_idp_429_with_retry_after(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.github.faults.throttle(1, times=1)
    result, seconds = timed(aws_world.call)
    assert isinstance(result, str) and "Hello" in result
    assert aws_world.idp_calls == 2
    assert seconds >= 1.0  # Retry-After was honoured, not ignored
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="IdP answers 200 with a malformed body",
    path="GitHub → STS → Bedrock",
    sees="`TokenFetchError` 'without a JSON value field' (body not echoed); nothing sent on",
)
def test_idp_malformed_json(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.github.faults.add(malformed=True)
    result, seconds = timed(aws_world.call)
    assert isinstance(result, TokenFetchError)
    assert "without a JSON 'value' field; the body is not shown" in str(result)
    assert "truncated" not in str(result)
    assert seconds < _bound()
    assert aws_world.sts_calls == 0
    # The next call works: a bad answer is not cached.
    assert "Hello" in aws_world.call()


@fault(
    fault="IdP resets the connection mid-body", path="GitHub → STS → Bedrock", sees="success after 1 retry"
)
def test_idp_connection_reset_mid_body(aws_world: Any) -> None:
    aws_world.github.faults.add(reset=True)
    assert "Hello" in aws_world.call()
    assert aws_world.idp_calls == 2
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="IdP down",
    path="GitHub → Entra → Azure OpenAI",
    sees="azure-core `ClientAuthenticationError` carrying the `TokenFetchError` text; nothing sent to Entra "
    "or Azure OpenAI",
)
def test_idp_down_azure(azure_world: Any, timed: Callable[..., Any]) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    azure_world.github.down()
    result, seconds = timed(azure_world.call)
    assert isinstance(result, ClientAuthenticationError), repr(result)
    assert "connection refused" in str(result)
    assert seconds < _bound()
    assert azure_world.entra_calls == 0
    assert len(azure_world.aoai.completions) == 0


# --- AWS STS -------------------------------------------------------------------------------------


@fault(fault="STS `Throttling` (twice)", path="STS", sees="success after 2 retries with backoff")
def test_sts_throttling(aws_world: Any) -> None:
    aws_world.sts.fail_with("Throttling", times=2)
    assert "Hello" in aws_world.call()
    assert aws_world.sts_calls == 3
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="STS `Throttling` beyond the retry budget",
    path="STS",
    sees="`ExchangeError` code `Throttling`, 'after 3 attempts', with the token's iss/sub/aud/exp",
)
def test_sts_throttling_persistent(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.sts.fail_with("Throttling", times=50)
    result, seconds = timed(aws_world.call)
    assert isinstance(result, ExchangeError)
    assert result.code == "Throttling" and result.service
    assert "after 3 attempts" in str(result)
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in str(result)
    assert "aud='sts.amazonaws.com'" in str(result)
    assert seconds < _bound()
    assert aws_world.sts_calls == 3
    assert aws_world.bedrock.count() == 0


@fault(
    fault="STS `IDPCommunicationError` (once)",
    path="STS",
    sees="success: retried with a freshly fetched token",
)
def test_sts_idp_communication_error(aws_world: Any) -> None:
    aws_world.sts.fail_with("IDPCommunicationError", times=1)
    assert "Hello" in aws_world.call()
    assert aws_world.sts_calls == 2
    assert aws_world.idp_calls == 2  # the retry used a fresh token
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="STS cannot reach the IdP's JWKS (issuer down)",
    path="STS → issuer",
    sees="`ExchangeError` code `IDPCommunicationError` with a hint that the issuer's keys must be reachable",
)
def test_sts_idp_communication_error_persistent(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.github.issuer.down()
    result, seconds = timed(aws_world.call)
    assert isinstance(result, ExchangeError)
    assert result.code == "IDPCommunicationError"
    assert "signing keys" in str(result)
    assert seconds < _bound()
    assert aws_world.bedrock.count() == 0


@fault(fault="STS 503 `ServiceUnavailable`", path="STS", sees="success after 1 retry")
def test_sts_5xx(aws_world: Any) -> None:
    aws_world.sts.fail_with("ServiceUnavailable", times=1)
    assert "Hello" in aws_world.call()
    assert aws_world.sts_calls == 2
    aws_world.assert_no_request_with_expired_credentials()


@fault(fault="STS answers malformed XML", path="STS", sees="success after 1 retry")
def test_sts_malformed_xml(aws_world: Any) -> None:
    aws_world.sts.faults.add(malformed=True)
    assert "Hello" in aws_world.call()
    assert aws_world.sts_calls == 2
    aws_world.assert_no_request_with_expired_credentials()


@fault(fault="STS resets the connection mid-body", path="STS", sees="success after 1 retry")
def test_sts_connection_reset_mid_body(aws_world: Any) -> None:
    aws_world.sts.faults.add(reset=True)
    assert "Hello" in aws_world.call()
    assert aws_world.sts_calls == 2
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="STS down",
    path="STS",
    sees="`ExchangeError` 'could not reach AWS STS … Check the network path to STS' within the timeout",
)
def test_sts_down(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.sts.down()
    result, seconds = timed(aws_world.call)
    assert isinstance(result, ExchangeError)
    assert "could not reach" in str(result) and "Check the network path to STS" in str(result)
    assert seconds < _bound()
    assert aws_world.bedrock.count() == 0


@fault(
    fault="STS slower than the timeout",
    path="STS",
    sees="`ExchangeError` 'could not reach' within the timeout",
)
def test_sts_slow_past_the_timeout(aws_world: Any, timed: Callable[..., Any]) -> None:
    aws_world.sts.faults.delay = HttpConfig.from_env().total_timeout + 1.5
    result, seconds = timed(aws_world.call)
    aws_world.sts.faults.delay = 0
    assert isinstance(result, ExchangeError)
    assert "could not reach" in str(result)
    assert seconds < _bound()
    assert aws_world.bedrock.count() == 0


# --- Microsoft Entra ID --------------------------------------------------------------------------


@fault(
    fault="Entra `temporarily_unavailable` (503)",
    path="Entra",
    sees="success after 1 retry",
)
def test_entra_temporarily_unavailable(azure_world: Any) -> None:
    azure_world.entra.inject_error("temporarily_unavailable", times=1)
    assert azure_world.call()
    assert azure_world.entra_calls == 2
    azure_world.assert_no_request_with_expired_credentials()


@fault(
    fault="Entra 429 with `Retry-After: 1`",
    path="Entra",
    sees="success; the retry waits the second asked for",
)
def test_entra_429_with_retry_after(azure_world: Any, timed: Callable[..., Any]) -> None:
    azure_world.entra.faults.throttle(1, times=1)
    result, seconds = timed(azure_world.call)
    assert isinstance(result, str), repr(result)
    assert azure_world.entra_calls == 2
    assert seconds >= 1.0
    azure_world.assert_no_request_with_expired_credentials()


@fault(
    fault="Entra down",
    path="Entra",
    sees="azure-core `ClientAuthenticationError` naming the authority, within the timeout",
)
def test_entra_down(azure_world: Any, timed: Callable[..., Any]) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    azure_world.entra.down()
    result, seconds = timed(azure_world.call)
    assert isinstance(result, ClientAuthenticationError), repr(result)
    assert "127.0.0.1" in str(result)
    assert seconds < _bound()
    assert len(azure_world.aoai.completions) == 0


@fault(
    fault="Entra answers malformed JSON",
    path="Entra",
    sees="azure-core `ClientAuthenticationError` (body not echoed); the next call succeeds",
)
def test_entra_malformed_json(azure_world: Any, timed: Callable[..., Any]) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    azure_world.entra.faults.add(malformed=True)
    result, seconds = timed(azure_world.call)
    assert isinstance(result, ClientAuthenticationError), repr(result)
    assert "truncated" not in str(result)
    assert seconds < _bound()
    assert azure_world.call()
    azure_world.assert_no_request_with_expired_credentials()


@fault(fault="Entra resets the connection mid-body", path="Entra", sees="success after 1 retry")
def test_entra_connection_reset_mid_body(azure_world: Any) -> None:
    azure_world.entra.faults.add(reset=True)
    assert azure_world.call()
    assert azure_world.entra_calls == 2
    azure_world.assert_no_request_with_expired_credentials()


# --- clocks ----------------------------------------------------------------------------------------

#: Just under the 5 minutes AWS (and the Bedrock emulator) tolerate in SigV4 signatures.
SKEW = 290.0


@fault(
    fault="local clock 5 min behind",
    path="GitHub → STS → Bedrock",
    sees="success; a warning about the clock; credentials never outlive what STS granted",
)
@pytest.mark.parametrize("skew", [SKEW, 300.0], ids=["end-to-end", "exchange"])
def test_clock_behind_aws(aws_world: Any, skew: float, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="oidc_credential_chain")
    # The services' clocks run ahead of this machine's.
    aws_world.github.issuer.clock_offset = skew
    aws_world.sts.clock_offset = skew
    session = aws_world.session()
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA")
    assert "in the future by this machine's clock: the local clock is probably behind" in caplog.text
    # botocore is told an expiry no later than the duration STS granted, on this machine's clock.
    import datetime

    left = (credentials._expiry_time - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert left <= 3600 + 1
    if skew < 300:
        assert "Hello" in aws_world.call()
        aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="local clock 5 min ahead",
    path="GitHub → STS → Bedrock",
    sees="success; tokens that look up to 5 min expired by the local clock are still used",
)
@pytest.mark.parametrize("skew", [SKEW, 300.0], ids=["end-to-end", "exchange"])
def test_clock_ahead_aws(aws_world: Any, skew: float) -> None:
    aws_world.github.issuer.clock_offset = -skew
    aws_world.sts.clock_offset = -skew
    frozen = aws_world.session().get_credentials().get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA")
    if skew < 300:
        assert "Hello" in aws_world.call()
        aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="local clock 5 min behind / ahead",
    path="GitHub → Entra → Azure OpenAI",
    sees="success both ways: token lifetimes are measured from when they were received",
)
@pytest.mark.parametrize("skew", [300.0, -300.0], ids=["behind", "ahead"])
def test_clock_skew_azure(azure_world: Any, skew: float) -> None:
    azure_world.github.issuer.clock_offset = skew
    azure_world.entra.clock = lambda: time.time() + skew
    assert azure_world.call()
    assert azure_world.call()
    assert azure_world.entra_calls == 1
    azure_world.assert_no_request_with_expired_credentials()


# --- token files -----------------------------------------------------------------------------------


@fault(
    fault="token file replaced mid-read (rewritten in place)",
    path="`oidc/azure` (`AZURE_FEDERATED_TOKEN_FILE`)",
    sees="every read returns a whole token (old or new); never a partial or empty one",
)
def test_token_file_replaced_mid_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: Any) -> None:
    from oidc_credential_chain._api import fetch_id_token
    from oidc_credential_chain.errors import OIDCError

    path = tmp_path / "azure-identity-token"
    issuer = github.issuer
    # Every token ever written: a read must return one of them exactly (a cut signature still decodes).
    written = {issuer.mint({"sub": "system:serviceaccount:ns:sa", "aud": "api://AzureADTokenExchange"})}
    path.write_text(next(iter(written)))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))
    stop = threading.Event()
    writes = 0

    def writer() -> None:
        nonlocal writes
        while not stop.is_set():
            token = issuer.mint({"sub": "system:serviceaccount:ns:sa", "aud": "api://AzureADTokenExchange"})
            written.add(token)
            # In place, as a careless rotation does: truncate, write half, pause, write the rest.
            with open(path, "w") as handle:
                handle.write(token[: len(token) // 2])
                handle.flush()
                time.sleep(0.003)
                handle.write(token[len(token) // 2 :])
            writes += 1
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    failures: list[str] = []
    tokens = 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                token = fetch_id_token("oidc/azure")
            except OIDCError as err:
                failures.append(str(err))
            else:
                assert token.claims["sub"] == "system:serviceaccount:ns:sa"
                if token.value not in written:
                    failures.append(f"a torn token of {len(token.value)} characters")
                tokens += 1
    finally:
        stop.set()
        thread.join()
    assert writes >= 10
    assert tokens > 0
    assert failures == []


# --- refresh windows with an identity provider that goes away ----------------------------------------


def _one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    # One attempt per refresh keeps a failing refresh short next to credentials that live seconds.
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "1")
    lifecycle.install(lifecycle.Lifecycle())


def _through_the_windows(
    call: Callable[[], Any], expires_at: float, caplog: pytest.LogCaptureFixture, error: type[Exception]
) -> tuple[int, int, float]:
    """Call until a call fails (or the credentials expired); returns what happened.

    ``(calls served after the first failed refresh, failed refreshes logged before the error,
    seconds the credentials still had when the error came)``.
    """

    def warnings() -> int:
        return sum(
            1
            for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("oidc_credential_chain")
        )

    served_after_warning = 0
    deadline = expires_at + 3
    while time.time() < deadline:
        try:
            call()
        except error:
            return served_after_warning, warnings(), expires_at - time.time()
        if warnings():
            served_after_warning += 1
        time.sleep(0.005)
    raise AssertionError("the credentials expired without the mandatory window raising")


@fault(
    fault="IdP down through the refresh windows",
    path="GitHub → STS → Bedrock (10-second credentials)",
    sees="advisory window: every request succeeds on the still-valid credentials, a warning per failed "
    "refresh, retries spaced by backoff; mandatory window: `TokenFetchError` before expiry; no request "
    "with expired credentials; success again once the IdP is back",
)
def test_idp_down_during_refresh_aws(
    aws_world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _one_attempt(monkeypatch)
    caplog.set_level(logging.WARNING)
    aws_world.sts.credential_lifetime = 10.0
    aws_world.github.lifetime = 2  # too short-lived to be reused by the refresh: it must ask the IdP
    assert "Hello" in aws_world.call()
    issued = aws_world.sts.issued[-1]
    aws_world.github.down()
    after_warning, warnings, left = _through_the_windows(
        aws_world.call, float(issued.expiration), caplog, TokenFetchError
    )
    assert warnings >= 1, "the advisory refresh was never tried"
    assert after_warning >= 3  # the still-valid credentials kept being served
    assert warnings < after_warning  # backoff: not every request repeated the failed refresh
    assert left > 0  # the mandatory window raised before the credentials expired
    assert "still using the current ones" in caplog.text
    aws_world.github.up()
    assert "Hello" in aws_world.call()
    assert aws_world.sts.issued[-1] is not issued
    aws_world.assert_no_request_with_expired_credentials()


@fault(
    fault="IdP down through the refresh windows",
    path="GitHub → Entra → Azure OpenAI (20-second tokens)",
    sees="advisory window: every request succeeds on the still-valid token, a warning per failed renewal, "
    "retries spaced by backoff; mandatory window: `ClientAuthenticationError` before expiry; no request "
    "with an expired token; success again once the IdP is back",
)
def test_idp_down_during_refresh_azure(
    azure_world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    _one_attempt(monkeypatch)
    caplog.set_level(logging.WARNING)
    azure_world.entra.expires_in = 20
    azure_world.github.lifetime = 2
    assert azure_world.call()
    issued = azure_world.entra.issued[-1]
    azure_world.github.down()
    after_warning, warnings, left = _through_the_windows(
        azure_world.call, float(issued.expires_on), caplog, ClientAuthenticationError
    )
    assert warnings >= 1, "the early renewal was never tried"
    assert after_warning >= 3
    assert warnings < after_warning
    assert left > 0
    azure_world.github.up()
    assert azure_world.call()
    assert azure_world.entra.issued[-1] is not issued
    azure_world.assert_no_request_with_expired_credentials()
