"""An expiry-aware cache with single-flight fetching, for state kept per process.

Concurrent callers asking for the same key while nothing valid is cached share one
fetch: the first does the work, the others wait for its result.  A caller can demand a
fresh value (after a relying party rejected the last one); callers that were already
waiting when that refresh finished reuse it instead of fetching again.  A failed fetch is
shared the same way: callers that waited for it get its error rather than queueing up to
repeat it one after another (each with its own retries against an endpoint that is down).

The mechanism is :class:`oidc_credential_chain.lifecycle.SingleFlightCache`; an
:class:`ExpiringCache` declared at module level keeps its entries in the current
:class:`~oidc_credential_chain.lifecycle.Lifecycle` owner, so a fresh owner starts empty,
and a forked child keeps the entries but none of the parent's locks.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .lifecycle.owner import Owned
from .lifecycle.single_flight import SingleFlightCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """Values with a monotonic refresh deadline, fetched at most once at a time per key.

    Example::

        cache: ExpiringCache[str, str] = ExpiringCache()
        value = cache.get("k", lambda: ("v", 60.0))   # fetch returns (value, seconds to keep)
    """

    def __init__(self) -> None:
        self._slot: Owned[SingleFlightCache[K, V]] = Owned(SingleFlightCache, "ExpiringCache")

    @property
    def entries(self) -> SingleFlightCache[K, V]:
        """This cache's entries in the current owner."""
        return self._slot.get()

    def peek(self, key: K) -> V | None:
        """The cached value if still fresh, without fetching."""
        return self._slot.get().peek(key)

    def get(
        self,
        key: K,
        fetch: Callable[[], tuple[V, float]],
        *,
        force_refresh: bool = False,
        fingerprint: object = None,
    ) -> V:
        """Return the cached value for ``key`` or fetch it.

        ``fetch`` returns ``(value, keep_seconds)``.  ``fingerprint`` identifies the source
        (a file's inode and mtime, say): a cached value with another fingerprint is stale.
        With ``force_refresh`` the value cached when the call began is not used, but one
        fetched by another caller while this one waited is.
        """
        return self._slot.get().get(key, fetch, force_refresh=force_refresh, fingerprint=fingerprint)

    def invalidate(self, key: K) -> None:
        self._slot.get().invalidate(key)

    def clear(self) -> None:
        self._slot.get().clear()


__all__ = ["ExpiringCache"]
