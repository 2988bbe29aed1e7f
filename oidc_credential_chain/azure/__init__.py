"""Azure: run Azure OpenAI and every Azure SDK client on an ``oidc/...`` federated identity.

- :class:`OIDCCredential`: an azure-core ``TokenCredential`` that presents the ID token a
  spec names to Entra ID as a federated client assertion (``OIDCCredential.from_env()``
  reads ``AZURE_FEDERATED_TOKEN``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``).
- :func:`token_provider`: the ``azure_ad_token_provider`` for ``openai.AzureOpenAI``.
- :mod:`oidc_credential_chain.azure.aio`: the async twins.

Example::

    from openai import AzureOpenAI
    from oidc_credential_chain.azure import token_provider

    client = AzureOpenAI(
        azure_endpoint="https://my-resource.openai.azure.com",
        api_version="2024-10-21",
        azure_ad_token_provider=token_provider("oidc/github/api://AzureADTokenExchange"),
    )

Importing this package imports no Azure library; they load when a name below is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from ._credential import OIDCCredential
    from ._errors import (
        AzureConfigurationError,
        AzureCredentialUnavailableError,
        AzureScopeError,
        AzureTokenFetchError,
        EntraExchangeError,
    )
    from ._token_provider import token_provider

_LAZY = {
    "OIDCCredential": "._credential",
    "token_provider": "._token_provider",
    "AzureConfigurationError": "._errors",
    "AzureCredentialUnavailableError": "._errors",
    "AzureScopeError": "._errors",
    "AzureTokenFetchError": "._errors",
    "EntraExchangeError": "._errors",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), submodules=("aio",))


__all__ = [
    "AzureConfigurationError",
    "AzureCredentialUnavailableError",
    "AzureScopeError",
    "AzureTokenFetchError",
    "EntraExchangeError",
    "OIDCCredential",
    "token_provider",
]
