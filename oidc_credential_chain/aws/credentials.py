"""botocore's and aiobotocore's refreshable credentials, through their constructor seams.

The refresh windows and the clock are constructor arguments (``advisory_timeout``,
``mandatory_timeout``, ``time_fetcher``, present since botocore 1.34); the small
subclasses note when a caller entered ``get_frozen_credentials`` (public), so callers
queued behind a failed mandatory refresh share its error (:class:`.core.Refresher`), and
give a forked child a refresh lock of its own (:func:`.._seams.renew_refresh_lock`): a
lock held by a parent's thread at fork time would stay held forever in the child.
Classes are built on first use, for the botocore package a session belongs to (the AWS
CLI bundles its own copy), so importing this module imports no SDK.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import inspect
import threading
from typing import Any

from .._internal import clock
from ..lifecycle import reset_after_fork
from . import _seams
from .core import METHOD, Refresher, clear_entry, mark_entry


def now() -> datetime.datetime:
    """The library's clock as botocore's ``time_fetcher`` (the one ``StsCredentials`` reads)."""
    return datetime.datetime.fromtimestamp(clock.now(), datetime.timezone.utc)


@functools.cache
def refreshable_class(package: str = "botocore") -> type:
    """``<package>.credentials.RefreshableCredentials`` noting each caller's entry."""
    base: Any = importlib.import_module(f"{package}.credentials").RefreshableCredentials

    class OIDCRefreshableCredentials(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            reset_after_fork(self)

        def after_fork_in_child(self) -> None:
            _seams.renew_refresh_lock(self, threading.Lock())

        def get_frozen_credentials(self) -> Any:
            entry = mark_entry()
            try:
                return super().get_frozen_credentials()
            finally:
                clear_entry(entry)

    return OIDCRefreshableCredentials


@functools.cache
def aio_refreshable_class() -> type:
    """aiobotocore's ``AioRefreshableCredentials`` noting each caller's entry."""
    base: Any = importlib.import_module("aiobotocore.credentials").AioRefreshableCredentials

    class AioOIDCRefreshableCredentials(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            reset_after_fork(self)

        def after_fork_in_child(self) -> None:
            # The same hang as the sync lock: a task of the parent's loop held it, and that loop's
            # worker thread (running the exchange) does not exist in the child.  A new asyncio.Lock
            # also binds to whichever loop the child runs, not the parent's.
            import asyncio  # loaded by aiobotocore already; a sync one-shot process never needs it

            _seams.renew_refresh_lock(self, asyncio.Lock())

        async def get_frozen_credentials(self) -> Any:
            entry = mark_entry()
            try:
                return await super().get_frozen_credentials()
            finally:
                clear_entry(entry)

    return AioOIDCRefreshableCredentials


def build(cls: type, refresher: Refresher, refresh_using: Any) -> Any:
    """An instance of ``cls`` holding the refresher's current credentials."""
    current = refresher.current
    extra: dict[str, Any] = {}
    if current.account_id and _accepts_account_id(cls):
        extra["account_id"] = current.account_id
    return cls(
        access_key=current.access_key_id,
        secret_key=current.secret_access_key,
        token=current.session_token,
        expiry_time=current.expiration,
        refresh_using=refresh_using,
        method=METHOD,
        time_fetcher=now,
        advisory_timeout=refresher.windows.advisory,
        mandatory_timeout=refresher.windows.mandatory,
        **extra,
    )


@functools.cache
def _accepts_account_id(cls: type) -> bool:
    # account_id arrived in botocore 1.37; older releases have no such argument.
    botocore_cls: Any = next(c for c in cls.__mro__ if c.__name__ == "RefreshableCredentials")
    return "account_id" in inspect.signature(botocore_cls).parameters


__all__ = ["aio_refreshable_class", "build", "now", "refreshable_class"]
