"""Async twins: :class:`OIDCCredential` (an ``AsyncTokenCredential``) and :func:`token_provider`
for ``openai.AsyncAzureOpenAI``.  They never block the event loop: the ID token is fetched
in a worker thread and Entra is called through azure-core's async transport.

Example::

    from openai import AsyncAzureOpenAI
    from oidc_credential_chain.azure.aio import token_provider

    client = AsyncAzureOpenAI(azure_endpoint=endpoint, api_version="2024-10-21",
                              azure_ad_token_provider=token_provider("oidc/github/api://AzureADTokenExchange"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from ._credential import OIDCCredential
    from ._token_provider import token_provider

_LAZY = {"OIDCCredential": "._credential", "token_provider": "._token_provider"}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = ["OIDCCredential", "token_provider"]
