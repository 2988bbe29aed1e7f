"""The Google path under the transport rules: no redirects, no clear text, no raw parse errors."""

from __future__ import annotations

import json

import pytest
from google.auth import exceptions
from google.auth.transport.requests import Request

from oidc_credential_chain import ConfigurationError, ExchangeError, gcp
from tests.security.hostile import Answer, HostileServer
from tests.security.test_budgets import unsigned_jwt

AUDIENCE = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r"


@pytest.fixture(autouse=True)
def _subject_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ID_TOKEN", unsigned_jwt(aud="https:" + AUDIENCE))


def refresh_error(token_url: str) -> exceptions.RefreshError:
    creds = gcp.credentials(token="oidc/env/ID_TOKEN", audience=AUDIENCE, token_url=token_url)
    with pytest.raises(exceptions.RefreshError) as info:
        creds.refresh(Request())
    return info.value


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirect_from_google_sts_is_not_followed(status: int) -> None:
    with HostileServer(Answer(200, b'{"access_token": "stolen"}')) as elsewhere:
        location = {"Location": f"{elsewhere.url}/v1/token"}
        with HostileServer(Answer(status, b"", location)) as sts:
            err = refresh_error(f"{sts.url}/v1/token")

    assert isinstance(err, ExchangeError)
    assert f"answered HTTP {status} (a redirect); redirects are never followed" in str(err)
    assert elsewhere.requests == []  # the subject token went nowhere else


def test_a_plain_http_token_url_off_loopback_is_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        gcp.credentials(
            token="oidc/env/ID_TOKEN", audience=AUDIENCE, token_url="http://sts.example.invalid/v1/token"
        )

    assert str(info.value) == (
        "token_url: refusing http URL http://sts.example.invalid/v1/token: https is required except for "
        "loopback and the link-local metadata endpoints; the subject token would cross the network in "
        "clear text"
    )


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"[1, 2]", b'{"token_type": "Bearer"}'])
def test_a_malformed_200_is_a_refresh_error_of_ours(body: bytes) -> None:
    with HostileServer(Answer(200, body, {"Content-Type": "application/json"})) as sts:
        err = refresh_error(f"{sts.url}/v1/token")

    assert isinstance(err, ExchangeError)
    assert "the Google token exchange answered with something other than the documented JSON" in str(err)
    assert body.decode() not in str(err)


def test_the_subject_token_goes_only_to_the_token_url() -> None:
    answer = json.dumps({"access_token": "ya29.x", "token_type": "Bearer", "expires_in": 3600}).encode()
    with HostileServer(Answer(200, answer, {"Content-Type": "application/json"})) as sts:
        creds = gcp.credentials(token="oidc/env/ID_TOKEN", audience=AUDIENCE, token_url=f"{sts.url}/v1/token")
        creds.refresh(Request())

    assert creds.token == "ya29.x"
    assert [r.target for r in sts.requests] == ["/v1/token"]
    assert "authorization" not in sts.requests[0].headers
