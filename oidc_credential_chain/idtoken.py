"""A fetched ID token: its text, its claims, and a skew-proof lifetime."""

from __future__ import annotations

import dataclasses
from typing import Any

from ._internal import clock
from ._internal.log import get_logger, warn_once
from .errors import ConfigurationError, TokenFetchError
from .jwt import decode_unverified, format_claims, looks_like_jwt, numeric_claim, summarize_claims

_log = get_logger("token")

#: A token is refused locally only when its ``exp`` is more than this far in the past.
SKEW_ALLOWANCE = 300.0
#: Tokens without ``exp`` are served from the cache for this long at most.
DEFAULT_LIFETIME_WITHOUT_EXP = 60.0


@dataclasses.dataclass(frozen=True, repr=False)
class IdToken:
    """An ID token and what the library knows about it.

    ``lifetime`` is ``exp - iat`` and is counted from ``fetched_mono`` (this process's
    monotonic clock), so a skewed local clock neither rejects a fresh token nor keeps a
    stale one.  The repr never shows the token.
    """

    value: str
    header: dict[str, Any]
    claims: dict[str, Any]
    spec: str
    fetched_at: float
    fetched_mono: float
    lifetime: float

    @property
    def expires_mono(self) -> float:
        return self.fetched_mono + self.lifetime

    def seconds_left(self) -> float:
        """Seconds until expiry, by this process's monotonic clock."""
        return self.expires_mono - clock.mono()

    @property
    def issuer(self) -> str | None:
        iss = self.claims.get("iss")
        return iss if isinstance(iss, str) else None

    @property
    def subject(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None

    @property
    def audience(self) -> str | list[str] | None:
        aud = self.claims.get("aud")
        return aud if isinstance(aud, (str, list)) else None

    def summary(self) -> dict[str, Any]:
        """``iss``, ``aud``, ``sub``, ``exp``: safe to log and show."""
        return summarize_claims(self.claims)

    def describe(self) -> str:
        return format_claims(self.claims)

    def __repr__(self) -> str:
        return f"IdToken(spec={self.spec!r}, {self.describe()}, lifetime={self.lifetime:.0f}s)"


def make_id_token(text: str, *, spec: str, source: str, remote: bool) -> IdToken:
    """Validate token text and compute its lifetime.

    Raises :class:`ConfigurationError` (local sources) or :class:`TokenFetchError` (an
    identity provider's answer) when the text is not a JWT, and :class:`TokenFetchError`
    when it expired more than :data:`SKEW_ALLOWANCE` seconds ago.
    """
    text = text.strip()
    if not looks_like_jwt(text):
        message = (
            f"{source} is not a JWT (expected three base64url parts separated by dots); "
            f"its content is not shown (spec {spec})"
        )
        if remote:
            raise TokenFetchError(message, spec=spec)
        raise ConfigurationError(message, spec=spec)
    try:
        header, claims = decode_unverified(text, source=source)
    except ConfigurationError as err:
        if remote:
            raise TokenFetchError(f"{err.message} (spec {spec})", spec=spec) from None
        raise ConfigurationError(f"{err.message} (spec {spec})", spec=spec) from None
    now = clock.now()
    mono = clock.mono()
    exp = numeric_claim(claims, "exp")
    iat = numeric_claim(claims, "iat")
    if exp is not None and exp + SKEW_ALLOWANCE < now:
        raise TokenFetchError(
            f"the token from {source} expired {now - exp:.0f} s ago by this machine's clock "
            f"({format_claims(claims)}); fetch a fresh one, or fix the clock if it is wrong (spec {spec})",
            spec=spec,
        )
    if exp is None:
        lifetime = DEFAULT_LIFETIME_WITHOUT_EXP
    elif iat is not None and exp > iat:
        lifetime = exp - iat
        if iat > now + 60:
            warn_once(
                _log,
                f"skew-ahead:{spec}",
                "the token for %s was issued %.0f s in the future by this machine's clock: "
                "the local clock is probably behind; lifetimes are measured from fetch time instead",
                spec,
                iat - now,
            )
        elif exp < now:
            warn_once(
                _log,
                f"skew-behind:{spec}",
                "the token for %s expired %.0f s ago by this machine's clock but is within the "
                "%.0f s allowance: the local clock may be ahead, or the token stale",
                spec,
                now - exp,
                SKEW_ALLOWANCE,
            )
    else:
        lifetime = max(0.0, exp - now)
    return IdToken(
        value=text,
        header=header,
        claims=claims,
        spec=spec,
        fetched_at=now,
        fetched_mono=mono,
        lifetime=lifetime,
    )


def refresh_margin(lifetime: float) -> float:
    """How long before expiry a cached token is replaced: 20 % of its life, 5 s to 5 min."""
    return min(300.0, max(5.0, lifetime * 0.2))
