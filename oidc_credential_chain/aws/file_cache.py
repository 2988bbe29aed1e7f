"""STS exchanges shared between processes through the credential file cache.

Processes of one user on one host that need the same credentials (gunicorn or uvicorn
workers, every AWS CLI command running ``credential_process``) make one STS call between
them: the first writes the credentials to the cache, the others read them.

Keys.  Everything that changes who issues or what is issued is in the key: the role,
session name, duration, policies, the STS endpoint and region (so credentials issued by
one endpoint are never served for another), and the identity.  Where the token comes from
an identity provider over the network (GitHub's token endpoint, the GCP metadata server,
``buildkite-agent``), the identity is first that of the *source* -- the request URL and a
digest of the request token, the metadata host and audience, the job -- so processes that
start together find each other's entry before any of them fetches a token: N processes,
one ID-token request and one STS call.  Tokens read locally (variables, files) cost no
request: their entries are keyed by the token's ``iss``/``sub``/``aud``.  Every entry also
records the digest of the identity it was exchanged with, and a caller that holds the
token's claims uses an entry only when that identity is its own.

On for ``oidc-credential-chain aws credential-process`` unless ``CI`` is set; opt-in for
the library (``OIDC_CREDENTIAL_CHAIN_CACHE=1``, or ``session(..., file_cache=True)``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._api import fetch_id_token
from .._internal.log import get_logger
from ..lifecycle.policy import widest_advisory
from .config import WebIdentityConfig, default_session_name
from .exchange_cache import source_identity
from .sts import StsCredentials

if TYPE_CHECKING:
    from .._internal.file_cache import CacheEntry, FileCache

_log = get_logger("aws")

#: AWS SDKs re-run ``credential_process`` when fewer than 15 minutes remain, so it never
#: hands out cached credentials closer to expiry than that.
CREDENTIAL_PROCESS_MIN_REMAINING = 15 * 60.0

_DEFAULT_SESSION_NAME = re.compile(r"^oidc-credential-chain-\d+$")
_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken")

_min_remaining: contextvars.ContextVar[float] = contextvars.ContextVar("min_remaining", default=0.0)


@contextlib.contextmanager
def minimum_remaining(seconds: float) -> Iterator[None]:
    """Within the block, cached credentials with fewer than ``seconds`` left are not used.

    Example::

        with minimum_remaining(CREDENTIAL_PROCESS_MIN_REMAINING):
            credentials = provider.exchange(config)
    """
    token = _min_remaining.set(seconds)
    try:
        yield
    finally:
        _min_remaining.reset(token)


def _claims_digest(claims: Mapping[str, Any]) -> str:
    from .._internal.file_cache import cache_key

    return cache_key("aws-identity", claims)


def entry_key(
    config: WebIdentityConfig,
    claims: Mapping[str, Any],
    *,
    issuer: tuple[str, str] = ("", ""),
    source: str | None = None,
) -> str:
    """The cache key: the identity plus everything that shapes the credentials.

    ``issuer`` is the STS endpoint URL and region; ``source`` a :func:`.exchange_cache.source_identity`
    digest, which then stands for the identity (``claims`` are not used).  A session name
    the user did not choose (``oidc-credential-chain-<epoch>``, which differs between
    processes) counts as "default", so processes started in different seconds share.
    """
    name = config.session_name
    if name == default_session_name() or _DEFAULT_SESSION_NAME.match(name):
        session: str | None = None
    else:
        session = name
    endpoint, region = issuer
    from .._internal.file_cache import cache_key

    return cache_key(
        "aws" if source is None else "aws-source",
        claims if source is None else {},
        role_arn=config.role_arn,
        session_name=session,
        duration=config.duration_seconds,
        policy=config.policy,
        policy_arns=sorted(config.policy_arns),
        endpoint=endpoint or config.sts_endpoint_url,
        region=region or None,
        source=source,
    )


def through_file_cache(
    config: WebIdentityConfig,
    exchange: Callable[[], StsCredentials],
    *,
    explicit: bool | None = None,
    issuer: tuple[str, str] = ("", ""),
    claims: Mapping[str, Any] | None = None,
) -> StsCredentials:
    """``exchange()``'s credentials, shared with the host's other processes through the cache.

    Called once the cache is known to be on (:func:`.._internal.cache_switch.cache_enabled`);
    ``explicit`` overrides the environment (``session(file_cache=...)``, the command line);
    ``issuer`` is the STS endpoint URL and region; ``claims`` those of a token the caller
    holds already (then only an entry exchanged with the same identity is used).
    """
    from .._internal.file_cache import open_cache

    cache = open_cache(explicit=explicit)
    if cache is None:
        return exchange()
    source = source_identity(config)
    if source is None:
        claims = fetch_id_token(config.spec).claims
    key = entry_key(config, claims or {}, issuer=issuer, source=source)
    entry = _get_or_exchange(cache, key, lambda: _exchange_recording_identity(config, exchange), claims)
    credentials = _credentials_of(entry)
    _log.debug(
        "credentials for %s via the file cache %s (expire in %.0f s)",
        config.describe(),
        cache.directory,
        credentials.seconds_left(),
    )
    return credentials


def _exchange_recording_identity(
    config: WebIdentityConfig, exchange: Callable[[], StsCredentials]
) -> tuple[StsCredentials, str]:
    credentials = exchange()
    # The exchange fetched the token (cached in this process by now): whose credentials these are.
    return credentials, _claims_digest(fetch_id_token(config.spec).claims)


def _get_or_exchange(
    cache: FileCache,
    key: str,
    exchange: Callable[[], tuple[StsCredentials, str]],
    claims: Mapping[str, Any] | None,
) -> CacheEntry:
    floor = _min_remaining.get()
    own_identity = _claims_digest(claims) if claims else None

    def usable(entry: CacheEntry) -> bool:
        # An entry the holder would have to refresh at once is no better than none.
        needed = max(floor, widest_advisory(entry.lifetime) + 1.0)
        if own_identity is not None and entry.data.get("Identity") not in (None, own_identity):
            return False
        return _valid(entry.data) and entry.seconds_left() >= needed

    def create() -> tuple[dict[str, Any], float, float]:
        credentials, identity = exchange()
        expires_at = credentials.expiration.timestamp()
        return {**_data_of(credentials), "Identity": identity}, expires_at - credentials.lifetime, expires_at

    return cache.get_or_create(key, create, accept=usable)


def _data_of(credentials: StsCredentials) -> dict[str, Any]:
    return {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "SessionToken": credentials.session_token,
        "AssumedRoleArn": credentials.assumed_role_arn,
        "Subject": credentials.subject,
    }


def _valid(data: Mapping[str, Any]) -> bool:
    return all(isinstance(data.get(name), str) and data[name] for name in _FIELDS) and all(
        data.get(name) is None or isinstance(data[name], str)
        for name in ("AssumedRoleArn", "Subject", "Identity")
    )


def _credentials_of(entry: CacheEntry) -> StsCredentials:
    data = entry.data
    return StsCredentials(
        access_key_id=data["AccessKeyId"],
        secret_access_key=data["SecretAccessKey"],
        session_token=data["SessionToken"],
        expiration=datetime.datetime.fromtimestamp(entry.expires_at, datetime.timezone.utc),
        lifetime=entry.lifetime,
        assumed_role_arn=data.get("AssumedRoleArn"),
        subject=data.get("Subject"),
    )


__all__ = ["CREDENTIAL_PROCESS_MIN_REMAINING", "entry_key", "minimum_remaining", "through_file_cache"]
