"""Access tokens per (tenant, scopes, CAE) and the decision whether to use, renew or replace one.

Shared by the sync and async credentials; the locks that make renewal single-flight are theirs.
A failed request is shared like a successful one: callers that were waiting for it get its
error instead of repeating it one after another against an Entra that just refused.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
from collections.abc import Hashable

from .._internal import clock
from ._entra import AccessGrant
from ._refresh import retry_delay

GrantKey = tuple[str, tuple[str, ...], bool]


class Need(enum.Enum):
    """What a cached grant calls for."""

    USE = "use"  # fresh: hand it out
    RENEW = "renew"  # still valid but due: renew if nobody else is, else hand it out
    REPLACE = "replace"  # missing or too close to expiry: wait for a new one


@dataclasses.dataclass(frozen=True)
class _Failure:
    error: Exception
    generation: int


class GrantCache:
    """The grants of one credential, the last failure per key, and when a failed early renewal
    may be tried again.  ``generation`` counts completed requests (good or bad)."""

    def __init__(self) -> None:
        self.grants: dict[Hashable, AccessGrant] = {}
        self.generation = 0
        self._failures: dict[Hashable, _Failure] = {}
        self._retry_at: dict[Hashable, float] = {}

    def need(self, key: Hashable, grant: AccessGrant | None) -> Need:
        if grant is None:
            return Need.REPLACE
        now = clock.mono()
        if now < grant.refresh_mono:
            return Need.USE
        if now < grant.stale_mono:
            return Need.USE if now < self._retry_at.get(key, 0.0) else Need.RENEW
        return Need.REPLACE

    def store(self, key: Hashable, grant: AccessGrant) -> None:
        self.grants[key] = grant
        self.generation += 1
        self._failures.pop(key, None)
        self._retry_at.pop(key, None)

    def failed(self, key: Hashable, error: Exception) -> None:
        """Record that asking for ``key`` just failed."""
        self.generation += 1
        self._failures[key] = _Failure(error, self.generation)

    def failure_since(self, key: Hashable, generation: int) -> Exception | None:
        """A copy of the failure recorded for ``key`` after ``generation``, for a caller that waited on it."""
        failure = self._failures.get(key)
        if failure is None or failure.generation <= generation:
            return None
        try:
            return copy.copy(failure.error)  # each raiser gets its own traceback
        except Exception:  # noqa: BLE001 - an uncopyable error is raised as it is
            return failure.error

    def renewal_failed(self, key: Hashable, grant: AccessGrant) -> float:
        """Note a failed early renewal; returns the seconds the current grant stays usable."""
        now = clock.mono()
        left = grant.stale_mono - now
        self._retry_at[key] = now + retry_delay(left)
        return left

    def clear(self) -> None:
        self.grants.clear()
        self._failures.clear()
        self._retry_at.clear()
