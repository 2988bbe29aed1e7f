"""``OIDCCredential``: an azure-core ``TokenCredential`` fed by an ``oidc/...`` spec.

The decisions are :class:`._core.CredentialCore`'s; this shell locks with ``threading`` and
sends through a synchronous azure-core pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import OIDCError
from ..idtoken import IdToken
from ..lifecycle import Freshness
from ..spec import Spec
from ._core import ASSERTION_TIME_RANGE, CredentialCore, GrantKey
from ._entra import AccessGrant
from ._errors import EntraExchangeError, as_azure_error
from ._pipeline import build_pipeline, send_bounded

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions


class OIDCCredential(CredentialCore):
    """A ``TokenCredential`` (and ``SupportsTokenInfo``) that presents the ID token a spec names to
    Entra ID as a federated client assertion.

    Missing arguments come from ``AZURE_FEDERATED_TOKEN`` (the spec), ``AZURE_TENANT_ID``,
    ``AZURE_CLIENT_ID`` and ``AZURE_AUTHORITY_HOST``; keyword arguments are azure-core
    transport options (``connection_verify``, ``proxies``, ``transport``, ``retry_total``...).
    Without a spec or a tenant, ``get_token`` raises ``CredentialUnavailableError``.

    Access tokens are cached per tenant and scopes and renewed in the advisory window that
    the library's refresh policy (:mod:`oidc_credential_chain.lifecycle`) scales to their
    lifetime; concurrent callers share one request to Entra, and the ID token is fetched
    (fresh if need be) every time Entra is asked.  ``file_cache=True`` shares access tokens
    with the host's other processes (``None``: ``OIDC_CREDENTIAL_CHAIN_CACHE`` decides).

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
        super().__init__(
            token,
            tenant_id,
            client_id,
            authority,
            additionally_allowed_tenants=additionally_allowed_tenants,
            file_cache=file_cache,
            lock=threading.Lock,
            transport_options=kwargs,
        )

    def _new_pipeline(self) -> Any:
        return build_pipeline(**self._transport_options)

    @classmethod
    def from_env(cls, **kwargs: Any) -> OIDCCredential:
        """A credential whose spec comes from ``AZURE_FEDERATED_TOKEN`` (and the rest from ``AZURE_*``).

        Example: ``ChainedTokenCredential(OIDCCredential.from_env(), DefaultAzureCredential())``.
        """
        return cls(**kwargs)

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

        grant = self._acquire(scopes, claims, tenant_id, enable_cae, "get_token")
        return AccessToken(grant.token, grant.expires_on)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """An access token with ``refresh_on`` (``SupportsTokenInfo``)."""
        o = options or {}
        cae = bool(o.get("enable_cae", False))
        return self._acquire(scopes, o.get("claims"), o.get("tenant_id"), cae, "get_token_info").info()

    def __enter__(self) -> OIDCCredential:
        self._pipeline.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._pipeline.__exit__(*args)
        if "transport" not in self._transport_options:
            # azure-core transports cannot reopen once closed; a fresh pipeline lets the credential
            # serve later calls (it connects only when it must ask Entra again).
            self._pipeline = self._new_pipeline()

    def close(self) -> None:
        """Close the HTTP connections (a later call that must ask Entra opens new ones)."""
        self.__exit__()

    # locking and sending -----------------------------------------------------------------
    def _acquire(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool, method: str
    ) -> AccessGrant:
        try:
            key = self._request_key(scopes, tenant_id, cae, method)
            if claims:
                # A claims challenge: the cached token was rejected, so ask anew.
                with self._grants.lock_for(key):
                    return self._renew(key, self._claims_for(key, claims))
            return self._cached_or_renewed(key)
        except OIDCError as err:
            raise as_azure_error(err) from None

    def _cached_or_renewed(self, key: GrantKey) -> AccessGrant:
        grant, freshness = self._cached(key)
        if freshness is Freshness.FRESH:
            assert grant is not None
            return grant
        lock = self._grants.lock_for(key)
        if freshness is Freshness.STALE:
            assert grant is not None
            # Still valid: renew if nobody else is doing it, and keep it if renewal fails.
            if not lock.acquire(blocking=False):
                return grant
            try:
                renewed = self._renewed_meanwhile(key, grant)
                return renewed or self._renew(key, self._claims_for(key))
            except OIDCError as err:
                return self._kept_after_failed_renewal(key, grant, err)
            finally:
                lock.release()
        called_at = self._grants.generation
        with lock:
            ready = self._ready_after_wait(key, called_at)
            return ready or self._renew(key, self._claims_for(key))

    def _renew(self, key: GrantKey, claims: str | None) -> AccessGrant:
        """Ask Entra and cache the result; a failure is recorded for the callers waiting on it."""
        tenant, scopes, _cae = key
        try:
            grant = self._renew_once(tenant, scopes, claims)
        except OIDCError as err:
            self._record(key, None, err)
            raise
        self._record(key, grant)
        return grant

    def _renew_once(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        shared = self._shared_file_cache(tenant, scopes, claims)
        if shared is None:
            return self._ask_entra(tenant, scopes, claims)
        from ._file_cache import shared_grant

        return shared_grant(*shared, lambda: self._ask_entra(tenant, scopes, claims))

    def _ask_entra(self, tenant: str, scopes: tuple[str, ...], claims: str | None) -> AccessGrant:
        """Ask Entra with a valid assertion; once more with a fresh one if Entra finds it out of range."""
        try:
            return self._exchange(self._assertion(force=False), tenant, scopes, claims)
        except EntraExchangeError as err:
            if not self._retry_with_fresh_assertion(err):
                raise
            return self._exchange(self._assertion(force=True), tenant, scopes, claims)

    def _assertion(self, *, force: bool) -> IdToken:
        from .._api import fetch_id_token

        assert self._settings.spec is not None
        return fetch_id_token(self._settings.spec, force_refresh=force)

    def _exchange(
        self, assertion: IdToken, tenant: str, scopes: tuple[str, ...], claims: str | None
    ) -> AccessGrant:
        from azure.core.exceptions import AzureError

        exchange, request = self._token_request(assertion, tenant, scopes, claims)
        try:
            status, text = send_bounded(self._pipeline, request, self._budget)
        except AzureError as err:
            raise self._unreachable(exchange, err) from None
        return self._read_answer(exchange, status, text)


__all__ = ["ASSERTION_TIME_RANGE", "OIDCCredential"]
