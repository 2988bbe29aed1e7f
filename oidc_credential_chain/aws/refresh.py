"""The refresh windows of the credentials handed to botocore, from one place.

botocore's ``RefreshableCredentials`` refreshes when less than the advisory window is left
(failures logged, old credentials kept) and must succeed once less than the mandatory
window is left.  Both come from :func:`refresh_windows`; the per-process exchange cache
drops an entry just before the widest advisory window any holder could be using opens, so
the refresh botocore asks for always finds new credentials.
"""

from __future__ import annotations

from .._internal.refresh import refresh_windows as _shared_windows

#: The exchange cache lets go of credentials this long (at most 5 % of their lifetime)
#: before the advisory window opens.
CACHE_SLACK_SECONDS = 1.0


def refresh_windows(lifetime_seconds: float) -> tuple[float, float]:
    """``(advisory, mandatory)`` seconds before expiry for credentials living this long.

    Example: ``refresh_windows(3600)`` is about ``(720..900, 540)``.
    """
    windows = _shared_windows(lifetime_seconds)
    return windows.advisory, windows.mandatory


def widest_advisory(lifetime_seconds: float) -> float:
    """The largest advisory window :func:`refresh_windows` can return for this lifetime."""
    return _shared_windows(lifetime_seconds, jitter=0.0).advisory


def cache_keep_seconds(lifetime_seconds: float, seconds_left: float) -> float:
    """How long the exchange cache may hand out credentials with ``seconds_left`` to live."""
    slack = min(CACHE_SLACK_SECONDS, 0.05 * max(0.0, lifetime_seconds))
    return max(0.0, seconds_left - widest_advisory(lifetime_seconds) - slack)


__all__ = ["CACHE_SLACK_SECONDS", "cache_keep_seconds", "refresh_windows", "widest_advisory"]
