"""``oidc/azure/<audience>``: an Entra access token for ``<audience>/.default`` from the ambient
Azure identity, used as an ID token elsewhere (Azure AD -> Amazon Bedrock, Azure -> Google Cloud).

The ambient identity is azure-identity's ``DefaultAzureCredential`` chain: environment
service principal, AKS workload identity, managed identity, then developer logins (Azure
CLI, azd, PowerShell).  Without azure-identity installed, the managed-identity endpoint is
asked directly (:func:`oidc_credential_chain.providers.azure_imds.imds_access_token`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .._internal.log import get_logger
from ..errors import TokenFetchError
from ..lifecycle import Owned, SharedInstances
from ..providers.base import FetchContext
from ..spec import Spec

_log = get_logger("azure")

#: Variables DefaultAzureCredential reads; a change in any of them means another identity.
_IDENTITY_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_", "IMDS_")

_credentials: Owned[SharedInstances[str, Any]] = Owned(SharedInstances, "ambient Azure credentials")


def scope_for(audience: str) -> str:
    """``api://app`` -> ``api://app/.default``; an argument already ending in ``/.default`` is kept."""
    return audience if audience.endswith("/.default") else f"{audience.rstrip('/')}/.default"


def _identity_key(environ: Mapping[str, str]) -> str:
    # A digest, so that client secrets in the environment are not kept as dictionary keys.
    items = sorted((k, v) for k, v in environ.items() if k.startswith(_IDENTITY_PREFIXES))
    return hashlib.sha256(repr(items).encode("utf-8", "surrogatepass")).hexdigest()


def _default_credential(environ: Mapping[str, str]) -> Any:
    """One ``DefaultAzureCredential`` per ambient configuration, so its token cache is reused."""
    from azure.identity import DefaultAzureCredential

    def create() -> Any:
        options: dict[str, Any] = {}
        authority = environ.get("AZURE_AUTHORITY_HOST", "").strip()
        if authority:
            options["authority"] = authority
        for name, option in (
            ("AZURE_TENANT_ID", "workload_identity_tenant_id"),
            ("AZURE_CLIENT_ID", "workload_identity_client_id"),
            ("AZURE_CLIENT_ID", "managed_identity_client_id"),
        ):
            value = environ.get(name, "").strip()
            if value:
                options[option] = value
        return DefaultAzureCredential(**options)

    return _credentials.get().get_or_create(_identity_key(environ), create)


def clear_ambient_credentials() -> None:
    """Forget the ``DefaultAzureCredential`` instances kept per ambient configuration."""
    _credentials.get().clear()


def ambient_access_token(spec: Spec, ctx: FetchContext) -> str:
    """An Entra access token for ``spec.argument`` (+ ``/.default``) from the ambient Azure identity.

    Example::

        token = ambient_access_token(parse_spec("oidc/azure/api://my-aws-app"), FetchContext())
    """
    assert spec.argument is not None
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        from ..providers.azure_imds import imds_access_token

        _log.debug("azure-identity is not installed; asking the managed-identity endpoint for %s", spec.text)
        return imds_access_token(spec, ctx)

    from azure.core.exceptions import AzureError

    scope = scope_for(spec.argument)
    credential = _default_credential(ctx.environ)
    try:
        token: str = credential.get_token(scope).token
    except AzureError as err:
        detail = " ".join(str(getattr(err, "message", err)).split())
        if len(detail) > 800:
            detail = detail[:800] + "..."
        raise TokenFetchError(
            f"{spec.text}: the ambient Azure identity (azure-identity's DefaultAzureCredential: environment, "
            f"workload identity, managed identity, Azure CLI...) could not get a token for {scope}: {detail}",
            spec=spec.text,
        ) from None
    return token
