"""Async twins of the package's top-level functions; they never block the event loop."""

from __future__ import annotations

import asyncio

from ._api import fetch_id_token as _fetch_id_token
from .idtoken import IdToken
from .spec import Spec


async def fetch_id_token(spec: str | Spec, *, force_refresh: bool = False) -> IdToken:
    """Async :func:`oidc_credential_chain.fetch_id_token`.

    The fetch runs in a worker thread and shares the process-wide cache and single-flight
    with synchronous callers.
    """
    return await asyncio.to_thread(_fetch_id_token, spec, force_refresh=force_refresh)


async def get_id_token(spec: str | Spec, force_refresh: bool = False) -> str:
    """Async :func:`oidc_credential_chain.get_id_token`.

    Example::

        token = await oidc_credential_chain.aio.get_id_token("oidc/github/sts.amazonaws.com")
    """
    return (await fetch_id_token(spec, force_refresh=force_refresh)).value


__all__ = ["fetch_id_token", "get_id_token"]
