"""A fetched ID token: its text, its claims, and a skew-proof lifetime."""

from __future__ import annotations

from typing import Any

from ._internal import clock
from ._internal.log import get_logger, warn_once
from ._internal.record import Record
from .errors import ConfigurationError, TokenFetchError
from .jwt import decode_unverified, format_claims, looks_like_jwt, numeric_claim, summarize_claims

_log = get_logger("token")

#: Token text larger than this is refused, wherever it comes from (a file reader reads one byte
#: more to tell).
MAX_TOKEN_BYTES = 64 * 1024
#: A token is refused locally only when its ``exp`` is more than this far in the past.
SKEW_ALLOWANCE = 300.0
#: Tokens without ``exp`` are served from the cache for this long at most.
DEFAULT_LIFETIME_WITHOUT_EXP = 60.0
#: A difference between ``iat`` and the local clock beyond this is worth a warning.
_SKEW_NOTICE = 60.0
#: A just-minted remote token whose ``iat`` is at most this far behind the local clock counts
#: as fresh (the skew allowance, plus slack for whole-second ``iat`` and the request's latency).
_FRESH_AGE = SKEW_ALLOWANCE + 30.0


class IdToken(Record):
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
    identity provider's answer) when the text is too long or not a JWT, and
    :class:`TokenFetchError` when it expired more than :data:`SKEW_ALLOWANCE` seconds ago.

    Example::

        token = make_id_token(text, spec="oidc/env/MY_TOKEN", source="MY_TOKEN", remote=False)
        token.seconds_left()
    """
    error = TokenFetchError if remote else ConfigurationError
    text = text.strip()
    if len(text) > MAX_TOKEN_BYTES:
        raise error(f"{source} holds more than {MAX_TOKEN_BYTES} bytes; not a token (spec {spec})", spec=spec)
    if not looks_like_jwt(text):
        raise error(
            f"{source} is not a JWT (expected three base64url parts separated by dots); "
            f"its content is not shown (spec {spec})",
            spec=spec,
        )
    try:
        header, claims = decode_unverified(text, source=source)
    except ConfigurationError as err:
        raise error(f"{err.message} (spec {spec})", spec=spec) from None
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
    _warn_about_skew(spec, now, exp, iat, remote=remote)
    return IdToken(
        value=text,
        header=header,
        claims=claims,
        spec=spec,
        fetched_at=now,
        fetched_mono=mono,
        lifetime=_lifetime(now, exp, iat, remote=remote),
    )


def _lifetime(now: float, exp: float | None, iat: float | None, *, remote: bool) -> float:
    """Seconds the token stays valid from now.

    A token an identity provider just minted has lived ``now - iat`` only by a skewed
    clock, so its full ``exp - iat`` counts from fetch time.  A token read from a file or
    variable (or a remote one older than any skew we tolerate, i.e. served from a cache
    upstream) may be old: its life is also bounded by ``exp`` on the local clock, so a stale
    token is never kept; re-reading it early costs little.
    """
    if exp is None:
        return DEFAULT_LIFETIME_WITHOUT_EXP
    until_exp = max(0.0, exp - now)
    if iat is None or exp <= iat:
        return until_exp
    full = exp - iat
    if remote and now - iat <= _FRESH_AGE:
        return full
    return min(full, until_exp)


def _warn_about_skew(spec: str, now: float, exp: float | None, iat: float | None, *, remote: bool) -> None:
    if iat is not None and iat > now + _SKEW_NOTICE:
        warn_once(
            _log,
            f"skew-behind:{spec}",
            "the token for %s was issued %.0f s in the future by this machine's clock: "
            "the local clock is probably behind; lifetimes are measured from fetch time instead",
            spec,
            iat - now,
        )
    elif remote and iat is not None and _SKEW_NOTICE < now - iat <= _FRESH_AGE:
        warn_once(
            _log,
            f"skew-ahead:{spec}",
            "the token for %s, just issued, is %.0f s old by this machine's clock: the local clock "
            "is probably ahead; lifetimes are measured from fetch time instead",
            spec,
            now - iat,
        )
    elif exp is not None and exp < now:
        warn_once(
            _log,
            f"expired-within-allowance:{spec}",
            "the token for %s expired %.0f s ago by this machine's clock but is within the "
            "%.0f s allowance: the local clock may be ahead, or the token stale",
            spec,
            now - exp,
            SKEW_ALLOWANCE,
        )


def refresh_margin(lifetime: float) -> float:
    """How long before expiry a cached token is replaced: 20 % of its life, 5 s to 5 min."""
    return min(300.0, max(5.0, lifetime * 0.2))
