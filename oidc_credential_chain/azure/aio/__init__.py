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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._credential import OIDCCredential
    from ._token_provider import token_provider

_LAZY = {"OIDCCredential": "._credential", "token_provider": "._token_provider"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["OIDCCredential", "token_provider"]
