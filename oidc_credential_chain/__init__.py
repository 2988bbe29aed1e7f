"""Run boto3, Azure SDK and Google Cloud clients on OIDC federated identities.

Write ``oidc/<provider>/<argument>`` wherever a token would go::

    import oidc_credential_chain

    token = oidc_credential_chain.get_id_token("oidc/github/sts.amazonaws.com")

Importing this package is nearly free (credentials load in every cold start): the names
below are loaded on first use, and none of boto3, azure, openai, google or requests is
imported until a feature needs it.
"""

from __future__ import annotations

from ._internal.lazy import lazy_exports

__version__ = "0.1.0"

# Not ``from typing import TYPE_CHECKING``: typing (with re, collections, contextlib...) is
# most of what an import would otherwise cost.  Type checkers treat this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._api import clear_token_cache, fetch_id_token, get_id_token
    from .errors import ConfigurationError, ErrorKind, ExchangeError, OIDCError, TokenFetchError
    from .idtoken import IdToken
    from .providers.registry import parse_spec
    from .spec import Spec, is_spec

_LAZY = {
    "clear_token_cache": "._api",
    "fetch_id_token": "._api",
    "get_id_token": "._api",
    "ConfigurationError": ".errors",
    "ErrorKind": ".errors",
    "ExchangeError": ".errors",
    "OIDCError": ".errors",
    "TokenFetchError": ".errors",
    "IdToken": ".idtoken",
    "Spec": ".spec",
    "is_spec": ".spec",
    "parse_spec": ".providers.registry",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "ConfigurationError",
    "ErrorKind",
    "ExchangeError",
    "IdToken",
    "OIDCError",
    "Spec",
    "TokenFetchError",
    "__version__",
    "clear_token_cache",
    "fetch_id_token",
    "get_id_token",
    "is_spec",
    "parse_spec",
]
