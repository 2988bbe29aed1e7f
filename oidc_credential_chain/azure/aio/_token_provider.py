"""``aio.token_provider``: the async ``azure_ad_token_provider`` for ``openai.AsyncAzureOpenAI``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..._internal import clock
from ...errors import OIDCError
from ...spec import Spec
from .._errors import as_azure_error
from .._settings import COGNITIVE_SERVICES_SCOPE
from .._token_provider import provider_scopes
from ._credential import OIDCCredential


def token_provider(
    token: str | Spec | None = None,
    scope: str | Sequence[str] = COGNITIVE_SERVICES_SCOPE,
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    authority: str | None = None,
    credential: OIDCCredential | None = None,
    **kwargs: Any,
) -> Callable[[], Awaitable[str]]:
    """An async ``Callable[[], Awaitable[str]]`` returning an Entra access token for ``scope``, for
    ``AsyncAzureOpenAI(azure_ad_token_provider=...)``.

    While the cached token is fresh, awaiting it does no I/O.  Configuration problems are
    raised here, not at the first request.

    Example::

        client = AsyncAzureOpenAI(azure_endpoint=endpoint, api_version="2024-10-21",
                                  azure_ad_token_provider=token_provider("oidc/github/api://AzureADTokenExchange"))
    """
    scopes = provider_scopes(scope)
    if credential is not None:
        cred = credential
    else:
        cred = OIDCCredential(token, tenant_id, client_id, authority, **kwargs)
        cred._close_after_exchange = True
    try:
        cred._require_available()
        key = cred._key(scopes)
    except OIDCError as err:
        raise as_azure_error(err) from None
    grants = cred._cache.grants
    mono = clock.mono
    acquire = cred._acquire

    async def provide() -> str:
        grant = grants.get(key)
        if grant is not None and mono() < grant.refresh_mono:
            return grant.token
        return (await acquire(scopes, method="token_provider")).token

    return provide
