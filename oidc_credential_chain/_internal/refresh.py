"""The refresh policy, now in :mod:`oidc_credential_chain.lifecycle.policy` (re-exported here).

``Phase`` names the :class:`~oidc_credential_chain.lifecycle.Freshness` members the way
the AWS provider knows them: ``ADVISORY`` is ``STALE`` and ``MANDATORY`` is ``INVALID``.
"""

from __future__ import annotations

from ..lifecycle.freshness import Freshness
from ..lifecycle.policy import (
    ADVISORY_FRACTION,
    BOTOCORE_ADVISORY,
    BOTOCORE_MANDATORY,
    JITTER,
    MANDATORY_FRACTION,
    RefreshPolicy,
    RefreshState,
    RefreshWindows,
    describe_error,
    refresh_windows,
)


class Phase:
    """The advisory/mandatory names of :class:`Freshness`."""

    FRESH = Freshness.FRESH
    ADVISORY = Freshness.STALE
    MANDATORY = Freshness.INVALID


__all__ = [
    "ADVISORY_FRACTION",
    "BOTOCORE_ADVISORY",
    "BOTOCORE_MANDATORY",
    "JITTER",
    "MANDATORY_FRACTION",
    "Freshness",
    "Phase",
    "RefreshPolicy",
    "RefreshState",
    "RefreshWindows",
    "describe_error",
    "refresh_windows",
]
