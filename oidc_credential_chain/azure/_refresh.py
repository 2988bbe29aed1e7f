"""When an Entra access token is renewed: one function decides, for sync and async alike.

A token is renewed from :func:`refresh_on` onwards while it stays in use (a failure then
keeps the current token, which is still valid), and is never handed out once fewer than
:func:`expiry_margin` seconds of its life remain, so no request leaves with a token that
expires on the way.
"""

from __future__ import annotations

from .._internal.refresh import refresh_windows


def refresh_on(expires_in: float, now: float) -> float:
    """The time (on ``now``'s clock) from which a token expiring ``expires_in`` seconds after ``now``
    is renewed: when the advisory window of the library's refresh policy opens (30 % of the life
    before expiry, at most 15 minutes, jittered so that a fleet does not renew in lockstep).

    Example: ``refresh_on(3600, now=1000.0)`` is between ``3700.0`` and ``3880.0``.
    """
    life = max(0.0, expires_in)
    # Never later than the point where the token stops being handed out.
    return now + max(0.0, life - max(refresh_windows(life).advisory, expiry_margin(life)))


#: Entra counts ``expires_in`` in whole seconds from its own clock rounded down, so a token
#: may expire up to a second before ``sent + expires_in``.
WHOLE_SECOND = 1.0


def expiry_margin(expires_in: float) -> float:
    """Seconds before expiry after which a token is no longer handed out: the mandatory window
    (15 % of its life, at most 10 minutes) plus the second Entra's rounding may take.

    Example: ``expiry_margin(120)`` is ``19.0``; ``expiry_margin(3600)`` is ``541.0``.
    """
    return refresh_windows(max(0.0, expires_in), jitter=0.0).mandatory + WHOLE_SECOND


def retry_delay(seconds_until_stale: float) -> float:
    """After a failed early renewal, how long to keep serving the current token before trying again.

    Half the time left before it must be replaced, between 1 and 30 s, so Entra is not asked
    on every request while it is down and a renewal is still tried before the token is unusable.
    """
    return min(30.0, max(1.0, seconds_until_stale / 2))
