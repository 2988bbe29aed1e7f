"""One expiry-aware cache with single-flight fetching and shared failures.

Concurrent callers asking for the same key while nothing usable is cached share one
fetch: the first does the work, the others wait for its result.  A caller can demand a
fresh value (after a relying party rejected the last one); callers that were already
waiting when that refresh finished reuse it instead of fetching again.  A failed fetch is
shared the same way: callers that waited for it get its error rather than queueing up to
repeat it one after another (each with its own retries against an endpoint that is down).

Each entry has two deadlines on the monotonic clock: from ``stale_at`` it is
:attr:`~Freshness.STALE` (renew it, keep handing it out meanwhile), from ``invalid_at`` it
is :attr:`~Freshness.INVALID` (never handed out again).  After a failed early renewal the
entry counts as fresh until ``retry_at``, so an endpoint that is down is not asked on every
call.  "Completed fetch" is counted by one generation number, good or bad, so a waiter can
tell whether what it finds was produced while it waited.

The sync path (:meth:`SingleFlightCache.get`) runs the whole flow; the async Azure
credential uses the same entries, failures and generations with ``asyncio.Lock`` locks.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from .._internal import clock
from .._internal.record import Record
from .fork import reset_after_fork
from .freshness import Freshness

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Entry(Record, Generic[V]):
    value: V
    stale_at: float
    invalid_at: float
    fingerprint: object
    generation: int


class _Failure(Record):
    error: Exception
    fingerprint: object
    generation: int


class SingleFlightCache(Generic[K, V]):
    """Values with monotonic deadlines, fetched at most once at a time per key.

    ``lock`` makes the per-key locks (``threading.Lock``; ``asyncio.Lock`` for coroutines).
    Locks and in-flight state are replaced in a forked child; values survive.

    Example::

        cache: SingleFlightCache[str, str] = SingleFlightCache()
        value = cache.get("k", lambda: ("v", 60.0))   # fetch returns (value, seconds to keep)
    """

    def __init__(self, lock: Callable[[], Any] = threading.Lock) -> None:
        self._new_lock = lock
        self._entries: dict[K, _Entry[V]] = {}
        self._failures: dict[K, _Failure] = {}
        self._retry_at: dict[K, float] = {}
        self._locks: dict[K, Any] = {}
        self._guard = threading.Lock()
        self._generation = 0
        reset_after_fork(self)

    # the pieces -------------------------------------------------------------------------
    def lock_for(self, key: K) -> Any:
        """The lock that makes fetching ``key`` single-flight."""
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = self._new_lock()
            return lock

    @property
    def generation(self) -> int:
        """How many fetches have completed, good or bad (take it before waiting for a lock)."""
        return self._generation

    def lookup(self, key: K, fingerprint: object = None) -> tuple[V | None, Freshness]:
        """The cached value and its :class:`Freshness` (``(None, INVALID)`` when none is usable).

        A stale value whose renewal failed a moment ago reports FRESH until its backoff ends.
        """
        entry = self._entries.get(key)
        if entry is None or entry.fingerprint != fingerprint:
            return None, Freshness.INVALID
        now = clock.mono()
        if now < entry.stale_at:
            return entry.value, Freshness.FRESH
        if now < entry.invalid_at:
            backing_off = now < self._retry_at.get(key, float("-inf"))
            return entry.value, Freshness.FRESH if backing_off else Freshness.STALE
        return None, Freshness.INVALID

    def store(
        self, key: K, value: V, *, stale_at: float, invalid_at: float, fingerprint: object = None
    ) -> None:
        """Cache ``value``; it is renewed from ``stale_at`` and dropped at ``invalid_at`` (monotonic)."""
        # A value is never renewed later than it stops being handed out.
        entry = _Entry(value, min(stale_at, invalid_at), invalid_at, fingerprint, self._next_generation())
        self._entries[key] = entry
        self._failures.pop(key, None)
        self._retry_at.pop(key, None)

    def fail(self, key: K, error: Exception, fingerprint: object = None) -> None:
        """Record that fetching ``key`` just failed, for the callers waiting on that fetch."""
        self._failures[key] = _Failure(error, fingerprint, self._next_generation())

    def failure_since(self, key: K, generation: int, fingerprint: object = None) -> Exception | None:
        """A copy of a failure recorded after ``generation`` (the fetch this caller waited for)."""
        failure = self._failures.get(key)
        if failure is None or failure.generation <= generation or failure.fingerprint != fingerprint:
            return None
        return fresh_copy(failure.error)

    def renewal_failed(self, key: K, retry_at: float) -> None:
        """A failed early renewal: the stale value stays in use, renewal is tried again at ``retry_at``."""
        self._retry_at[key] = retry_at

    # the whole flow, for synchronous callers ----------------------------------------------
    def peek(self, key: K) -> V | None:
        """The cached value if it may still be handed out, without fetching."""
        entry = self._entries.get(key)
        if entry is not None and clock.mono() < entry.invalid_at:
            return entry.value
        return None

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
        if not force_refresh:
            value, freshness = self.lookup(key, fingerprint)
            if freshness is not Freshness.INVALID:
                return value  # type: ignore[return-value]
        called_at = self._generation
        with self.lock_for(key):
            value, freshness = self.lookup(key, fingerprint)
            entry = self._entries.get(key)
            if freshness is not Freshness.INVALID and (
                not force_refresh or (entry is not None and entry.generation > called_at)
            ):
                return value  # type: ignore[return-value]
            failure = self.failure_since(key, called_at, fingerprint)
            if failure is not None:
                raise failure
            try:
                value, keep = fetch()
            except Exception as err:
                self.fail(key, err, fingerprint)
                raise
            until = clock.mono() + max(0.0, keep)
            self.store(key, value, stale_at=until, invalid_at=until, fingerprint=fingerprint)
            return value

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)
        self._failures.pop(key, None)
        self._retry_at.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._failures.clear()
        self._retry_at.clear()

    def after_fork_in_child(self) -> None:
        """New locks (a parent's thread may have held one mid-fetch); cached values stay."""
        self._locks = {}
        self._guard = threading.Lock()

    def _next_generation(self) -> int:
        with self._guard:
            self._generation += 1
            return self._generation


def fresh_copy(error: Exception) -> Exception:
    """The same error without the first raiser's traceback (threads must not share one)."""
    try:
        return copy.copy(error)
    except Exception:  # noqa: BLE001 - an exception type that cannot be copied is raised as it is
        return error


__all__ = ["SingleFlightCache", "fresh_copy"]
