"""Entra access tokens shared between processes through the credential file cache.

Processes of one user on one host asking for the same token (workers of one gateway,
scripts running ``oidc-credential-chain azure token``) make one Entra request between
them.  The entry is keyed by the assertion's issuer, subject and audience and by the
tenant, client ID, scopes and authority.  On for the ``azure token`` command unless ``CI``
is set; opt-in for the library (``OIDC_CREDENTIAL_CHAIN_CACHE=1``, or
``OIDCCredential(..., file_cache=True)``).  Claims challenges always go to Entra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._internal import clock
from .._internal.file_cache import CacheEntry, FileCache, cache_key
from ..lifecycle.policy import refresh_windows, widest_advisory
from ._entra import AccessGrant
from ._refresh import expiry_margin
from ._settings import Settings


def grant_key(settings: Settings, tenant: str, scopes: tuple[str, ...], claims: Mapping[str, Any]) -> str:
    """The cache key for a token of ``scopes`` in ``tenant`` obtained with an assertion bearing ``claims``."""
    return cache_key(
        "azure",
        claims,
        tenant=tenant,
        client_id=settings.client_id,
        scopes=sorted(scopes),
        authority=settings.authority,
    )


def shared_grant(cache: FileCache, key: str, create: Callable[[], AccessGrant]) -> AccessGrant:
    """The token another process cached, or ``create()``'s, written for the others.

    An entry is used only while it is outside its advisory window: one the holder would have
    to renew at once is no better than none.
    """

    def usable(entry: CacheEntry) -> bool:
        data = entry.data
        if not (isinstance(data.get("access_token"), str) and data["access_token"]):
            return False
        if not isinstance(data.get("token_type"), str):
            return False
        needed = max(widest_advisory(entry.lifetime), expiry_margin(entry.lifetime)) + 1.0
        return entry.seconds_left() >= needed

    def fresh() -> tuple[dict[str, Any], float, float]:
        grant = create()
        return (
            {"access_token": grant.token, "token_type": grant.token_type},
            clock.now(),
            float(grant.expires_on),
        )

    entry = cache.get_or_create(key, fresh, accept=usable)
    return _grant_of(entry)


def _grant_of(entry: CacheEntry) -> AccessGrant:
    now, mono = clock.now(), clock.mono()
    life = entry.lifetime
    left = entry.expires_at - now
    margin = expiry_margin(life)
    renew_in = max(0.0, left - max(refresh_windows(life).advisory, margin))
    return AccessGrant(
        token=entry.data["access_token"],
        token_type=entry.data["token_type"],
        expires_on=int(entry.expires_at),
        refresh_on=int(now + renew_in),
        refresh_mono=mono + renew_in,
        stale_mono=mono + left - margin,
    )


__all__ = ["grant_key", "shared_grant"]
