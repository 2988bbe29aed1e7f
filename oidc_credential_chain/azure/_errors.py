"""The library's errors as azure-core's own types, for code that catches Azure SDK errors.

Every error an :class:`~oidc_credential_chain.azure.OIDCCredential` raises is both an
:class:`~oidc_credential_chain.OIDCError` (of the matching kind) and an
:class:`azure.core.exceptions.ClientAuthenticationError`; an unconfigured credential raises
azure-identity's :class:`~azure.identity.CredentialUnavailableError`, so that
``ChainedTokenCredential`` tries the next credential.
"""

from __future__ import annotations

from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from ..errors import ConfigurationError, ExchangeError, OIDCError, TokenFetchError


class AzureConfigurationError(ConfigurationError, ClientAuthenticationError):
    """A configuration mistake (bad spec, tenant, authority, missing client ID)."""


class AzureScopeError(AzureConfigurationError, ValueError):
    """No scope, or a blank one, was asked for (a ``ValueError`` too, as in azure-identity)."""


class AzureCredentialUnavailableError(ConfigurationError, CredentialUnavailableError):
    """No token spec or no tenant is configured: a credential chain moves on to its next credential."""


class AzureTokenFetchError(TokenFetchError, ClientAuthenticationError):
    """The identity provider named by the spec could not produce the client assertion."""


class EntraExchangeError(ExchangeError, ClientAuthenticationError):
    """Entra ID refused the client assertion, or could not be reached.

    ``code`` is Entra's ``AADSTSnnnn`` (or its ``error`` value when no code came),
    ``error`` Entra's ``error`` field, ``claims`` the assertion's ``iss``/``aud``/``sub``/``exp``.
    """

    def __init__(self, message: str, *, error: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.error_code = error
        self.status_code = self.status


def as_azure_error(err: OIDCError) -> OIDCError:
    """The same error as an azure-core type (unchanged when it already is one)."""
    if isinstance(err, ClientAuthenticationError):
        return err
    converted: OIDCError
    if isinstance(err, ExchangeError):
        converted = EntraExchangeError(
            err.message,
            spec=err.spec,
            service=err.service,
            code=err.code,
            status=err.status,
            claims=err.claims,
            retryable=err.retryable,
        )
    elif isinstance(err, TokenFetchError):
        converted = AzureTokenFetchError(
            err.message, spec=err.spec, status=err.status, retryable=err.retryable
        )
    else:
        converted = AzureConfigurationError(err.message, spec=err.spec)
    return converted


__all__ = [
    "AzureConfigurationError",
    "AzureCredentialUnavailableError",
    "AzureScopeError",
    "AzureTokenFetchError",
    "EntraExchangeError",
    "as_azure_error",
]
