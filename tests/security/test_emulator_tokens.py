"""Unsigned and symmetric-key tokens get each service's own refusal from the emulators.

A token whose header says ``alg: none``, whose signature is stripped, or which is an HS256
MAC keyed with the issuer's public key (the classic key-confusion forgery) must be refused
with the error code the real service uses for a bad token - never accepted and never an
internal error.  AWS STS answers ``InvalidIdentityToken``, Entra ID ``AADSTS700027``
(``invalid_client``), Google STS ``invalid_grant``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization

from oidc_credential_chain.testing import (
    EntraEmulator,
    GoogleSTSEmulator,
    OIDCIssuer,
    STSEmulator,
    loopback_ca,
)
from oidc_credential_chain.testing.entra import JWT_BEARER
from oidc_credential_chain.testing.sts import SIGNING_ALGORITHMS, VERIFICATION_KEY_MESSAGE

SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"
EXCHANGE = "api://AzureADTokenExchange"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_pem(issuer: OIDCIssuer) -> bytes:
    jwk = next(k for k in issuer.jwks()["keys"] if k["kid"] == issuer.kid)
    key: Any = jwt.PyJWK(jwk, "RS256").key
    return bytes(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def forge(issuer: OIDCIssuer, alg: str, audience: str, sign: Callable[[bytes], bytes] | None = None) -> str:
    """A token with the issuer's claims and kid, the header ``alg``, and ``sign``'s signature (or none)."""
    now = issuer.now()
    claims = {"iss": issuer.issuer, "sub": SUBJECT, "aud": audience, "iat": now, "nbf": now, "exp": now + 300}
    header = {"alg": alg, "typ": "JWT", "kid": issuer.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def _hs256(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda message: hmac.new(secret, message, hashlib.sha256).digest()


def bad_tokens(issuer: OIDCIssuer, audience: str) -> dict[str, str]:
    genuine = issuer.mint({"sub": SUBJECT, "aud": audience})
    return {
        "alg none": forge(issuer, "none", audience),
        "alg None": forge(issuer, "None", audience),
        "RS256 without a signature": forge(issuer, "RS256", audience),
        "genuine token, signature stripped": genuine.rsplit(".", 1)[0] + ".",
        "HS256 keyed with the public key": forge(issuer, "HS256", audience, _hs256(_public_pem(issuer))),
        "HS256 keyed with a guess": forge(issuer, "HS256", audience, _hs256(b"secret")),
    }


UNSUPPORTED = (
    f"The web identity token is not signed with a supported algorithm ({', '.join(SIGNING_ALGORITHMS)})."
)
SIGNATURE_INVALID = "The web identity token's signature is invalid."
STS_EXPECTED = {
    "alg none": UNSUPPORTED,
    "alg None": UNSUPPORTED,
    "RS256 without a signature": SIGNATURE_INVALID,
    "genuine token, signature stripped": SIGNATURE_INVALID,
    "HS256 keyed with the public key": UNSUPPORTED,
    "HS256 keyed with a guess": UNSUPPORTED,
}


@pytest.fixture
def sts_world(aws_sts: STSEmulator, oidc_issuer: OIDCIssuer) -> tuple[STSEmulator, OIDCIssuer, str]:
    aws_sts.register_provider(oidc_issuer)
    role = aws_sts.allow("deploy", oidc_issuer, sub="repo:octo-org/*")
    return aws_sts, oidc_issuer, role


def test_aws_sts_refuses_unsigned_and_hmac_tokens_as_invalid_identity_tokens(
    sts_world: tuple[STSEmulator, OIDCIssuer, str],
) -> None:
    sts, issuer, role = sts_world
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=sts.url,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    refusals = {}
    for name, token in bad_tokens(issuer, "sts.amazonaws.com").items():
        with pytest.raises(ClientError) as info:
            client.assume_role_with_web_identity(
                RoleArn=role, RoleSessionName="attack", WebIdentityToken=token
            )
        error = info.value.response["Error"]
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, name
        refusals[name] = (error["Code"], error["Message"])
    assert refusals == {name: ("InvalidIdentityToken", message) for name, message in STS_EXPECTED.items()}
    genuine = issuer.mint({"sub": SUBJECT, "aud": "sts.amazonaws.com"})
    answer = client.assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="ok", WebIdentityToken=genuine
    )
    assert answer["SubjectFromWebIdentityToken"] == SUBJECT


def test_entra_refuses_unsigned_and_hmac_assertions_with_700027(
    entra: EntraEmulator, github_issuer: OIDCIssuer
) -> None:
    entra.add_federated_credential(github_issuer, SUBJECT)
    for name, assertion in bad_tokens(github_issuer, EXCHANGE).items():
        form = {
            "client_id": entra.client_id,
            "scope": "https://cognitiveservices.azure.com/.default",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "grant_type": "client_credentials",
        }
        answer = requests.post(
            entra.token_url(entra.tenant_id), data=form, verify=loopback_ca().ca_path, timeout=10
        )
        body = answer.json()
        assert (answer.status_code, body["error"], body["error_codes"]) == (
            401,
            "invalid_client",
            [700027],
        ), name
        assert body["error_description"].startswith("AADSTS700027: "), name


def test_google_sts_refuses_unsigned_and_hmac_tokens_as_invalid_grant(
    google_sts: GoogleSTSEmulator, oidc_issuer: OIDCIssuer
) -> None:
    pool = google_sts.add_provider(oidc_issuer)
    expected = {
        "alg none": "The ID Token is signed with 'none'; RS256 or ES256 required.",
        "alg None": "The ID Token is signed with 'None'; RS256 or ES256 required.",
        "RS256 without a signature": "Invalid ID Token signature.",
        "genuine token, signature stripped": "Invalid ID Token signature.",
        "HS256 keyed with the public key": "The ID Token is signed with 'HS256'; RS256 or ES256 required.",
        "HS256 keyed with a guess": "The ID Token is signed with 'HS256'; RS256 or ES256 required.",
    }
    refusals = {}
    for name, token in bad_tokens(oidc_issuer, pool.audience).items():
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "audience": pool.audience,
            "scope": "https://www.googleapis.com/auth/cloud-platform",
            "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "subject_token": token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        }
        answer = requests.post(google_sts.token_url, data=form, timeout=10)
        assert answer.status_code == 400, name
        refusals[name] = (answer.json()["error"], answer.json()["error_description"])
    assert refusals == {name: ("invalid_grant", message) for name, message in expected.items()}


def test_aws_sts_refuses_an_algorithm_the_issuer_key_cannot_verify(
    sts_world: tuple[STSEmulator, OIDCIssuer, str],
) -> None:
    sts, issuer, role = sts_world
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=sts.url,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    # ES256 is an algorithm STS accepts, but the issuer's only key is RSA.
    token = forge(issuer, "ES256", "sts.amazonaws.com", lambda message: b"\x01" * 64)
    with pytest.raises(ClientError) as info:
        client.assume_role_with_web_identity(RoleArn=role, RoleSessionName="attack", WebIdentityToken=token)
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidIdentityToken", VERIFICATION_KEY_MESSAGE)
