"""Run boto3, Azure SDK and Google Cloud clients on OIDC federated identities.

Write ``oidc/<provider>/<argument>`` wherever a token would go::

    import oidc_credential_chain

    token = oidc_credential_chain.get_id_token("oidc/github/sts.amazonaws.com")

Importing this package is nearly free (credentials load in every cold start, and the
startup hook imports it whenever botocore loads): it imports no other module, not even
one of its own.  The names below and the subpackages ``aio``, ``aws``, ``azure``, ``gcp``
and ``testing`` load on first use, and none of boto3, azure, openai, google or requests is
imported until a feature needs it.
"""

__version__ = "0.1.0"

# Not ``from typing import TYPE_CHECKING``: typing (with re, collections, contextlib...) is
# most of what an import would otherwise cost.  Type checkers treat this name the same way;
# annotations are strings so that ``__future__`` is not imported either.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import aio as aio
    from . import aws as aws
    from . import azure as azure
    from . import gcp as gcp
    from . import testing as testing
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
_SUBPACKAGES = ("aio", "aws", "azure", "gcp", "testing")


def __getattr__(name: str) -> "Any":
    # Imported on first use, so that `import oidc_credential_chain` stays one module.
    from ._internal.lazy import load_attribute

    return load_attribute(__name__, _LAZY, globals(), name, submodules=_SUBPACKAGES)


def __dir__() -> "list[str]":
    return sorted({*globals(), *_LAZY, *_SUBPACKAGES})


# Subpackages stay out of __all__: a star import must not load the SDK integrations.
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
