"""AWS Signature Version 4, recomputed server-side to verify what botocore signed.

The canonical request is rebuilt from the request as received: the path URI-encoded once
more (so a model ID sent as ``v1%3A0`` is signed as ``v1%253A0``), the query pairs sorted
and encoded, the signed headers' values trimmed and whitespace-collapsed, and the body's
SHA-256 (or the ``X-Amz-Content-SHA256`` value).  The session token must be among the
signed headers' values (``X-Amz-Security-Token``) when the credentials carry one.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote, unquote

from ._server import Request

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far the request's X-Amz-Date may be from the server's clock.
MAX_SKEW_SECONDS = 300.0

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


class SigningSecret(Protocol):
    """What a verifier needs to know about an access key."""

    @property
    def secret_access_key(self) -> str: ...

    @property
    def session_token(self) -> str | None: ...

    @property
    def expiration(self) -> float | None: ...  # epoch seconds; None for long-term keys


class SigV4Error(Exception):
    """A request the service would refuse: ``code`` is the AWS error code, ``status`` 403/400.

    ``kind`` is one of ``missing``, ``unknown_key``, ``expired``, ``signature``, ``skew``,
    ``scope``, so each protocol (query/XML, rest-json) can name the error its own way.
    """

    def __init__(self, kind: str, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status


@dataclasses.dataclass(frozen=True)
class SigV4Result:
    """A verified request: who signed it, for which scope, with which headers."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """``AWS4<secret>`` -> date -> region -> service -> ``aws4_request``."""
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_uri(raw_path: str) -> str:
    """The path as sent, URI-encoded again (safe ``/~``), as botocore signs it."""
    return quote(raw_path or "/", safe="/~")


def canonical_query(raw_query: str) -> str:
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(request: Request, signed_headers: tuple[str, ...]) -> str:
    """The canonical request for ``request`` over ``signed_headers`` (lower-case names)."""
    raw = request.raw_path or request.path
    path, _, query = raw.partition("?")
    lines = []
    for name in signed_headers:
        value = request.header(name)
        if value is None:
            raise SigV4Error("signature", "InvalidSignatureException", f"signed header {name!r} is missing")
        lines.append(f"{name}:{' '.join(value.split())}")
    payload = request.header("x-amz-content-sha256") or sha256_hex(request.body)
    return "\n".join(
        [
            request.method,
            canonical_uri(path),
            canonical_query(query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload,
        ]
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, sha256_hex(canonical.encode("utf-8"))])


def verify(
    request: Request,
    lookup: Callable[[str], SigningSecret | None],
    *,
    service: str,
    now: float | None = None,
) -> SigV4Result:
    """Verify ``request``'s SigV4 signature; raise :class:`SigV4Error` as AWS would refuse it.

    ``lookup`` maps an access key ID to its secret (None: unknown key).

    Example::

        result = verify(request, sts.lookup, service="bedrock")
        caller = sts.lookup(result.access_key_id)
    """
    current = time.time() if now is None else now
    authorization = request.header("authorization")
    if not authorization:
        raise SigV4Error("missing", "MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH.match(authorization.strip())
    if match is None:
        raise SigV4Error(
            "signature",
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters "
            "(AWS4-HMAC-SHA256).",
            status=400,
        )
    parts = match.group("credential").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SigV4Error(
            "signature",
            "IncompleteSignatureException",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term",
            status=400,
        )
    access_key_id, date, region, scope_service, _term = parts
    signed_headers = tuple(match.group("signed").split(";"))
    amz_date = request.header("x-amz-date") or ""
    if "host" not in signed_headers:
        raise SigV4Error("signature", "InvalidSignatureException", "'Host' must be a 'SignedHeader'")
    if not amz_date or not amz_date.startswith(date):
        raise SigV4Error(
            "scope",
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    if scope_service != service:
        raise SigV4Error(
            "scope",
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}'.",
        )
    secret = lookup(access_key_id)
    if secret is None:
        raise SigV4Error(
            "unknown_key",
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    presented_token = request.header("x-amz-security-token")
    expected_token = secret.session_token
    if expected_token:
        if presented_token is None or not hmac.compare_digest(presented_token, expected_token):
            raise SigV4Error(
                "unknown_key",
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        if "x-amz-security-token" not in signed_headers:
            raise SigV4Error(
                "signature", "InvalidSignatureException", "'X-Amz-Security-Token' must be a 'SignedHeader'"
            )
    elif presented_token:
        raise SigV4Error(
            "unknown_key",
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    signed_at = _parse_amz_date(amz_date)
    if abs(current - signed_at) > MAX_SKEW_SECONDS:
        earlier = current - MAX_SKEW_SECONDS
        raise SigV4Error(
            "skew",
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {_amz_date(earlier)} "
            f"({_amz_date(current)} - 5 min.)"
            if signed_at < current
            else f"Signature not yet current: {amz_date} is still later than {_amz_date(current + 300)} "
            f"({_amz_date(current)} + 5 min.)",
        )
    scope = f"{date}/{region}/{scope_service}/aws4_request"
    canonical = canonical_request(request, signed_headers)
    expected = hmac.new(
        signing_key(secret.secret_access_key, date, region, scope_service),
        string_to_sign(amz_date, scope, canonical).encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()
    if not hmac.compare_digest(expected, match.group("signature")):
        raise SigV4Error(
            "signature",
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your "
            "AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    if secret.expiration is not None and current >= secret.expiration:
        raise SigV4Error(
            "expired", "ExpiredTokenException", "The security token included in the request is expired"
        )
    return SigV4Result(access_key_id, date, region, scope_service, signed_headers)


def _parse_amz_date(value: str) -> float:
    try:
        parsed = datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SigV4Error(
            "signature",
            "IncompleteSignatureException",
            f"X-Amz-Date {value!r} is not YYYYMMDD'T'HHMMSS'Z'",
            400,
        ) from None
    return parsed.timestamp()


def _amz_date(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


__all__ = [
    "MAX_SKEW_SECONDS",
    "SigV4Error",
    "SigV4Result",
    "SigningSecret",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "sha256_hex",
    "signing_key",
    "string_to_sign",
    "verify",
]
