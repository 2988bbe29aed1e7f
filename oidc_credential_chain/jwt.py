"""Unverified JWT reading and redaction helpers.

The library never verifies signatures (the relying party does); it reads claims to
schedule refreshes and to explain refusals.  Nothing here returns or logs the token.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from ._internal.untrusted_json import JSONParseError, parse_json
from .errors import ConfigurationError

_B64URL_PART = r"[A-Za-z0-9_-]+={0,2}"
_JWT_SHAPE = re.compile(rf"{_B64URL_PART}\.{_B64URL_PART}\.(?:{_B64URL_PART})?")

#: The claims shown in error messages and INFO logs: enough to fix a trust policy.
SUMMARY_CLAIMS = ("iss", "aud", "sub", "exp")


def looks_like_jwt(text: str) -> bool:
    """True if ``text`` has the compact JWS shape (three base64url parts).

    Example: ``looks_like_jwt("a.b.c")`` is True, ``looks_like_jwt("hello")`` False.
    """
    return _JWT_SHAPE.fullmatch(text) is not None


def _b64decode(part: str) -> bytes:
    padded = part + "=" * (-len(part) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def decode_unverified(token: str, *, source: str = "the token") -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(header, claims)`` of a JWT without verifying it.

    Raises :class:`ConfigurationError` naming ``source`` (never echoing the text) when the
    token is not a JWT.

    Example::

        header, claims = decode_unverified(token)
        claims["iss"]
    """
    if not looks_like_jwt(token):
        raise ConfigurationError(
            f"{source} is not a JWT (expected three base64url parts separated by dots); "
            "its content is not shown"
        )
    header_b64, payload_b64, _sig = token.split(".")
    try:
        header = parse_json(_b64decode(header_b64))
        claims = parse_json(_b64decode(payload_b64))
    except (ValueError, binascii.Error) as err:
        # parse_json's JSONParseError says why (not JSON, nested too deeply) without quoting.
        why = f" ({err})" if isinstance(err, JSONParseError) else ""
        raise ConfigurationError(
            f"{source} has the shape of a JWT but its header or payload is not base64url JSON{why}; "
            "its content is not shown"
        ) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ConfigurationError(f"{source} is not a JWT: its header and payload must be JSON objects")
    return header, claims


def numeric_claim(claims: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate claim as a float, or None when absent or not a number."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def claim_audiences(claims: Mapping[str, Any]) -> list[str]:
    """The ``aud`` claim as a list of strings (it may be one string or an array).

    Example: ``claim_audiences({"aud": "api://AzureADTokenExchange"})`` is ``["api://AzureADTokenExchange"]``.
    """
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def summarize_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of claims safe and useful to show: ``iss``, ``aud``, ``sub``, ``exp``."""
    return {name: claims[name] for name in SUMMARY_CLAIMS if name in claims}


def format_claims(claims: Mapping[str, Any]) -> str:
    """``iss=..., aud=..., sub=..., exp=...`` for messages."""
    summary = summarize_claims(claims)
    if not summary:
        return "(the token carries none of iss, aud, sub, exp)"
    return ", ".join(f"{name}={summary[name]!r}" for name in SUMMARY_CLAIMS if name in summary)


def redact(text: str, *secrets: str | None) -> str:
    """Replace each named secret, and everything secret-shaped, in ``text`` with ``[REDACTED]``.

    The same redaction as :func:`oidc_credential_chain._internal.redact.redact_text`.

    Example: ``redact("Bearer abcd", "abcd")`` returns ``"Bearer [REDACTED]"``.
    """
    from ._internal.redact import redact_text  # its patterns cost more than the rest of this module

    return redact_text(text, *secrets)


__all__ = [
    "SUMMARY_CLAIMS",
    "claim_audiences",
    "decode_unverified",
    "format_claims",
    "looks_like_jwt",
    "numeric_claim",
    "redact",
    "summarize_claims",
]
