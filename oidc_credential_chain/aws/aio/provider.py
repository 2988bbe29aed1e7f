"""The aiobotocore credential provider: the sync provider's core, awaited without blocking.

Decisions are :mod:`..core`'s; the exchange itself (ID token, STS, the per-process and file
caches, the retry policy) is the sync provider's, run in a worker thread, so the event loop
keeps running while an identity provider or STS is slow, and async and sync callers in
one process share one exchange.  The credentials are aiobotocore's own
``AioRefreshableCredentials`` (a subclass noting callers, see :mod:`..credentials`), with
the same refresh windows and backoff as the sync path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ...errors import OIDCError
from .. import core
from ..config import WebIdentityConfig
from ..core import CANONICAL_NAME, METHOD, Lookup, RefreshDecision, Refresher
from ..provider import OIDCWebIdentityProvider


class AioOIDCWebIdentityProvider:
    """An aiobotocore credential provider (``METHOD = "oidc-web-identity"``); ``load`` is async.

    Example::

        resolver = aiobotocore.credentials.create_credential_resolver(session)
        resolver.insert_before("assume-role", AioOIDCWebIdentityProvider(session))
    """

    METHOD = METHOD
    CANONICAL_NAME = CANONICAL_NAME

    def __init__(
        self,
        session: Any,
        *,
        config: WebIdentityConfig | None = None,
        environ: Mapping[str, str] | None = None,
        lookup: Lookup | None = None,
    ) -> None:
        self._session = session
        self._lookup = lookup or Lookup(config=config, environ=environ)
        self._sync: OIDCWebIdentityProvider | None = None

    def _exchanger(self) -> OIDCWebIdentityProvider:
        # Configuration and region come from the aiobotocore session; the STS client is made
        # from a synchronous session with the same profile, used only inside worker threads.
        if self._sync is None:
            self._sync = OIDCWebIdentityProvider(
                self._session, lookup=self._lookup, sts_session=_sync_twin(self._session)
            )
        return self._sync

    async def load(self) -> Any:
        """aiobotocore's hook: refreshable credentials, or None when no spec is configured."""
        try:
            if core.is_oidc_role_chain(self._session, self._lookup):
                from ..chain import aio_assume_role_provider

                name = core.profile_name_of(self._session, self._lookup)
                return await aio_assume_role_provider(self._session, name).load()
            exchanger = self._exchanger()
            found = await asyncio.to_thread(exchanger.resolve_and_exchange)
        except OIDCError as err:
            raise core.as_botocore_error(err) from None
        if found is None:
            return None
        from ..credentials import aio_refreshable_class, build

        refresher = _AsyncRefresher(*found, exchange=exchanger.exchange)
        return build(aio_refreshable_class(), refresher, refresher.refresh_using)


class _AsyncRefresher(Refresher):
    """:class:`Refresher` whose ``refresh_using`` awaits the exchange in a worker thread."""

    async def refresh_using(self) -> dict[str, Any]:
        decision, shared = self.decide()
        if decision is RefreshDecision.SHARE_FAILURE:
            assert shared is not None
            raise core.as_botocore_error(shared)
        if decision is RefreshDecision.KEEP:
            return self.kept()
        try:
            fresh = await asyncio.to_thread(self.renew)
        except Exception as err:  # noqa: BLE001 - failed() raises it when the refresh is mandatory
            return self.failed(err)
        return self.succeeded(fresh)


def _sync_twin(session: Any) -> Any:
    import botocore.session

    return botocore.session.Session(profile=session.instance_variables().get("profile"))


__all__ = ["AioOIDCWebIdentityProvider"]
