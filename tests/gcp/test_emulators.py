"""The Google emulators check what real services check."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from oidc_credential_chain.testing import (
    GoogleSTSEmulator,
    IAMCredentialsEmulator,
    OIDCIssuer,
    VertexAIEmulator,
)
from oidc_credential_chain.testing._cel import CelError, condition_holds, evaluate

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def _form(audience: str, token: str, **overrides: str) -> dict[str, str]:
    form = {
        "grant_type": GRANT,
        "audience": audience,
        "scope": SCOPE,
        "requested_token_type": ACCESS,
        "subject_token": token,
        "subject_token_type": JWT_TYPE,
    }
    form.update(overrides)
    return form


@pytest.fixture
def pool(google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer) -> Any:
    return google_sts.add_provider(oidc_issuer, attribute_condition="assertion.team in ['ml', 'ops']")


def _exchange(sts: GoogleSTSEmulator, form: dict[str, str], **kwargs: Any) -> requests.Response:
    return requests.post(sts.token_url, data=form, timeout=5, **kwargs)


def test_exchange_and_federated_token(
    google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer, pool: Any
) -> None:
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"})
    answer = _exchange(google_sts, _form(pool.audience, token))
    assert answer.status_code == 200
    body = answer.json()
    assert (
        body["issued_token_type"] == ACCESS and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    )
    record = google_sts.lookup_token(body["access_token"])
    assert record is not None and record.principal == pool.principal("svc-1")
    assert oidc_issuer.count("/.well-known/jwks.json") == 1


@pytest.mark.parametrize(
    ("overrides", "code", "fragment"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", "grant_type"),
        ({"requested_token_type": JWT_TYPE}, "invalid_request", "requested_token_type"),
        (
            {"subject_token_type": "urn:ietf:params:oauth:token-type:saml2"},
            "invalid_request",
            "subject_token_type",
        ),
        ({"scope": ""}, "invalid_scope", "Scope(s) must be provided."),
        ({"subject_token": "not-a-jwt"}, "invalid_grant", "Unable to parse the ID Token."),
        ({"options": "{not json"}, "invalid_request", '"options"'),
    ],
)
def test_request_validation(
    google_sts: GoogleSTSEmulator,
    oidc_issuer: OIDCIssuer,
    pool: Any,
    overrides: dict[str, str],
    code: str,
    fragment: str,
) -> None:
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"})
    answer = _exchange(google_sts, _form(pool.audience, token, **overrides))
    assert answer.status_code == 400
    assert answer.json()["error"] == code
    assert fragment in answer.json()["error_description"]


def test_authorization_header_is_refused(
    google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer, pool: Any
) -> None:
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"})
    answer = _exchange(google_sts, _form(pool.audience, token), headers={"Authorization": "Basic eDp5"})
    assert answer.status_code == 400
    assert "must not carry an Authorization header" in answer.json()["error_description"]


@pytest.mark.parametrize(
    ("claims", "fragment"),
    [
        ({"team": "sales"}, "rejected by the attribute condition"),
        ({}, "rejected by the attribute condition"),  # a claim the condition reads is missing
        ({"team": "ml", "exp": 1000, "iat": 900}, "ID Token has expired."),
        ({"team": "ml", "iat": 2_000_000_000, "exp": 2_000_000_300}, "issued in the future"),
        ({"team": "ml", "aud": "someone-else"}, "does not match the expected audience"),
    ],
)
def test_subject_token_checks(
    google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer, pool: Any, claims: dict[str, Any], fragment: str
) -> None:
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, **claims})
    answer = _exchange(google_sts, _form(pool.audience, token))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert fragment in answer.json()["error_description"]


def test_lifetime_over_48_hours_is_refused(
    google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer, pool: Any
) -> None:
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"}, lifetime=49 * 3600)
    answer = _exchange(google_sts, _form(pool.audience, token))
    assert "exceeds 48 hours" in answer.json()["error_description"]


def test_rotated_key_is_found_and_unknown_kid_refused(
    google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer, pool: Any
) -> None:
    oidc_issuer.rotate_key()
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"})
    assert _exchange(google_sts, _form(pool.audience, token)).status_code == 200
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"}, headers={"kid": "nope"})
    answer = _exchange(google_sts, _form(pool.audience, token))
    assert answer.json()["error_description"] == "The kid 'nope' is not in the issuer's JWKS."


def test_disabled_provider(google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer, pool: Any) -> None:
    pool.disabled = True
    token = oidc_issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"})
    answer = _exchange(google_sts, _form(pool.audience, token))
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": f"The identity pool provider {pool.name} is disabled.",
    }


def _federated(sts: GoogleSTSEmulator, issuer: OIDCIssuer, pool: Any, scope: str = SCOPE) -> str:
    token = issuer.mint({"sub": "svc-1", "aud": pool.audience, "team": "ml"})
    answer = _exchange(sts, _form(pool.audience, token, scope=scope))
    access: str = answer.json()["access_token"]
    return access


def test_iam_generate_access_token_checks(
    google_sts: GoogleSTSEmulator, iam_credentials: IAMCredentialsEmulator, oidc_issuer: OIDCIssuer, pool: Any
) -> None:
    account = iam_credentials.add_service_account(
        "sa@p.iam.gserviceaccount.com", members=[pool.principal("svc-1")]
    )
    url = iam_credentials.impersonation_url(account.email)
    federated = _federated(google_sts, oidc_issuer, pool)
    auth = {"Authorization": f"Bearer {federated}"}

    assert (
        requests.post(url, json={"scope": [SCOPE]}, timeout=5).json()["error"]["status"] == "UNAUTHENTICATED"
    )
    bad = requests.post(url, json={"scope": [SCOPE]}, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401
    assert (
        requests.post(url, json={}, headers=auth, timeout=5).json()["error"]["message"] == "Scope required."
    )
    long = requests.post(url, json={"scope": [SCOPE], "lifetime": "7200s"}, headers=auth, timeout=5)
    assert long.status_code == 400 and "outside the allowed range" in long.json()["error"]["message"]

    ok = requests.post(url, json={"scope": [SCOPE], "lifetime": "600s"}, headers=auth, timeout=5)
    assert ok.status_code == 200
    assert ok.json()["expireTime"].endswith("Z") and "." not in ok.json()["expireTime"]
    by_id = requests.post(
        iam_credentials.impersonation_url(account.unique_id), json={"scope": [SCOPE]}, headers=auth, timeout=5
    )
    assert by_id.status_code == 200

    unknown = requests.post(
        iam_credentials.impersonation_url("ghost@p.iam.gserviceaccount.com"),
        json={"scope": [SCOPE]},
        headers=auth,
        timeout=5,
    )
    assert unknown.status_code == 403
    assert "(or it may not exist)" in unknown.json()["error"]["message"]


def test_vertex_checks(
    google_sts: GoogleSTSEmulator, iam_credentials: IAMCredentialsEmulator, oidc_issuer: OIDCIssuer, pool: Any
) -> None:
    with VertexAIEmulator(
        google_sts, iam_credentials, allowed_members=[pool.principal_set("team", "ml")]
    ) as vertex:
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        assert requests.post(vertex.model_url(), json=body, timeout=5).status_code == 401

        narrow = _federated(
            google_sts, oidc_issuer, pool, scope="https://www.googleapis.com/auth/userinfo.email"
        )
        answer = requests.post(
            vertex.model_url(), json=body, headers={"Authorization": f"Bearer {narrow}"}, timeout=5
        )
        assert answer.status_code == 403

        federated = _federated(google_sts, oidc_issuer, pool)
        auth = {"Authorization": f"Bearer {federated}"}
        # the principal has no attribute.team mapping, so the principalSet does not cover it
        assert requests.post(vertex.model_url(), json=body, headers=auth, timeout=5).status_code == 403
        vertex.allowed_members = [pool.all_identities]
        assert requests.post(vertex.model_url(), json=body, headers=auth, timeout=5).status_code == 200
        missing = requests.post(vertex.model_url("gemini-0"), json=body, headers=auth, timeout=5)
        assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
        empty = requests.post(vertex.model_url(), json={"contents": []}, headers=auth, timeout=5)
        assert empty.status_code == 400 and empty.json()["error"]["status"] == "INVALID_ARGUMENT"
        other = vertex.model_url().replace("/projects/demo-project/", "/projects/other-project/")
        assert requests.post(other, json=body, headers=auth, timeout=5).status_code == 403


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("assertion.sub == 'a' && assertion.n >= 2", True),
        ("assertion.sub != 'a' || !(assertion.n < 3)", False),
        ("assertion['sub'] + ':' + assertion.ref", "a:refs/heads/main"),
        ("assertion.ref.startsWith('refs/') && assertion.ref.endsWith('main')", True),
        ("assertion.ref.matches('^refs/heads/(main|dev)$') && assertion.ref.contains('heads')", True),
        ("'x' in assertion.groups && assertion.groups.size() == 2 && assertion.groups[1] == 'y'", True),
        ("has(assertion.sub) && !has(assertion.absent)", True),
        ("[1, 2] + [3] == [1, 2, 3] && null == null && 1.5 > 1", True),
    ],
)
def test_cel_subset(expression: str, value: object) -> None:
    claims = {"sub": "a", "n": 2, "ref": "refs/heads/main", "groups": ["x", "y"]}
    assert evaluate(expression, {"assertion": claims}) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("assertion.absent == 'x'", "no such key: 'absent'"),
        ("assertion.sub", "expected a bool, got str"),
        ("assertion.sub.lower() == 'a'", "unsupported function lower()"),
        ("assertion.sub == 'a' ;", "unexpected character"),
        ("nobody.sub == 'a'", "unknown name 'nobody'"),
        ("assertion.sub + 1 == 'a'", "cannot add str and int"),
    ],
)
def test_cel_errors(expression: str, message: str) -> None:
    with pytest.raises(CelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        condition_holds(expression, {"assertion": {"sub": "a"}})
