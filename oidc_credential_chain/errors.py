"""The library's error types.

Every failure is an :class:`OIDCError` of one of three kinds, so callers can tell a
mistake in their configuration from an identity provider that is down or a relying
party that refused the token.  Messages never contain a token or a secret.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class ErrorKind(str, enum.Enum):
    """What went wrong, in the three categories users act on differently."""

    CONFIGURATION = "configuration"
    TOKEN_FETCH = "token_fetch"
    EXCHANGE = "exchange"


class OIDCError(Exception):
    """Base class of every error this library raises.

    Example::

        try:
            get_id_token("oidc/github/sts.amazonaws.com")
        except OIDCError as err:
            print(err.kind, err)
    """

    kind: ErrorKind = ErrorKind.CONFIGURATION

    def __init__(self, message: str, *, spec: str | None = None) -> None:
        # Every message passes the one redaction path: whatever a caller interpolated (a
        # variable's value, a server's words, a spec a token was pasted into) shows no secret.
        from ._internal.redact import redact_text

        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.spec = spec

    @property
    def spec(self) -> str | None:
        """The spec that failed (redacted: a spec with a token pasted into it shows none of it)."""
        return self._spec

    @spec.setter
    def spec(self, value: str | None) -> None:
        from ._internal.redact import redact_text

        self._spec = None if value is None else redact_text(value)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(OIDCError):
    """A bad spec, a missing variable or file, an invalid option: fix the configuration."""

    kind = ErrorKind.CONFIGURATION


class CredentialLoopError(ConfigurationError):
    """Fetching a token needs that same token (``oidc/aws`` signed with credentials from ``oidc/aws``)."""


class TokenFetchError(OIDCError):
    """The identity provider could not be reached, or refused to issue a token."""

    kind = ErrorKind.TOKEN_FETCH

    def __init__(
        self,
        message: str,
        *,
        spec: str | None = None,
        status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message, spec=spec)
        self.status = status
        self.retryable = retryable


class ExchangeError(OIDCError):
    """A relying party (AWS STS, Entra ID, Google STS) refused the token.

    ``code`` holds the service's own error code (``AccessDenied``, ``AADSTS70021``,
    ``invalid_grant``...), ``claims`` the token's ``iss``/``aud``/``sub``/``exp`` so the
    trust policy can be compared with what was presented.
    """

    kind = ErrorKind.EXCHANGE

    def __init__(
        self,
        message: str,
        *,
        spec: str | None = None,
        service: str = "",
        code: str | None = None,
        status: int | None = None,
        claims: Mapping[str, Any] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message, spec=spec)
        self.service = service
        self.code = code
        self.status = status
        self.claims = dict(claims or {})
        self.retryable = retryable


__all__ = [
    "ConfigurationError",
    "CredentialLoopError",
    "ErrorKind",
    "ExchangeError",
    "OIDCError",
    "TokenFetchError",
]
