"""What the sync and async ``OIDCCredential`` share, free of I/O: construction, options, keys,
the grant decision, and building and reading the Entra request.

The shells (:mod:`._credential`, :mod:`.aio._credential`) only lock, send and await.
Access tokens live in a :class:`~oidc_credential_chain.lifecycle.SingleFlightCache` per
credential, judged by :class:`~oidc_credential_chain.lifecycle.Freshness`:

- FRESH: handed out (also a STALE one whose renewal failed a moment ago, until its backoff ends);
- STALE: handed out by every caller but one, which renews it; if that fails, the current
  token stays in use and renewal is tried again a little later;
- INVALID (missing, or too close to expiry): callers queue behind one request to Entra and
  share its answer, or its error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._internal import clock
from .._internal.log import get_logger
from ..errors import OIDCError
from ..idtoken import IdToken
from ..lifecycle import Freshness, SingleFlightCache, reset_after_fork
from ..spec import Spec
from ._entra import AccessGrant, Exchange, merge_claims, read_token_response, token_request, unreachable_error
from ._errors import AzureCredentialUnavailableError, EntraExchangeError, as_azure_error
from ._pipeline import time_budget
from ._refresh import retry_delay
from ._settings import Settings, check_scopes, resolve_settings

if TYPE_CHECKING:
    from azure.core.rest import HttpRequest

    from .._internal.file_cache import FileCache

_log = get_logger("azure")

#: Entra's code for an assertion outside its valid time range: worth one retry with a fresh assertion.
ASSERTION_TIME_RANGE = "AADSTS700024"

#: (tenant, scopes, CAE enabled): what one cached access token is for.
GrantKey = tuple[str, tuple[str, ...], bool]


class CredentialCore:
    """Settings, transport options and cached access tokens of one credential, and its decisions."""

    _name = "OIDCCredential"

    def __init__(
        self,
        token: str | Spec | None,
        tenant_id: str | None,
        client_id: str | None,
        authority: str | None,
        *,
        additionally_allowed_tenants: Iterable[str] | None,
        file_cache: bool | None,
        lock: Callable[[], Any],
        transport_options: dict[str, Any],
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
        self._budget = time_budget(transport_options)
        self._transport_options = transport_options
        self._grants: SingleFlightCache[GrantKey, AccessGrant] = SingleFlightCache(lock)
        # Share tokens with the host's other processes (None: OIDC_CREDENTIAL_CHAIN_CACHE decides).
        self._file_cache = file_cache
        self._pipeline = self._new_pipeline()
        reset_after_fork(self)

    def _new_pipeline(self) -> Any:
        """The shell's azure-core pipeline for ``self._transport_options``."""
        raise NotImplementedError

    def after_fork_in_child(self) -> None:
        """A forked child connects to Entra on its own (cached tokens stay); a transport the
        caller passed in is the caller's to manage."""
        if "transport" not in self._transport_options:
            self._pipeline = self._new_pipeline()

    @property
    def settings(self) -> Settings:
        """The resolved spec, tenant, client ID and authority."""
        return self._settings

    def __repr__(self) -> str:
        s = self._settings
        spec = s.spec.text if s.spec else None
        return f"{self._name}(token={spec!r}, tenant_id={s.tenant_id!r}, client_id={s.client_id!r})"

    # the grant decision ----------------------------------------------------------------
    def _key(
        self, scopes: tuple[str, ...], tenant_id: str | None = None, enable_cae: bool = False
    ) -> GrantKey:
        return (self._settings.tenant_for(tenant_id), scopes, enable_cae)

    def _require_available(self) -> None:
        reason = self._settings.unavailable_reason()
        if reason is not None:
            raise AzureCredentialUnavailableError(reason)

    def _request_key(
        self, scopes: tuple[str, ...], tenant_id: str | None, enable_cae: bool, method: str
    ) -> GrantKey:
        """The key of a request, after checking that one can be made (raises otherwise)."""
        self._require_available()
        return self._key(check_scopes(scopes, method=method), tenant_id, enable_cae)

    def _cached(self, key: GrantKey) -> tuple[AccessGrant | None, Freshness]:
        return self._grants.lookup(key)

    def _renewed_meanwhile(self, key: GrantKey, held: AccessGrant) -> AccessGrant | None:
        """A fresh token another caller stored since ``held`` was read (the renewal is then done)."""
        current, freshness = self._grants.lookup(key)
        return current if current is not held and freshness is Freshness.FRESH else None

    def _ready_after_wait(self, key: GrantKey, called_at: int) -> AccessGrant | None:
        """After waiting for the key's lock: a token another caller got meanwhile, or that caller's
        error (raised), or None when this caller must ask Entra itself."""
        current, freshness = self._grants.lookup(key)
        if current is not None and freshness is Freshness.FRESH:
            return current
        failure = self._grants.failure_since(key, called_at)
        if failure is not None:
            raise failure  # the request this caller waited for failed just now
        return None

    def _kept_after_failed_renewal(self, key: GrantKey, held: AccessGrant, err: OIDCError) -> AccessGrant:
        """An early renewal failed: keep the current token, try again later."""
        left = held.stale_mono - clock.mono()
        self._grants.renewal_failed(key, clock.mono() + retry_delay(left))
        _log.warning(
            "renewing the Entra access token for %s failed; the current one stays in use for %.0f s more: %s",
            self._settings.spec,
            left,
            err,
        )
        return held

    def _record(self, key: GrantKey, grant: AccessGrant | None, error: OIDCError | None = None) -> None:
        """Cache a new token, or note the failure for the callers waiting on this request."""
        if error is not None:
            self._grants.fail(key, error)
        else:
            assert grant is not None
            self._grants.store(key, grant, stale_at=grant.refresh_mono, invalid_at=grant.stale_mono)

    @staticmethod
    def _claims_for(key: GrantKey, challenge: str | None = None) -> str | None:
        return merge_claims(challenge, key[2])

    # the Entra request -------------------------------------------------------------------
    @staticmethod
    def _retry_with_fresh_assertion(err: EntraExchangeError) -> bool:
        """Entra found the assertion out of its time range: one retry with a fresh one is worth it."""
        if err.code != ASSERTION_TIME_RANGE:
            return False
        _log.info("%s found the assertion out of its time range; retrying with a fresh one", err.service)
        return True

    def _token_request(
        self, assertion: IdToken, tenant: str, scopes: tuple[str, ...], claims: str | None
    ) -> tuple[Exchange, HttpRequest]:
        exchange = Exchange(self._settings, tenant, scopes, assertion, clock.now(), clock.mono())
        return exchange, token_request(exchange, claims)

    def _read_answer(self, exchange: Exchange, status: int, text: str) -> AccessGrant:
        return read_token_response(exchange, status, text)

    def _unreachable(self, exchange: Exchange, err: BaseException) -> EntraExchangeError:
        return unreachable_error(exchange, err, self._budget)

    def _may_share(self, claims: str | None) -> bool:
        """Whether the file cache is on for this request (a cheap check, no I/O)."""
        from .._internal.file_cache import cache_enabled

        return claims is None and cache_enabled(explicit=self._file_cache)

    def _shared_file_cache(
        self, tenant: str, scopes: tuple[str, ...], claims: str | None
    ) -> tuple[FileCache, str] | None:
        """The host-wide file cache and this token's key in it, when enabled (never for a claims challenge).

        Reads files and may fetch the ID token: the async shell calls it in a worker thread.
        """
        if not self._may_share(claims):
            return None
        from .._internal.file_cache import open_cache

        cache = open_cache(explicit=self._file_cache)
        if cache is None:
            return None
        from .._api import fetch_id_token
        from ._file_cache import grant_key

        assert self._settings.spec is not None
        assertion = fetch_id_token(self._settings.spec)
        return cache, grant_key(self._settings, tenant, scopes, assertion.claims)


__all__ = ["ASSERTION_TIME_RANGE", "CredentialCore", "GrantKey"]
