"""``OIDCCredential``: an azure-core ``TokenCredential`` fed by an ``oidc/...`` spec."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from .._internal import clock
from .._internal.log import get_logger
from ..errors import OIDCError
from ..idtoken import IdToken
from ..spec import Spec
from ._entra import AccessGrant, Exchange, merge_claims, read_token_response, token_request, unreachable_error
from ._errors import AzureCredentialUnavailableError, EntraExchangeError, as_azure_error
from ._grants import GrantCache, GrantKey, Need
from ._pipeline import build_pipeline, send_bounded, time_budget
from ._settings import Settings, check_scopes, resolve_settings

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

_log = get_logger("azure")

#: Entra's code for an assertion outside its valid time range: worth one retry with a fresh assertion.
ASSERTION_TIME_RANGE = "AADSTS700024"


class OIDCCredential:
    """A ``TokenCredential`` (and ``SupportsTokenInfo``) that presents the ID token a spec names to
    Entra ID as a federated client assertion.

    Missing arguments come from ``AZURE_FEDERATED_TOKEN`` (the spec), ``AZURE_TENANT_ID``,
    ``AZURE_CLIENT_ID`` and ``AZURE_AUTHORITY_HOST``; keyword arguments are azure-core
    transport options (``connection_verify``, ``proxies``, ``transport``, ``retry_total``...).
    Without a spec or a tenant, ``get_token`` raises ``CredentialUnavailableError``.

    Access tokens are cached per tenant and scopes and renewed in the advisory window that
    ``oidc_credential_chain._internal.refresh`` scales to their lifetime;
    concurrent callers share one request to Entra, and the ID token is fetched (fresh if
    need be) every time Entra is asked.

    Example::

        from azure.identity import ChainedTokenCredential, DefaultAzureCredential
        credential = ChainedTokenCredential(OIDCCredential.from_env(), DefaultAzureCredential())
        client = SecretClient(vault_url, credential=OIDCCredential("oidc/github/api://AzureADTokenExchange"))
    """

    def __init__(
        self,
        token: str | Spec | None = None,
        tenant_id: str | None = None,
        client_id: str | None = None,
        authority: str | None = None,
        *,
        additionally_allowed_tenants: Iterable[str] | None = None,
        file_cache: bool | None = None,
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
        self._pipeline = build_pipeline(**kwargs)
        self._cache = GrantCache()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # Share tokens with the host's other processes (None: OIDC_CREDENTIAL_CHAIN_CACHE decides).
        self._file_cache = file_cache

    @classmethod
    def from_env(cls, **kwargs: Any) -> OIDCCredential:
        """A credential whose spec comes from ``AZURE_FEDERATED_TOKEN`` (and the rest from ``AZURE_*``).

        Example: ``ChainedTokenCredential(OIDCCredential.from_env(), DefaultAzureCredential())``.
        """
        return cls(**kwargs)

    @property
    def settings(self) -> Settings:
        """The resolved spec, tenant, client ID and authority."""
        return self._settings

    def __repr__(self) -> str:
        s = self._settings
        spec = s.spec.text if s.spec else None
        return f"OIDCCredential(token={spec!r}, tenant_id={s.tenant_id!r}, client_id={s.client_id!r})"

    # azure-core protocols --------------------------------------------------------------
    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """An access token for ``scopes`` (``TokenCredential``)."""
        from azure.core.credentials import AccessToken

        grant = self._acquire(
            scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, method="get_token"
        )
        return AccessToken(grant.token, grant.expires_on)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """An access token with ``refresh_on`` (``SupportsTokenInfo``)."""
        options = options or {}
        grant = self._acquire(
            scopes,
            claims=options.get("claims"),
            tenant_id=options.get("tenant_id"),
            enable_cae=bool(options.get("enable_cae", False)),
            method="get_token_info",
        )
        return grant.info()

    def __enter__(self) -> OIDCCredential:
        self._pipeline.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._pipeline.__exit__(*args)
        if "transport" not in self._transport_options:
            # azure-core transports cannot reopen once closed; a fresh pipeline lets the credential
            # serve later calls (it connects only when it must ask Entra again).
            self._pipeline = build_pipeline(**self._transport_options)

    def close(self) -> None:
        """Close the HTTP connections (a later call that must ask Entra opens new ones)."""
        self.__exit__()

    # internals -------------------------------------------------------------------------
    def _key(
        self, scopes: tuple[str, ...], tenant_id: str | None = None, enable_cae: bool = False
    ) -> GrantKey:
        return (self._settings.tenant_for(tenant_id), scopes, enable_cae)

    def _require_available(self) -> None:
        reason = self._settings.unavailable_reason()
        if reason is not None:
            raise AzureCredentialUnavailableError(reason)

    def _lock_for(self, key: Hashable) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def _acquire(
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
                # A claims challenge: the cached token was rejected, so ask anew.
                with self._lock_for(key):
                    return self._renew(key, merge_claims(claims, enable_cae))
            return self._cached_or_renewed(key)
        except OIDCError as err:
            raise as_azure_error(err) from None

    def _cached_or_renewed(self, key: GrantKey) -> AccessGrant:
        cache = self._cache
        grant = cache.grants.get(key)
        need = cache.need(key, grant)
        if need is Need.USE:
            assert grant is not None
            return grant
        lock = self._lock_for(key)
        if need is Need.RENEW:
            assert grant is not None
            # Still valid: renew if nobody else is doing it, and keep it if renewal fails.
            if not lock.acquire(blocking=False):
                return grant
            try:
                current = cache.grants.get(key)
                if current is not grant and current is not None and cache.need(key, current) is Need.USE:
                    return current
                try:
                    return self._renew(key, merge_claims(None, key[2]))
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
            finally:
                lock.release()
        called_at = cache.generation
        with lock:
            current = cache.grants.get(key)
            if current is not None and cache.need(key, current) is Need.USE:
                return current  # another caller renewed it while this one waited
            failure = cache.failure_since(key, called_at)
            if failure is not None:
                raise failure  # the request this caller waited for failed just now
            return self._renew(key, merge_claims(None, key[2]))

    def _renew(self, key: GrantKey, claims: str | None) -> AccessGrant:
        """Ask Entra and cache the result; a failure is recorded for the callers waiting on it."""
        tenant, scopes, _cae = key
        try:
            grant = self._renew_once(tenant, scopes, claims)
        except OIDCError as err:
            self._cache.failed(key, err)
            raise
        self._cache.store(key, grant)
        return grant

    def _renew_once(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        """Ask Entra with a valid assertion; once more with a fresh one if Entra finds it out of range."""
        if claims is None:
            from .._internal.file_cache import open_cache

            cache = open_cache(explicit=self._file_cache)
            if cache is not None:
                from ._file_cache import grant_key, shared_grant

                key = grant_key(self._settings, tenant, scopes, self._assertion(force=False).claims)
                return shared_grant(cache, key, lambda: self._ask_entra(tenant, scopes, claims))
        return self._ask_entra(tenant, scopes, claims)

    def _ask_entra(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        try:
            grant = self._exchange(self._assertion(force=False), tenant, scopes, claims)
        except EntraExchangeError as err:
            if err.code != ASSERTION_TIME_RANGE:
                raise
            _log.info("%s found the assertion out of its time range; retrying with a fresh one", err.service)
            grant = self._exchange(self._assertion(force=True), tenant, scopes, claims)
        return grant

    def _assertion(self, *, force: bool) -> IdToken:
        from .._api import fetch_id_token

        assert self._settings.spec is not None
        return fetch_id_token(self._settings.spec, force_refresh=force)

    def _exchange(
        self, assertion: IdToken, tenant: str, scopes: tuple[str, ...], claims: str | None
    ) -> AccessGrant:
        from azure.core.exceptions import AzureError

        exchange = Exchange(self._settings, tenant, scopes, assertion, clock.now(), clock.mono())
        request = token_request(exchange, claims)
        try:
            status, text = send_bounded(self._pipeline, request, self._budget)
        except AzureError as err:
            raise unreachable_error(exchange, err, self._budget) from None
        return read_token_response(exchange, status, text)
