"""``token_provider``: the ``azure_ad_token_provider`` callable for ``openai.AzureOpenAI``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from .._internal import clock
from ..errors import OIDCError
from ..spec import Spec
from ._credential import OIDCCredential
from ._errors import as_azure_error
from ._settings import COGNITIVE_SERVICES_SCOPE, check_scopes, resolve_settings


def provider_scopes(scope: str | Sequence[str]) -> tuple[str, ...]:
    """``scope`` as a checked tuple (one string, or several)."""
    scopes = (scope,) if isinstance(scope, str) else tuple(scope)
    try:
        return check_scopes(scopes, method="token_provider")
    except OIDCError as err:
        raise as_azure_error(err) from None


_shared: dict[tuple[object, ...], OIDCCredential] = {}
_shared_lock = threading.Lock()


def shared_credential(
    token: str | Spec | None, tenant_id: str | None, client_id: str | None, authority: str | None
) -> OIDCCredential:
    """One credential per process for each (spec, tenant, client, authority).

    Code that builds a new client for every request (as LLM gateways do) then still asks
    Entra once per token lifetime rather than once per request.
    """
    try:
        settings = resolve_settings(token, tenant_id, client_id, authority)
    except OIDCError as err:
        raise as_azure_error(err) from None
    key = (settings.spec, settings.tenant_id, settings.client_id, settings.authority)
    with _shared_lock:
        credential = _shared.get(key)
        if credential is None:
            credential = _shared[key] = OIDCCredential(token, tenant_id, client_id, authority)
        return credential


def clear_shared_credentials() -> None:
    """Forget the credentials :func:`token_provider` shares (their cached access tokens too)."""
    with _shared_lock:
        _shared.clear()


def token_provider(
    token: str | Spec | None = None,
    scope: str | Sequence[str] = COGNITIVE_SERVICES_SCOPE,
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    authority: str | None = None,
    credential: OIDCCredential | None = None,
    **kwargs: Any,
) -> Callable[[], str]:
    """A ``Callable[[], str]`` returning an Entra access token for ``scope``, for
    ``AzureOpenAI(azure_ad_token_provider=...)``.

    openai calls it before every request and retry: while the cached token is fresh the
    call is a dictionary lookup and a clock read.  Configuration problems (no spec, tenant
    or client ID; an empty scope) are raised here, not at the first request.  Providers for
    the same spec, tenant and client share one credential (and its cache) per process unless
    transport options are given; ``credential`` supplies a specific :class:`OIDCCredential`.

    Example::

        client = AzureOpenAI(azure_endpoint=endpoint, api_version="2024-10-21",
                             azure_ad_token_provider=token_provider("oidc/google/api://AzureADTokenExchange"))
    """
    scopes = provider_scopes(scope)
    if credential is not None:
        cred = credential
    elif kwargs:
        cred = OIDCCredential(token, tenant_id, client_id, authority, **kwargs)
    else:
        cred = shared_credential(token, tenant_id, client_id, authority)
    try:
        cred._require_available()
        key = cred._key(scopes)
    except OIDCError as err:
        raise as_azure_error(err) from None
    grants = cred._cache.grants
    mono = clock.mono
    acquire = cred._acquire

    def provide() -> str:
        grant = grants.get(key)
        if grant is not None and mono() < grant.refresh_mono:
            return grant.token
        return acquire(scopes, method="token_provider").token

    return provide
