"""The async ``OIDCCredential``: an azure-core ``AsyncTokenCredential`` that never blocks the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from ..._internal import clock
from ..._internal.log import get_logger
from ...errors import OIDCError
from ...idtoken import IdToken
from ...spec import Spec
from .._credential import ASSERTION_TIME_RANGE
from .._entra import (
    AccessGrant,
    Exchange,
    merge_claims,
    read_token_response,
    token_request,
    unreachable_error,
)
from .._errors import AzureCredentialUnavailableError, EntraExchangeError, as_azure_error
from .._grants import GrantCache, GrantKey, Need
from .._pipeline import build_async_pipeline, send_bounded_async, time_budget
from .._settings import Settings, check_scopes, resolve_settings

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

_log = get_logger("azure")


class OIDCCredential:
    """The ``AsyncTokenCredential`` (and ``AsyncSupportsTokenInfo``) twin of
    :class:`oidc_credential_chain.azure.OIDCCredential`, with the same arguments.

    The ID token is fetched in a worker thread and Entra is called through azure-core's
    async transport (aiohttp, or requests in the executor when aiohttp is missing), so the
    event loop keeps running while either is slow.  Concurrent coroutines share one request.
    Use it in one event loop, and close it there (``async with`` or ``await close()``).

    Example::

        async with OIDCCredential("oidc/github/api://AzureADTokenExchange") as credential:
            token = await credential.get_token("https://cognitiveservices.azure.com/.default")
    """

    def __init__(
        self,
        token: str | Spec | None = None,
        tenant_id: str | None = None,
        client_id: str | None = None,
        authority: str | None = None,
        *,
        additionally_allowed_tenants: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._settings = resolve_settings(
                token,
                tenant_id,
                client_id,
                authority,
                additionally_allowed_tenants=additionally_allowed_tenants,
            )
        except OIDCError as err:
            raise as_azure_error(err) from None
        self._budget = time_budget(kwargs)
        self._transport_options = kwargs
        self._pipeline = build_async_pipeline(**kwargs)
        self._cache = GrantCache()
        self._locks: dict[Hashable, asyncio.Lock] = {}
        #: Set by :func:`token_provider` for the credential it owns, which nothing ever closes.
        self._close_after_exchange = False

    @classmethod
    def from_env(cls, **kwargs: Any) -> OIDCCredential:
        """A credential whose spec comes from ``AZURE_FEDERATED_TOKEN`` (and the rest from ``AZURE_*``)."""
        return cls(**kwargs)

    @property
    def settings(self) -> Settings:
        return self._settings

    def __repr__(self) -> str:
        s = self._settings
        spec = s.spec.text if s.spec else None
        return f"aio.OIDCCredential(token={spec!r}, tenant_id={s.tenant_id!r}, client_id={s.client_id!r})"

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

        grant = await self._acquire(
            scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, method="get_token"
        )
        return AccessToken(grant.token, grant.expires_on)

    async def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        """An access token with ``refresh_on`` (``AsyncSupportsTokenInfo``)."""
        options = options or {}
        grant = await self._acquire(
            scopes,
            claims=options.get("claims"),
            tenant_id=options.get("tenant_id"),
            enable_cae=bool(options.get("enable_cae", False)),
            method="get_token_info",
        )
        return grant.info()

    async def __aenter__(self) -> OIDCCredential:
        await self._pipeline.__aenter__()
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self._pipeline.__aexit__(*args)
        if "transport" not in self._transport_options:
            self._pipeline = build_async_pipeline(**self._transport_options)

    async def close(self) -> None:
        """Close the HTTP connections (a later call that must ask Entra opens new ones)."""
        await self.__aexit__()

    # internals -------------------------------------------------------------------------
    def _key(
        self, scopes: tuple[str, ...], tenant_id: str | None = None, enable_cae: bool = False
    ) -> GrantKey:
        return (self._settings.tenant_for(tenant_id), scopes, enable_cae)

    def _require_available(self) -> None:
        reason = self._settings.unavailable_reason()
        if reason is not None:
            raise AzureCredentialUnavailableError(reason)

    def _lock_for(self, key: Hashable) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _acquire(
        self,
        scopes: tuple[str, ...],
        *,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        method: str = "get_token",
    ) -> AccessGrant:
        try:
            self._require_available()
            key = self._key(check_scopes(scopes, method=method), tenant_id, enable_cae)
            if claims:
                async with self._lock_for(key):
                    return await self._renew(key, merge_claims(claims, enable_cae))
            return await self._cached_or_renewed(key)
        except OIDCError as err:
            raise as_azure_error(err) from None

    async def _cached_or_renewed(self, key: GrantKey) -> AccessGrant:
        cache = self._cache
        grant = cache.grants.get(key)
        need = cache.need(key, grant)
        if need is Need.USE:
            assert grant is not None
            return grant
        lock = self._lock_for(key)
        if need is Need.RENEW:
            assert grant is not None
            if lock.locked():
                return grant  # another coroutine is renewing it; this one is still valid
            async with lock:
                current = cache.grants.get(key)
                if current is not grant and current is not None and cache.need(key, current) is Need.USE:
                    return current
                try:
                    return await self._renew(key, merge_claims(None, key[2]))
                except OIDCError as err:
                    left = cache.renewal_failed(key, grant)
                    _log.warning(
                        "renewing the Entra access token for %s failed; the current one stays in use for "
                        "%.0f s more: %s",
                        self._settings.spec,
                        left,
                        err,
                    )
                    return grant
        called_at = cache.generation
        async with lock:
            current = cache.grants.get(key)
            if current is not None and cache.need(key, current) is Need.USE:
                return current
            failure = cache.failure_since(key, called_at)
            if failure is not None:
                raise failure  # the request this caller waited for failed just now
            return await self._renew(key, merge_claims(None, key[2]))

    async def _renew(self, key: GrantKey, claims: str | None) -> AccessGrant:
        """Ask Entra and cache the result; a failure is recorded for the callers waiting on it."""
        tenant, scopes, _cae = key
        try:
            grant = await self._renew_once(tenant, scopes, claims)
        except OIDCError as err:
            self._cache.failed(key, err)
            raise
        self._cache.store(key, grant)
        return grant

    async def _renew_once(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        """Ask Entra with a valid assertion; once more with a fresh one if Entra finds it out of range."""
        try:
            grant = await self._exchange(await self._assertion(force=False), tenant, scopes, claims)
        except EntraExchangeError as err:
            if err.code != ASSERTION_TIME_RANGE:
                raise
            _log.info("%s found the assertion out of its time range; retrying with a fresh one", err.service)
            grant = await self._exchange(await self._assertion(force=True), tenant, scopes, claims)
        return grant

    async def _assertion(self, *, force: bool) -> IdToken:
        from ...aio import fetch_id_token

        assert self._settings.spec is not None
        return await fetch_id_token(self._settings.spec, force_refresh=force)

    async def _exchange(
        self, assertion: IdToken, tenant: str, scopes: tuple[str, ...], claims: str | None
    ) -> AccessGrant:
        from azure.core.exceptions import AzureError

        exchange = Exchange(self._settings, tenant, scopes, assertion, clock.now(), clock.mono())
        request = token_request(exchange, claims)
        try:
            if self._close_after_exchange:
                # Nobody will close this credential: open connections only for the exchange.
                async with build_async_pipeline(**self._transport_options) as pipeline:
                    status, text = await send_bounded_async(pipeline, request, self._budget)
            else:
                status, text = await send_bounded_async(self._pipeline, request, self._budget)
        except AzureError as err:
            raise unreachable_error(exchange, err, self._budget) from None
        return read_token_response(exchange, status, text)
