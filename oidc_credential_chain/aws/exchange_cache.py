"""Per-process cache of STS exchanges, keyed by who is asking for what.

The key is the identity plus the role, session name, duration, session policies and the
STS endpoint and region, so code that builds a new boto3 session per request (as LLM
gateways do) calls STS once per credential lifetime, and concurrent callers share one
call.  The identity is the token's (issuer, subject, audience), or, where the token comes
over the network, what identifies its source (:func:`source_identity`), so a
process whose credentials are in the file cache never asks the identity provider.
Entries are let go just before botocore's advisory refresh window opens.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping

from .._api import fetch_id_token
from .._internal.cache_switch import cache_enabled
from .._internal.record import Record
from ..cache import ExpiringCache
from ..lifecycle.policy import cache_keep_seconds
from .config import WebIdentityConfig
from .sts import StsCredentials


class ExchangeKey(Record):
    issuer: str | None
    subject: str | None
    audience: str | tuple[str, ...] | None
    role_arn: str
    session_name: str
    duration_seconds: int
    policy: str | None
    policy_arns: tuple[str, ...]
    #: The STS endpoint URL and region that issue the credentials.
    sts: tuple[str, str] = ("", "")
    #: :func:`source_identity`, standing for issuer/subject/audience when set.
    source: str | None = None


_cache: ExpiringCache[ExchangeKey, StsCredentials] = ExpiringCache()


#: Where an identity provider answers over the network, what identifies the identity it
#: will answer for, without asking it: variables whose values are hashed into the key.
_SOURCE_VARIABLES: dict[str, tuple[str, ...]] = {
    "github": ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    "google": ("GCE_METADATA_HOST", "GCE_METADATA_ROOT"),
    "buildkite": ("BUILDKITE_JOB_ID", "BUILDKITE_AGENT_ACCESS_TOKEN", "BUILDKITE_AGENT_ENDPOINT"),
}


def source_identity(config: WebIdentityConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """A digest of what identifies the token's source, or None where the token is read locally.

    Only digests of the variables' values enter the key (the request token never does).

    Example: for ``oidc/github/sts.amazonaws.com`` it covers the request URL and request token.
    """
    names = _SOURCE_VARIABLES.get(config.spec.provider)
    if names is None:
        return None
    env = os.environ if environ is None else environ
    material = "\0".join([config.spec.text, *(f"{n}={env.get(n, '')}" for n in names)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def exchange_key(config: WebIdentityConfig, sts: tuple[str, str] = ("", "")) -> ExchangeKey:
    """The key for this configuration: from the token's source, else the (cached) token's claims."""
    source = source_identity(config)
    issuer = subject = None
    audience: str | tuple[str, ...] | None = None
    if source is None:
        token = fetch_id_token(config.spec)
        issuer, subject, claimed = token.issuer, token.subject, token.audience
        audience = tuple(claimed) if isinstance(claimed, list) else claimed
    return ExchangeKey(
        issuer=issuer,
        subject=subject,
        audience=audience,
        role_arn=config.role_arn,
        session_name=config.session_name,
        duration_seconds=config.duration_seconds,
        policy=config.policy,
        policy_arns=config.policy_arns,
        sts=sts,
        source=source,
    )


def cached_exchange(
    config: WebIdentityConfig,
    exchange: Callable[[], StsCredentials],
    *,
    force_refresh: bool = False,
    issuer: tuple[str, str] = ("", ""),
) -> StsCredentials:
    """Credentials for ``config`` from the cache, or from ``exchange()`` (one caller at a time).

    ``issuer`` is the STS endpoint URL and region the exchange goes to (part of the key).

    Example::

        creds = cached_exchange(config, lambda: assume_role_with_web_identity(client, config))
    """

    def fetch() -> tuple[StsCredentials, float]:
        if cache_enabled(explicit=config.file_cache):
            # Imported here: the file cache is off by default, and a one-shot process should not load it.
            from .file_cache import through_file_cache

            credentials = through_file_cache(config, exchange, explicit=config.file_cache, issuer=issuer)
        else:
            credentials = exchange()
        return credentials, cache_keep_seconds(credentials.lifetime, credentials.seconds_left())

    return _cache.get(exchange_key(config, issuer), fetch, force_refresh=force_refresh)


def clear_exchange_cache() -> None:
    """Forget every cached exchange (the next credential lookup calls STS)."""
    _cache.clear()


__all__ = ["ExchangeKey", "cached_exchange", "clear_exchange_cache", "exchange_key", "source_identity"]
