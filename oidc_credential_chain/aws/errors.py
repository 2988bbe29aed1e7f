"""Errors raised through botocore's credential chain: ours and botocore's at once.

Code that classifies botocore errors (retrying network faults, mapping
``CredentialRetrievalError`` to an authentication failure, as LiteLLM and many gateways do)
sees a credential problem for what it is, and code that catches :class:`OIDCError` keeps
working.  Messages and attributes are those of the original error.

This module imports ``botocore.exceptions``: it is loaded only when an error crosses
botocore's chain, or when one of its names is looked up on ``oidc_credential_chain.aws``.

Example::

    try:
        boto3.client("bedrock-runtime").converse(...)
    except botocore.exceptions.CredentialRetrievalError as err:
        print(err)           # also an oidc_credential_chain.ExchangeError / TokenFetchError
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import CredentialRetrievalError, InvalidConfigError

from ..errors import ConfigurationError, CredentialLoopError, ExchangeError, OIDCError, TokenFetchError

#: The provider name botocore's error messages and ``kwargs`` carry.
PROVIDER = "oidc-web-identity"


class _BotocoreBase:
    """Between our error classes and botocore's in the MRO: our constructors end here.

    :class:`OIDCError` passes its message up with ``super().__init__(message)``; botocore's
    ``BotoCoreError`` takes keyword arguments only.  This takes the message, gives botocore
    the ``kwargs`` it pickles and formats with, and stops the chain.
    """

    kwargs: dict[str, Any]

    def __init__(self, message: str = "") -> None:
        Exception.__init__(self, message)  # type: ignore[arg-type]
        self.kwargs = {"provider": PROVIDER, "error_msg": message}

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), dict(self.__dict__), str(self)))


def _rebuild(cls: type[OIDCError], state: dict[str, Any], message: str) -> OIDCError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class StsExchangeError(ExchangeError, _BotocoreBase, CredentialRetrievalError):  # type: ignore[misc]
    """STS refused the exchange (or could not be reached): :class:`ExchangeError` and botocore's
    ``CredentialRetrievalError``."""


class StsTokenFetchError(TokenFetchError, _BotocoreBase, CredentialRetrievalError):  # type: ignore[misc]
    """The ID token could not be fetched: :class:`TokenFetchError` and ``CredentialRetrievalError``."""


class StsConfigurationError(ConfigurationError, _BotocoreBase, InvalidConfigError):  # type: ignore[misc]
    """A configuration problem: :class:`ConfigurationError` and botocore's ``InvalidConfigError``."""


class StsCredentialLoopError(CredentialLoopError, StsConfigurationError):
    """``oidc/aws`` needing its own credentials: :class:`CredentialLoopError` and ``InvalidConfigError``."""


_DUAL: tuple[tuple[type[OIDCError], type[OIDCError]], ...] = (
    (CredentialLoopError, StsCredentialLoopError),
    (ConfigurationError, StsConfigurationError),
    (TokenFetchError, StsTokenFetchError),
    (ExchangeError, StsExchangeError),
)


def botocore_typed(error: OIDCError) -> OIDCError:
    """``error`` as the matching dual-typed class (same message and attributes).

    An error that already is botocore's, or of a kind without a twin, is returned as it is.

    Example::

        except OIDCError as err:
            raise botocore_typed(err) from None
    """
    if isinstance(error, _BotocoreBase):
        return error
    for ours, dual in _DUAL:
        if isinstance(error, ours):
            twin = dual.__new__(dual)
            Exception.__init__(twin, error.message)
            twin.__dict__.update(error.__dict__)
            twin.kwargs = {"provider": PROVIDER, "error_msg": error.message}  # type: ignore[attr-defined]
            return twin.with_traceback(error.__traceback__)
    return error


__all__ = [
    "StsConfigurationError",
    "StsCredentialLoopError",
    "StsExchangeError",
    "StsTokenFetchError",
    "botocore_typed",
]
