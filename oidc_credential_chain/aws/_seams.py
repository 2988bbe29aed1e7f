"""Every place the AWS side touches a botocore private, in one module.

botocore offers documented seams for almost everything this package needs
(``register_initializer``, ``Session.register_component``, ``CredentialResolver.insert_before``,
``RefreshableCredentials(time_fetcher=..., advisory_timeout=..., mandatory_timeout=...)``, the
``before-send`` event through which the STS client sends over the library's bounded transport).
What remains is here, each with the reason no public seam serves, and tested against the
oldest (1.34) and newest botocore the package supports:

- reading ``session._last_client_region_used`` and calling ``session._create_credential_resolver()``
  (reads only): the region of the session's first client decides the STS region when
  nothing else does, exactly as botocore's own credential chain is built with it; no
  public accessor exposes it;
- wrapping ``Session._create_credential_resolver`` only for a botocore without
  ``register_initializer`` (the AWS CLI v2's bundled copy);
- replacing ``RefreshableCredentials._refresh_lock`` on our own subclass's instances, in a
  forked child only (:func:`renew_refresh_lock`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_WRAPPED = "__wrapped__"


def last_client_region(session: Any) -> str | None:
    """The region of the most recent client the session created, if any."""
    region = getattr(session, "_last_client_region_used", None)
    return region if isinstance(region, str) and region else None


def default_resolver(session: Any) -> Any:
    """The credential resolver the session itself would build now (sync or aio)."""
    return session._create_credential_resolver()


def renew_refresh_lock(credentials: Any, lock: Any) -> None:
    """Give ``credentials`` (botocore's or aiobotocore's refreshable ones) a new refresh lock.

    Called in a forked child only.  ``os.fork`` copies the lock as it was: if a parent's
    thread was refreshing (in the mandatory window every caller waits on the lock), the
    child waits forever on a lock whose holder does not exist there.  botocore creates the
    lock in ``__init__`` and offers no way to replace it, so this is a write.
    """
    credentials._refresh_lock = lock


def wrap_resolver_factory(session_cls: type, wrap: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """Make ``session_cls`` pass every resolver it builds through ``wrap(session, resolver)``.

    Only for a botocore without ``register_initializer``; returns the installed function
    so that :func:`unwrap_resolver_factory` can take exactly it out again.
    """
    original = session_cls._create_credential_resolver  # type: ignore[attr-defined]

    def create_credential_resolver(self: Any) -> Any:
        return wrap(self, original(self))

    setattr(create_credential_resolver, _WRAPPED, original)
    session_cls._create_credential_resolver = create_credential_resolver  # type: ignore[attr-defined]
    return create_credential_resolver


def unwrap_resolver_factory(session_cls: type, installed: Callable[..., Any]) -> None:
    """Undo :func:`wrap_resolver_factory` if nobody replaced the factory since."""
    if session_cls._create_credential_resolver is installed:  # type: ignore[attr-defined]
        session_cls._create_credential_resolver = getattr(installed, _WRAPPED)  # type: ignore[attr-defined]


__all__ = [
    "default_resolver",
    "last_client_region",
    "renew_refresh_lock",
    "unwrap_resolver_factory",
    "wrap_resolver_factory",
]
