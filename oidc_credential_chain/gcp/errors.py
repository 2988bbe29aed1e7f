"""Errors that are google-auth's ``RefreshError`` and this library's error at once.

Google Cloud clients catch ``google.auth.exceptions.RefreshError``; code that knows this
library can catch :class:`~oidc_credential_chain.OIDCError` (or its kinds) and read
``code`` and ``claims``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.auth import exceptions

from ..errors import ConfigurationError, ExchangeError, OIDCError, TokenFetchError


class _RefreshErrorBase(exceptions.RefreshError):
    # google-auth keeps ``retryable`` read-only in ``_retryable``; our errors assign it.
    @property
    def retryable(self) -> bool:
        return bool(getattr(self, "_retryable", False))

    @retryable.setter
    def retryable(self, value: bool) -> None:
        self._retryable = value


class ConfigurationRefreshError(_RefreshErrorBase, ConfigurationError):
    """The spec or its environment is wrong (a missing variable, file or tool)."""

    def __init__(self, message: str, *, spec: str | None = None) -> None:
        ConfigurationError.__init__(self, message, spec=spec)
        self.retryable = False


class TokenFetchRefreshError(_RefreshErrorBase, TokenFetchError):
    """The identity provider behind the spec could not be reached or refused a token."""

    def __init__(
        self, message: str, *, spec: str | None = None, status: int | None = None, retryable: bool = False
    ) -> None:
        TokenFetchError.__init__(self, message, spec=spec, status=status, retryable=retryable)


class ExchangeRefreshError(_RefreshErrorBase, ExchangeError):
    """Google STS or IAM Credentials refused; ``code`` is their error, ``claims`` the token's."""

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
        ExchangeError.__init__(
            self,
            message,
            spec=spec,
            service=service,
            code=code,
            status=status,
            claims=claims,
            retryable=retryable,
        )


def as_refresh_error(err: OIDCError) -> exceptions.RefreshError:
    """The same failure as a google-auth ``RefreshError`` that is still an :class:`OIDCError`."""
    if isinstance(err, exceptions.RefreshError):
        return err
    if isinstance(err, ExchangeError):
        return ExchangeRefreshError(
            err.message,
            spec=err.spec,
            service=err.service,
            code=err.code,
            status=err.status,
            claims=err.claims,
            retryable=err.retryable,
        )
    if isinstance(err, TokenFetchError):
        return TokenFetchRefreshError(err.message, spec=err.spec, status=err.status, retryable=err.retryable)
    return ConfigurationRefreshError(err.message, spec=err.spec)


__all__ = ["ConfigurationRefreshError", "ExchangeRefreshError", "TokenFetchRefreshError", "as_refresh_error"]
