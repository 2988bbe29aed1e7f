"""Fork safety: a child process starts with no lock held and no connection shared.

``os.fork`` copies every lock in the state it was in, held or not, and keeps only the
thread that forked.  A lock held by another thread (one that was fetching a token or
asking STS or Entra at that moment) would stay held forever in the child, and a pooled
connection would be shared by two processes writing to one socket.  So every object of
the library that owns a lock, an in-flight marker or a connection pool registers here,
and in the child (``os.register_at_fork(after_in_child=...)``) each one replaces them with
new ones.  Values stay: cached tokens and credentials that are still valid are reused by
the child, so pre-fork workers do not ask the identity provider or STS again.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from types import TracebackType
from typing import Any, Protocol


class ResetsAfterFork(Protocol):
    """An object that owns locks, in-flight markers or connections."""

    def after_fork_in_child(self) -> None:
        """Replace every lock and marker with a new one and drop pooled connections; keep values."""


_registered: weakref.WeakSet[ResetsAfterFork] = weakref.WeakSet()
#: How many children this process has been (for tests and diagnostics).
forks_seen = 0


def reset_after_fork(obj: ResetsAfterFork) -> None:
    """Have ``obj.after_fork_in_child()`` called in every child forked from now on.

    Held weakly: registering never keeps an object alive.

    Example::

        class Pool:
            def __init__(self) -> None:
                self._lock = threading.Lock()
                reset_after_fork(self)

            def after_fork_in_child(self) -> None:
                self._lock = threading.Lock()
    """
    _registered.add(obj)


class ForkSafeLock:
    """A lock (reentrant if asked) that a forked child gets anew, free: for locks held only
    briefly (naming a session, installing a provider) that need no class of their own.

    Example::

        _lock = ForkSafeLock()

        with _lock:
            ...
    """

    def __init__(self, *, reentrant: bool = False) -> None:
        self._reentrant = reentrant
        self._lock: Any = self._new_lock()
        reset_after_fork(self)

    def _new_lock(self) -> Any:
        return threading.RLock() if self._reentrant else threading.Lock()

    def after_fork_in_child(self) -> None:
        self._lock = self._new_lock()

    def __enter__(self) -> bool:
        return bool(self._lock.acquire())

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._lock.release()


def _after_fork_in_child() -> None:
    global forks_seen
    forks_seen += 1
    # Only the forking thread exists now, so nothing changes the set while it is walked.
    for obj in list(_registered):
        # One broken object must not leave the others locked.
        with contextlib.suppress(Exception):
            obj.after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere processes are spawned, never forked
    os.register_at_fork(after_in_child=_after_fork_in_child)


__all__ = ["ForkSafeLock", "ResetsAfterFork", "forks_seen", "reset_after_fork"]
