"""STS exchanges shared between processes through the credential file cache.

Processes of one user on one host that need the same credentials (gunicorn or uvicorn
workers, every AWS CLI command running ``credential_process``) make one STS call between
them: the first writes the credentials to the cache, the others read them.  The entry is
keyed by the ID token's issuer, subject and audience and by the role, session name,
duration and policies, so two identities never share credentials even for the same role.

On for ``oidc-credential-chain aws credential-process`` unless ``CI`` is set; opt-in for
the library (``OIDC_CREDENTIAL_CHAIN_CACHE=1``, or ``session(..., file_cache=True)``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .._api import fetch_id_token
from .._internal.file_cache import CacheEntry, cache_key, open_cache
from .._internal.log import get_logger
from .config import WebIdentityConfig, default_session_name
from .refresh import widest_advisory
from .sts import StsCredentials

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


def entry_key(config: WebIdentityConfig, claims: Mapping[str, Any]) -> str:
    """The cache key: the token's identity plus everything that shapes the credentials.

    A session name the user did not choose (``oidc-credential-chain-<epoch>``, which differs
    between processes) counts as "default", so processes started in different seconds share.
    """
    name = config.session_name
    if name == default_session_name() or _DEFAULT_SESSION_NAME.match(name):
        session: str | None = None
    else:
        session = name
    return cache_key(
        "aws",
        claims,
        role_arn=config.role_arn,
        session_name=session,
        duration=config.duration_seconds,
        policy=config.policy,
        policy_arns=sorted(config.policy_arns),
        endpoint=config.sts_endpoint_url,
    )


def through_file_cache(
    config: WebIdentityConfig, exchange: Callable[[], StsCredentials], *, explicit: bool | None = None
) -> StsCredentials:
    """``exchange()``'s credentials, shared with the host's other processes when the cache is on.

    ``explicit`` overrides the environment (``session(file_cache=...)``, the command line).
    """
    cache = open_cache(explicit=explicit)
    if cache is None:
        return exchange()
    token = fetch_id_token(config.spec)
    key = entry_key(config, token.claims)
    floor = _min_remaining.get()

    def usable(entry: CacheEntry) -> bool:
        # An entry the holder would have to refresh at once is no better than none.
        needed = max(floor, widest_advisory(entry.lifetime) + 1.0)
        return _valid(entry.data) and entry.seconds_left() >= needed

    def create() -> tuple[dict[str, Any], float, float]:
        credentials = exchange()
        expires_at = credentials.expiration.timestamp()
        return _data_of(credentials), expires_at - credentials.lifetime, expires_at

    entry = cache.get_or_create(key, create, accept=usable)
    credentials = _credentials_of(entry)
    _log.debug(
        "credentials for %s via the file cache %s (expire in %.0f s)",
        config.describe(),
        cache.directory,
        credentials.seconds_left(),
    )
    return credentials


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
        data.get(name) is None or isinstance(data[name], str) for name in ("AssumedRoleArn", "Subject")
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
