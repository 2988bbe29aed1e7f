"""One owner for the library's process-wide state, with a module default.

Every cache and shared object the library keeps per process (ID tokens, STS exchanges,
the credentials ``token_provider`` shares, the HTTP client, loaded providers, warnings
already given) is declared once, at module level, as an :class:`Owned` slot; its value
belongs to the current :class:`Lifecycle`.  A program has one owner for its whole life.
A test that wants a clean process installs a fresh owner (:func:`fresh`) instead of
clearing each cache in turn; when it ends, the previous owner and its state are back.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

from .fork import reset_after_fork
from .policy import RefreshPolicy

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lifecycle:
    """The owner of the process-wide caches and shared objects, and of the refresh policy.

    Example::

        with fresh(Lifecycle(policy=RefreshPolicy(jitter=0))) as owner:
            get_id_token("oidc/github/sts.amazonaws.com")   # cached in ``owner`` only
    """

    def __init__(self, *, policy: RefreshPolicy | None = None) -> None:
        self.policy = policy or RefreshPolicy()
        self._values: weakref.WeakKeyDictionary[Owned[Any], Any] = weakref.WeakKeyDictionary()
        # Re-entrant: a slot's factory may read another slot.
        self._guard = threading.RLock()
        reset_after_fork(self)

    def value_of(self, slot: Owned[T]) -> T:
        """``slot``'s value in this owner, created on first use."""
        with self._guard:
            try:
                value: T = self._values[slot]
            except KeyError:
                value = self._values[slot] = slot.factory()
            return value

    def after_fork_in_child(self) -> None:
        self._guard = threading.RLock()

    def __repr__(self) -> str:
        return f"Lifecycle(policy={self.policy!r}, slots={len(self._values)})"


_current = Lifecycle()


def current() -> Lifecycle:
    """The owner in force (the module default unless a test installed another)."""
    return _current


def install(owner: Lifecycle) -> Lifecycle:
    """Make ``owner`` the current one; returns the one it replaces."""
    global _current
    previous, _current = _current, owner
    return previous


@contextlib.contextmanager
def fresh(owner: Lifecycle | None = None) -> Iterator[Lifecycle]:
    """A new owner for the duration of the block (empty caches, nothing shared, nothing warned).

    Example::

        with fresh():
            ...  # the first get_id_token fetches, whatever ran before
    """
    owner = owner or Lifecycle()
    previous = install(owner)
    try:
        yield owner
    finally:
        install(previous)


class Owned(Generic[T]):
    """A module-level declaration of per-process state whose value lives in the current owner.

    Example::

        _clients: Owned[dict[str, Client]] = Owned(dict, "clients")
        _clients.get()["x"] = Client()
    """

    __slots__ = ("__weakref__", "_bound", "factory", "name")

    def __init__(self, factory: Callable[[], T], name: str = "") -> None:
        self.factory = factory
        self.name = name or getattr(factory, "__name__", "state")
        self._bound: tuple[Lifecycle, T] | None = None

    def get(self) -> T:
        """The value in the current owner (one attribute read and a comparison when warm)."""
        bound = self._bound
        owner = _current
        if bound is not None and bound[0] is owner:
            return bound[1]
        value = owner.value_of(self)
        self._bound = (owner, value)  # one assignment: readers see both halves or neither
        return value

    def __repr__(self) -> str:
        return f"Owned({self.name})"


class SharedInstances(Generic[K, V]):
    """Objects made once per key and shared by the whole process (credentials, providers).

    Example::

        _shared: Owned[SharedInstances[str, Credential]] = Owned(SharedInstances, "credentials")
        credential = _shared.get().get_or_create(key, lambda: Credential(...))
    """

    def __init__(self) -> None:
        self._items: dict[K, V] = {}
        self._lock = threading.RLock()
        reset_after_fork(self)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def get_or_create(self, key: K, create: Callable[[], V]) -> V:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                item = self._items[key] = create()
            return item

    def add(self, key: K) -> bool:
        """Note ``key`` (with the value True); False when it was already there."""
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = True  # type: ignore[assignment]
            return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def after_fork_in_child(self) -> None:
        self._lock = threading.RLock()


__all__ = ["Lifecycle", "Owned", "SharedInstances", "current", "fresh", "install"]
