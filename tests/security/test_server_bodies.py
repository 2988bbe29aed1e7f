"""Item: error bodies we quote.  A server that echoes what it was sent shows none of it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from google.auth import exceptions
from google.auth.transport.requests import Request as GoogleRequest

from oidc_credential_chain import ExchangeError, TokenFetchError, fetch_id_token, gcp
from oidc_credential_chain.jwt import redact
from oidc_credential_chain.testing import Fault, GoogleSTSEmulator, OIDCIssuer, Response
from tests.security.conftest import REQUEST_TOKEN, HostileServer, signature


def test_github_401_echoing_the_request_token(
    hostile: Callable[[Response], HostileServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = hostile(
        Response(401, {"message": f"Bad credentials: Authorization: Bearer {REQUEST_TOKEN} rejected"})
    )
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{server.url}/idtoken?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
    with pytest.raises(TokenFetchError) as info:
        fetch_id_token("oidc/github/sts.amazonaws.com")
    message = str(info.value)
    assert REQUEST_TOKEN not in message and REQUEST_TOKEN[4:20] not in message
    assert "refused the request token (HTTP 401: Bad credentials: Authorization: Bearer [REDACTED]" in message


def test_github_500_text_body_echoing_another_token(
    hostile: Callable[[Response], HostileServer], monkeypatch: pytest.MonkeyPatch, canary_jwt: str
) -> None:
    # Not our request token, but JWT-shaped and a GitHub token: both hidden all the same.
    server = hostile(
        Response(400, f"bad request; previous id_token {canary_jwt}; ghs_someOtherToken12345678")
    )
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{server.url}/idtoken?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
    with pytest.raises(TokenFetchError) as info:
        fetch_id_token("oidc/github/sts.amazonaws.com")
    message = str(info.value)
    assert signature(canary_jwt) not in message and "ghs_someOtherToken" not in message
    assert "answered HTTP 400: bad request; previous id_token [REDACTED]; [REDACTED]" in message


def test_gcp_metadata_error_body_is_redacted(
    hostile: Callable[[Response], HostileServer], monkeypatch: pytest.MonkeyPatch, canary_jwt: str
) -> None:
    server = hostile(Response(403, f"forbidden for token {canary_jwt}", {"Metadata-Flavor": "Google"}))
    monkeypatch.setenv("GCE_METADATA_HOST", server.netloc)
    with pytest.raises(TokenFetchError) as info:
        fetch_id_token("oidc/google/https://example.com")
    assert signature(canary_jwt) not in str(info.value)
    assert "forbidden for token [REDACTED]" in str(info.value)


def test_google_sts_error_description_echoing_the_subject_token(
    google_sts: GoogleSTSEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = OIDCIssuer("https://issuer.example.com/sts-echo")
    pool = google_sts.add_provider(issuer)
    subject = issuer.mint({"sub": "echo", "aud": f"https:{pool.audience}"})
    monkeypatch.setenv("ECHO_TOKEN", subject)
    google_sts.faults.add(
        Fault(
            status=400,
            body={
                "error": "invalid_grant",
                "error_description": f"rejected subject_token={subject} (expired)",
            },
        )
    )
    creds = gcp.credentials(
        token="oidc/env/ECHO_TOKEN", audience=pool.audience, token_url=google_sts.token_url
    )
    with pytest.raises(exceptions.RefreshError) as info:
        creds.refresh(GoogleRequest())
    err = info.value
    assert isinstance(err, ExchangeError) and err.code == "invalid_grant"
    assert signature(subject) not in str(err) and subject.split(".")[1] not in str(err)
    assert "rejected subject_token=[REDACTED] (expired)" in str(err)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer [REDACTED]"),
        ("client_assertion=eyJhbGciOi.eyJzdWIi.c2ln&scope=x", "client_assertion=[REDACTED]&scope=x"),
        ('{"subject_token": "opaque-secret-value"}', '{"subject_token": "[REDACTED]"}'),
        ("header only eyJhbGciOiJSUzI1NiJ9 cut", "header only [REDACTED] cut"),
        ("key AQoDYXdzEJr1K2lkLWFuZC1ibG9ja2VkLWJ5LXN0cw end", "key [REDACTED] end"),
        ("line one\r\nINFO forged line", "line one  INFO forged line"),
        ("AWS_SESSION_TOKEN=FwoGZXIvYXdz", "AWS_SESSION_TOKEN=[REDACTED]"),
        # A spec naming a variable, then the message: nothing secret here.
        ("oidc/env/ID_TOKEN: the Google token exchange answered", None),
        ("oidc/gitlab/ACCESS_TOKEN: client assertion: refused", None),
        ("AWS_WEB_IDENTITY_TOKEN=oidc/aws/sts.amazonaws.com, so fetching", None),
        ("role arn:aws:iam::123456789012:role/deploy-prod, sub repo:o/r:ref:refs/heads/main", None),
    ],
)
def test_one_redaction_for_every_quoted_body(text: str, shown: str | None) -> None:
    from oidc_credential_chain._internal.redact import redact_text

    assert redact_text(text) == (text if shown is None else shown)
    # The AWS and Entra paths call jwt.redact: the same redaction.
    assert redact(text) == redact_text(text)


def test_quote_body_prefers_the_json_message_and_redacts_before_cutting() -> None:
    from oidc_credential_chain._internal.redact import quote_body

    token = "eyJ" + "A" * 400 + ".eyJ" + "B" * 400 + ".sig"
    excerpt = quote_body(f'{{"error_description": "bad {token}"}}'.encode(), limit=20)
    assert excerpt == "bad [REDACTED]"
    assert quote_body(b"") == "(empty body)"
