"""Per-process cache of STS exchanges, keyed by who is asking for what.

The key is the token's identity (issuer, subject, audience) plus the role, session name,
duration and session policies, so code that builds a new boto3 session per request (as
LLM gateways do) calls STS once per credential lifetime, and concurrent callers share one
call.  Entries are let go just before botocore's advisory refresh window opens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .._api import fetch_id_token
from ..cache import ExpiringCache
from .config import WebIdentityConfig
from .file_cache import through_file_cache
from .refresh import cache_keep_seconds
from .sts import StsCredentials


@dataclasses.dataclass(frozen=True)
class ExchangeKey:
    issuer: str | None
    subject: str | None
    audience: str | tuple[str, ...] | None
    role_arn: str
    session_name: str
    duration_seconds: int
    policy: str | None
    policy_arns: tuple[str, ...]


_cache: ExpiringCache[ExchangeKey, StsCredentials] = ExpiringCache()


def exchange_key(config: WebIdentityConfig) -> ExchangeKey:
    """The key for this configuration, from the (cached) token's claims."""
    token = fetch_id_token(config.spec)
    audience = token.audience
    return ExchangeKey(
        issuer=token.issuer,
        subject=token.subject,
        audience=tuple(audience) if isinstance(audience, list) else audience,
        role_arn=config.role_arn,
        session_name=config.session_name,
        duration_seconds=config.duration_seconds,
        policy=config.policy,
        policy_arns=config.policy_arns,
    )


def cached_exchange(
    config: WebIdentityConfig,
    exchange: Callable[[], StsCredentials],
    *,
    force_refresh: bool = False,
) -> StsCredentials:
    """Credentials for ``config`` from the cache, or from ``exchange()`` (one caller at a time).

    Example::

        creds = cached_exchange(config, lambda: assume_role_with_web_identity(client, config))
    """

    def fetch() -> tuple[StsCredentials, float]:
        credentials = through_file_cache(config, exchange, explicit=config.file_cache)
        return credentials, cache_keep_seconds(credentials.lifetime, credentials.seconds_left())

    return _cache.get(exchange_key(config), fetch, force_refresh=force_refresh)


def clear_exchange_cache() -> None:
    """Forget every cached exchange (the next credential lookup calls STS)."""
    _cache.clear()


__all__ = ["ExchangeKey", "cached_exchange", "clear_exchange_cache", "exchange_key"]
