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

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "ConfigurationRefreshError",
    "Credentials",
    "ExchangeRefreshError",
    "SpecSubjectTokenSupplier",
    "TokenFetchRefreshError",
    "credentials",
    "subject_token_spec",
]
