"""An expiry-aware cache with single-flight fetching.

Concurrent callers asking for the same key while nothing valid is cached share one
fetch: the first does the work, the others wait for its result.  A caller can demand a
fresh value (after a relying party rejected the last one); callers that were already
waiting when that refresh finished reuse it instead of fetching again.  A failed fetch is
shared the same way: callers that waited for it get its error rather than queueing up to
repeat it one after another (each with its own retries against an endpoint that is down).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from ._internal import clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclasses.dataclass
class _Entry(Generic[V]):
    value: V
    refresh_at: float  # monotonic
    fingerprint: object
    generation: int


@dataclasses.dataclass
class _Failure:
    error: Exception
    fingerprint: object
    generation: int


class ExpiringCache(Generic[K, V]):
    """Values with a monotonic refresh deadline, fetched at most once at a time per key.

    Example::

        cache: ExpiringCache[str, str] = ExpiringCache()
        value = cache.get("k", lambda: ("v", 60.0))   # fetch returns (value, seconds to keep)
    """

    def __init__(self) -> None:
        self._entries: dict[K, _Entry[V]] = {}
        self._failures: dict[K, _Failure] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._guard = threading.Lock()
        self._generation = 0

    def _lock_for(self, key: K) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def peek(self, key: K) -> V | None:
        """The cached value if still fresh, without fetching."""
        entry = self._entries.get(key)
        if entry is not None and clock.mono() < entry.refresh_at:
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
        seen = self._entries.get(key)
        if not force_refresh and self._usable(seen, fingerprint):
            assert seen is not None
            return seen.value
        # Every completed fetch, good or bad, gets a higher generation than any before it.
        with self._guard:
            called_at = self._generation
        with self._lock_for(key):
            entry = self._entries.get(key)
            if (
                entry is not None
                and self._usable(entry, fingerprint)
                and (not force_refresh or entry.generation > called_at)
            ):
                return entry.value
            failure = self._failures.get(key)
            if failure is not None and failure.generation > called_at and failure.fingerprint == fingerprint:
                raise _fresh_copy(failure.error)
            try:
                value, keep = fetch()
            except Exception as err:
                self._failures[key] = _Failure(err, fingerprint, self._next_generation())
                raise
            self._failures.pop(key, None)
            entry = _Entry(value, clock.mono() + max(0.0, keep), fingerprint, self._next_generation())
            self._entries[key] = entry
            return value

    def _next_generation(self) -> int:
        with self._guard:
            self._generation += 1
            return self._generation

    @staticmethod
    def _usable(entry: _Entry[V] | None, fingerprint: object) -> bool:
        return entry is not None and entry.fingerprint == fingerprint and clock.mono() < entry.refresh_at

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)
        self._failures.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._failures.clear()


def _fresh_copy(error: Exception) -> Exception:
    """The same error without the first raiser's traceback (threads must not share one)."""
    try:
        return copy.copy(error)
    except Exception:  # noqa: BLE001 - an exception type that cannot be copied is raised as it is
        return error
