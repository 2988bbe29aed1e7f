"""Token lifetimes, clock skew and what an IdToken shows."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from oidc_credential_chain import ConfigurationError, IdToken, TokenFetchError, fetch_id_token, get_id_token
from oidc_credential_chain._internal import clock
from oidc_credential_chain.idtoken import make_id_token, refresh_margin
from oidc_credential_chain.testing import GCPMetadataServer, GitHubActionsTokenEndpoint, OIDCIssuer


def _skew_local_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setattr(clock, "wall", lambda: time.time() + seconds)


@pytest.mark.parametrize("skew", [-300, 300])
def test_local_clock_skewed_5_minutes_still_takes_fresh_github_tokens(
    github_actions: GitHubActionsTokenEndpoint,
    github_issuer: OIDCIssuer,
    monkeypatch: pytest.MonkeyPatch,
    package_warnings: Callable[[], list[str]],
    skew: int,
) -> None:
    _skew_local_clock(monkeypatch, skew)

    token = fetch_id_token("oidc/github/sts.amazonaws.com")

    assert github_issuer.verify(token.value, audience="sts.amazonaws.com")
    # The whole 5-minute life counts from the fetch, whichever way the clock is wrong.
    assert token.lifetime == 300
    assert token.seconds_left() == pytest.approx(300, abs=2)
    assert fetch_id_token("oidc/github/sts.amazonaws.com") is token
    direction = "behind" if skew < 0 else "ahead"
    assert [w for w in package_warnings() if f"the local clock is probably {direction}" in w]


@pytest.mark.parametrize("offset", [-300, 300])
def test_issuer_clock_skewed_5_minutes_still_works(
    gcp_metadata: GCPMetadataServer, google_issuer: OIDCIssuer, offset: int
) -> None:
    google_issuer.clock_offset = offset

    token = fetch_id_token("oidc/google/https://example.com")

    assert token.lifetime == 3600
    assert token.claims["iat"] == pytest.approx(time.time() + offset, abs=5)


@pytest.mark.parametrize("skew", [-300, 300])
def test_fresh_local_tokens_work_with_a_skewed_clock(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, skew: int
) -> None:
    token = local_issuer.mint({"aud": "a"}, lifetime=300)
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", token)
    _skew_local_clock(monkeypatch, skew)

    assert get_id_token("oidc/circleci") == token


def test_token_expired_beyond_the_allowance_is_refused(
    github_actions: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local clock 11 minutes ahead sees a fresh 5-minute token as 6 minutes past exp.
    _skew_local_clock(monkeypatch, 660)

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/github/sts.amazonaws.com")

    message = str(info.value)
    assert message.startswith("the token from oidc/github expired 36")
    assert "iss='https://token.actions.githubusercontent.com', aud='sts.amazonaws.com'" in message
    assert "fix the clock if it is wrong (spec oidc/github/sts.amazonaws.com)" in message


def test_token_just_inside_the_allowance_is_served_but_not_kept(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, package_warnings: Callable[[], list[str]]
) -> None:
    now = int(time.time())
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", local_issuer.mint(iat=now - 600, lifetime=360))

    token = fetch_id_token("oidc/circleci")

    assert token.lifetime == 0
    assert fetch_id_token("oidc/circleci") is not token  # re-read, not served from the cache
    assert any("is within the 300 s allowance" in w for w in package_warnings())


def test_an_old_local_token_is_kept_only_until_its_exp(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CircleCI's token is issued when the job starts; 55 minutes in, 5 are left, not 60.
    now = int(time.time())
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", local_issuer.mint(iat=now - 3300, lifetime=3600))

    token = fetch_id_token("oidc/circleci")

    assert token.seconds_left() == pytest.approx(300, abs=3)


def test_a_remote_token_older_than_any_skew_is_bounded_by_exp(
    github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> None:
    # An endpoint that serves a cached token: 20 minutes old, one hour of life.
    old = github_issuer.mint({"aud": "sts.amazonaws.com"}, iat=int(time.time()) - 1200, lifetime=3600)
    github_actions.faults.add(status=200, body={"value": old})

    token = fetch_id_token("oidc/github/sts.amazonaws.com")

    assert token.seconds_left() == pytest.approx(2400, abs=3)


def _unsigned(claims: dict[str, object]) -> str:
    import base64
    import json

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


def test_lifetime_rules() -> None:
    now = time.time()

    def life(claims: dict[str, object], remote: bool = True) -> float:
        return make_id_token(_unsigned(claims), spec="oidc/x", source="x", remote=remote).lifetime

    assert life({"iat": now, "exp": now + 600}) == pytest.approx(600)
    assert life({"exp": now + 100}) == pytest.approx(100, abs=1)  # no iat: exp by the local clock
    assert life({"exp": now - 100}) == 0  # expired, inside the allowance
    assert life({"iat": now}) == 60  # no exp: kept a minute
    assert life({"iat": now, "exp": now - 10}) == 0  # exp before iat
    assert life({"iat": now - 120, "exp": now + 480}, remote=False) == pytest.approx(480, abs=1)
    assert life({"iat": now - 120, "exp": now + 480}, remote=True) == pytest.approx(600)
    assert life({"iat": "yesterday", "exp": True}) == 60  # not numbers: treated as absent


def test_refresh_margin() -> None:
    assert refresh_margin(300) == 60
    assert refresh_margin(3600) == 300
    assert refresh_margin(10) == 5


def test_local_and_remote_errors_differ_in_type() -> None:
    with pytest.raises(ConfigurationError, match="the file /t is not a JWT"):
        make_id_token("nope", spec="oidc/file/t", source="the file /t", remote=False)
    with pytest.raises(TokenFetchError, match="the endpoint is not a JWT"):
        make_id_token("nope", spec="oidc/github", source="the endpoint", remote=True)
    with pytest.raises(TokenFetchError, match="header or payload is not base64url JSON"):
        make_id_token("e30.bm90IGpzb24.", spec="oidc/github", source="the endpoint", remote=True)
    with pytest.raises(ConfigurationError, match="header and payload must be JSON objects"):
        make_id_token("WzFd.WzFd.", spec="oidc/env/X", source="X", remote=False)


def test_repr_and_describe_show_claims_not_the_token(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = local_issuer.mint({"sub": "org/1", "aud": "aud-1"})
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", value)

    token = fetch_id_token("oidc/circleci")

    assert isinstance(token, IdToken)
    text = repr(token)
    assert text.startswith(
        "IdToken(spec='oidc/circleci', iss='https://oidc.example.com/org/demo', "
        "aud='aud-1', sub='org/1', exp="
    )
    assert value not in text and value not in str(token)
    assert (token.issuer, token.subject, token.audience) == (
        "https://oidc.example.com/org/demo",
        "org/1",
        "aud-1",
    )
    assert token.summary()["sub"] == "org/1"
