"""The credential lifecycle core, shared by ID tokens, AWS and Azure.

- :class:`Freshness`: the one vocabulary (FRESH / STALE / INVALID) for where a credential
  stands in its life.
- :class:`SingleFlightCache`: values with refresh deadlines, fetched once at a time per key,
  failures shared with the callers that waited for them.
- :class:`RefreshPolicy` (:func:`refresh_windows`, :class:`RefreshState`): when to renew,
  and how to back off when an early renewal fails.
- :class:`Lifecycle`: the one owner of the process-wide state, with a module default
  (:func:`current`); tests install a fresh one (:func:`fresh`).
- :func:`reset_after_fork`: every lock, in-flight marker and pooled connection is replaced
  in a forked child; cached values survive.

Example::

    from oidc_credential_chain.lifecycle import fresh

    with fresh():
        token = get_id_token("oidc/github/sts.amazonaws.com")   # fetched, not taken from before
"""

from __future__ import annotations

from .fork import reset_after_fork
from .freshness import Freshness
from .owner import Lifecycle, Owned, SharedInstances, current, fresh, install
from .policy import RefreshPolicy, RefreshState, RefreshWindows, refresh_windows
from .single_flight import SingleFlightCache

__all__ = [
    "Freshness",
    "Lifecycle",
    "Owned",
    "RefreshPolicy",
    "RefreshState",
    "RefreshWindows",
    "SharedInstances",
    "SingleFlightCache",
    "current",
    "fresh",
    "install",
    "refresh_windows",
    "reset_after_fork",
]
