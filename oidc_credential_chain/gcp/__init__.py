"""Google Cloud (Vertex AI and every google-auth client) on federated OIDC identities.

Example::

    from google.auth.transport.requests import AuthorizedSession
    from oidc_credential_chain import gcp

    creds = gcp.credentials(
        token="oidc/github",
        audience="//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github",
        service_account="vertex-caller@my-project.iam.gserviceaccount.com",
    )
    AuthorizedSession(creds).post(vertex_url, json={"contents": [...]})

Importing this package imports nothing from google-auth; :func:`credentials` does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ConfigurationRefreshError, ExchangeRefreshError, TokenFetchRefreshError
    from .identity_pool import Credentials, credentials, subject_token_spec
    from .supplier import SpecSubjectTokenSupplier

_LAZY = {
    "credentials": ".identity_pool",
    "Credentials": ".identity_pool",
    "subject_token_spec": ".identity_pool",
    "SpecSubjectTokenSupplier": ".supplier",
    "ConfigurationRefreshError": ".errors",
    "ExchangeRefreshError": ".errors",
    "TokenFetchRefreshError": ".errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "ConfigurationRefreshError",
    "Credentials",
    "ExchangeRefreshError",
    "SpecSubjectTokenSupplier",
    "TokenFetchRefreshError",
    "credentials",
    "subject_token_spec",
]
