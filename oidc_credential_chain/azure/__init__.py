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

if TYPE_CHECKING:
    from typing import Any

    from . import aio as aio
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

_SUBPACKAGES = ("aio",)


# Not lazy_exports(): the startup hook imports this package with every azure.identity and openai, and
# the helper module is loaded only once a name is used.
def __getattr__(name: str) -> Any:
    from .._internal.lazy import load_attribute

    return load_attribute(__name__, _LAZY, globals(), name, submodules=_SUBPACKAGES)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBPACKAGES})


__all__ = [
    "AzureConfigurationError",
    "AzureCredentialUnavailableError",
    "AzureScopeError",
    "AzureTokenFetchError",
    "EntraExchangeError",
    "OIDCCredential",
    "token_provider",
]
