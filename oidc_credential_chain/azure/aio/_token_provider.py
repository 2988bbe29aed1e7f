"""``aio.token_provider``: the async ``azure_ad_token_provider`` for ``openai.AsyncAzureOpenAI``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..._internal import clock
from ...spec import Spec
from .._settings import COGNITIVE_SERVICES_SCOPE
from .._token_provider import LastToken, check_available, provider_scopes
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
    # Nothing will close a credential made here: it connects only for each request to Entra.
    cred = credential or OIDCCredential(
        token, tenant_id, client_id, authority, keep_connections=False, **kwargs
    )
    check_available(cred.settings)
    last, mono = LastToken(), clock.mono

    async def provide() -> str:
        if mono() < last.until:
            return last.token
        return last.remember(await cred.get_token_info(*scopes))

    return provide
