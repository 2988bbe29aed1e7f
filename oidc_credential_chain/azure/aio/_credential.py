"""The async ``OIDCCredential``: an azure-core ``AsyncTokenCredential`` that never blocks the loop.

The decisions are :class:`.._core.CredentialCore`'s; this shell locks with ``asyncio``,
sends through an async azure-core pipeline and runs file and ID-token work in worker threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ...errors import OIDCError
from ...idtoken import IdToken
from ...lifecycle import Freshness
from ...spec import Spec
from .._core import CredentialCore, GrantKey
from .._entra import AccessGrant
from .._errors import EntraExchangeError, as_azure_error
from .._pipeline import build_async_pipeline, send_bounded_async

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

T = TypeVar("T")


class OIDCCredential(CredentialCore):
    """The ``AsyncTokenCredential`` (and ``AsyncSupportsTokenInfo``) twin of
    :class:`oidc_credential_chain.azure.OIDCCredential`, with the same arguments.

    The ID token is fetched in a worker thread and Entra is called through azure-core's
    async transport (aiohttp, or requests in the executor when aiohttp is missing), so the
    event loop keeps running while either is slow.  Concurrent coroutines share one request.
    Use it in one event loop, and close it there (``async with`` or ``await close()``).

    ``file_cache=True`` shares access tokens with the host's other processes, as the sync
    credential does (``None``: ``OIDC_CREDENTIAL_CHAIN_CACHE`` decides): the cache's files and
    its cross-process lock are handled in a worker thread, the request to Entra runs on the
    loop, and of the processes that miss together only one asks Entra.
    ``keep_connections=False`` opens connections for each request to Entra and closes them
    after it, for a credential that nothing will close (``aio.token_provider`` makes such ones).

    Example::

        async with OIDCCredential("oidc/github/api://AzureADTokenExchange") as credential:
            token = await credential.get_token("https://cognitiveservices.azure.com/.default")
    """

    _name = "aio.OIDCCredential"

    def __init__(
        self,
        token: str | Spec | None = None,
        tenant_id: str | None = None,
        client_id: str | None = None,
        authority: str | None = None,
        *,
        additionally_allowed_tenants: Iterable[str] | None = None,
        file_cache: bool | None = None,
        keep_connections: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            token,
            tenant_id,
            client_id,
            authority,
            additionally_allowed_tenants=additionally_allowed_tenants,
            file_cache=file_cache,
            lock=asyncio.Lock,
            transport_options=kwargs,
        )
        self._keep_connections = keep_connections

    def _new_pipeline(self) -> Any:
        return build_async_pipeline(**self._transport_options)

    @classmethod
    def from_env(cls, **kwargs: Any) -> OIDCCredential:
        """A credential whose spec comes from ``AZURE_FEDERATED_TOKEN`` (and the rest from ``AZURE_*``)."""
        return cls(**kwargs)

    # azure-core protocols --------------------------------------------------------------
    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """An access token for ``scopes`` (``AsyncTokenCredential``)."""
        from azure.core.credentials import AccessToken

        grant = await self._acquire(scopes, claims, tenant_id, enable_cae, "get_token")
        return AccessToken(grant.token, grant.expires_on)

    async def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        """An access token with ``refresh_on`` (``AsyncSupportsTokenInfo``)."""
        o = options or {}
        cae = bool(o.get("enable_cae", False))
        return (
            await self._acquire(scopes, o.get("claims"), o.get("tenant_id"), cae, "get_token_info")
        ).info()

    async def __aenter__(self) -> OIDCCredential:
        await self._pipeline.__aenter__()
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self._pipeline.__aexit__(*args)
        if "transport" not in self._transport_options:
            self._pipeline = self._new_pipeline()

    async def close(self) -> None:
        """Close the HTTP connections (a later call that must ask Entra opens new ones)."""
        await self.__aexit__()

    # locking, awaiting and sending ---------------------------------------------------------
    async def _acquire(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool, method: str
    ) -> AccessGrant:
        try:
            key = self._request_key(scopes, tenant_id, cae, method)
            if claims:
                async with self._grants.lock_for(key):
                    return await self._renew(key, self._claims_for(key, claims))
            return await self._cached_or_renewed(key)
        except OIDCError as err:
            raise as_azure_error(err) from None

    async def _cached_or_renewed(self, key: GrantKey) -> AccessGrant:
        grant, freshness = self._cached(key)
        if freshness is Freshness.FRESH:
            assert grant is not None
            return grant
        lock: asyncio.Lock = self._grants.lock_for(key)
        if freshness is Freshness.STALE:
            assert grant is not None
            if lock.locked():
                return grant  # another coroutine is renewing it; this one is still valid
            async with lock:
                renewed = self._renewed_meanwhile(key, grant)
                try:
                    return renewed or await self._renew(key, self._claims_for(key))
                except OIDCError as err:
                    return self._kept_after_failed_renewal(key, grant, err)
        called_at = self._grants.generation
        async with lock:
            ready = self._ready_after_wait(key, called_at)
            return ready or await self._renew(key, self._claims_for(key))

    async def _renew(self, key: GrantKey, claims: str | None) -> AccessGrant:
        """Ask Entra and cache the result; a failure is recorded for the callers waiting on it."""
        tenant, scopes, _cae = key
        try:
            grant = await self._renew_once(tenant, scopes, claims)
        except OIDCError as err:
            self._record(key, None, err)
            raise
        self._record(key, grant)
        return grant

    async def _renew_once(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        if not self._may_share(claims):
            return await self._ask_entra(tenant, scopes, claims)
        shared = await asyncio.to_thread(self._shared_file_cache, tenant, scopes, claims)
        if shared is None:
            return await self._ask_entra(tenant, scopes, claims)
        from .._file_cache import shared_grant

        loop = asyncio.get_running_loop()

        def ask_on_the_loop() -> AccessGrant:
            # Runs in the thread holding the cache entry's lock; the loop stays free to ask Entra.
            return asyncio.run_coroutine_threadsafe(self._ask_entra(tenant, scopes, claims), loop).result()

        return await _in_own_thread(lambda: shared_grant(*shared, ask_on_the_loop))

    async def _ask_entra(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        """Ask Entra with a valid assertion; once more with a fresh one if Entra finds it out of range."""
        try:
            return await self._exchange(await self._assertion(force=False), tenant, scopes, claims)
        except EntraExchangeError as err:
            if not self._retry_with_fresh_assertion(err):
                raise
            return await self._exchange(await self._assertion(force=True), tenant, scopes, claims)

    async def _assertion(self, *, force: bool) -> IdToken:
        from ...aio import fetch_id_token

        assert self._settings.spec is not None
        return await fetch_id_token(self._settings.spec, force_refresh=force)

    async def _exchange(
        self, assertion: IdToken, tenant: str, scopes: tuple[str, ...], claims: str | None
    ) -> AccessGrant:
        from azure.core.exceptions import AzureError

        exchange, request = self._token_request(assertion, tenant, scopes, claims)
        try:
            if self._keep_connections:
                status, text = await send_bounded_async(self._pipeline, request, self._budget)
            else:
                async with self._new_pipeline() as pipeline:
                    status, text = await send_bounded_async(pipeline, request, self._budget)
        except AzureError as err:
            raise self._unreachable(exchange, err) from None
        return self._read_answer(exchange, status, text)


async def _in_own_thread(fn: Callable[[], T]) -> T:
    """``fn()`` in a thread of its own.  Not the loop's default executor: a thread waiting there
    for another credential's cache lock would hold a worker that the lock holder's own ID-token
    fetch (``asyncio.to_thread``) may need, and with a few such waiters the executor runs dry."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = fn()
        except BaseException as err:  # noqa: BLE001 - handed to the awaiting coroutine
            loop.call_soon_threadsafe(settle, None, err)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=run, name="oidc-credential-chain file cache", daemon=True).start()
    return await future
