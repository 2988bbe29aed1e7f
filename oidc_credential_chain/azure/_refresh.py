"""When an Entra access token is renewed: the library's one refresh policy, for sync and async alike.

A token is renewed from :func:`refresh_on` onwards while it stays in use (a failure then
keeps the current token, which is still valid), and is never handed out once fewer than
:func:`expiry_margin` seconds of its life remain, so no request leaves with a token that
expires on the way.  The numbers are :class:`~oidc_credential_chain.lifecycle.RefreshPolicy`'s.
"""

from __future__ import annotations

from ..lifecycle.policy import WHOLE_SECOND, RefreshPolicy, current_policy


def refresh_on(expires_in: float, now: float) -> float:
    """The time (on ``now``'s clock) from which a token expiring ``expires_in`` seconds after ``now``
    is renewed: when the advisory window of the refresh policy opens (30 % of the life before
    expiry, at most 15 minutes, jittered so that a fleet does not renew in lockstep).

    Example: ``refresh_on(3600, now=1000.0)`` is between ``3700.0`` and ``3880.0``.
    """
    return current_policy().renew_at(expires_in, now)


def expiry_margin(expires_in: float) -> float:
    """Seconds before expiry after which a token is no longer handed out: the mandatory window
    (15 % of its life, at most 10 minutes) plus the second Entra's rounding may take.

    Example: ``expiry_margin(120)`` is ``19.0``; ``expiry_margin(3600)`` is ``541.0``.
    """
    return current_policy().expiry_margin(expires_in)


def retry_delay(seconds_until_stale: float) -> float:
    """After a failed early renewal, how long to keep serving the current token before trying again.

    Half the time left before it must be replaced, between 1 and 30 s, so Entra is not asked
    on every request while it is down and a renewal is still tried before the token is unusable.
    """
    return RefreshPolicy.renewal_retry_delay(seconds_until_stale)


__all__ = ["WHOLE_SECOND", "expiry_margin", "refresh_on", "retry_delay"]
