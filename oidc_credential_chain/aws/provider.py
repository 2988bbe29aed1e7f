"""The botocore credential provider: ``oidc/...`` token -> STS -> refreshable credentials.

It sits in botocore's chain before the ``assume-role`` provider.  It answers None (and
changes nothing) unless the environment or the active profile configures a spec, or the
profile is a ``source_profile`` chain rooted in an ``oidc_*`` profile (see :mod:`.chain`):

- an explicitly chosen profile (``Session(profile_name=...)``) ignores the environment,
  ours included, as botocore does for its own variables;
- otherwise ``AWS_WEB_IDENTITY_TOKEN=oidc/...`` wins over the profile's
  ``oidc_web_identity_token``.

The decisions live in :mod:`.core`; this shell sends (STS through botocore's own client)
and builds botocore's refreshable credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._internal.http import HttpConfig
from .._internal.log import get_logger
from ..errors import OIDCError
from . import core
from .config import WebIdentityConfig
from .core import CANONICAL_NAME, METHOD, Lookup, RefreshDecision, Refresher
from .exchange_cache import cached_exchange
from .sts import StsCredentials, assume_role_with_web_identity, botocore_package, create_sts_client

_log = get_logger("aws")


class OIDCWebIdentityProvider:
    """A botocore ``CredentialProvider`` (``METHOD = "oidc-web-identity"``).

    ``config`` pins the identity (``session(...)``, ``credential-process``); without it the
    provider reads the environment and the session's profile each time it loads.
    ``sts_session`` is the botocore session whose STS client makes the exchange (the
    session itself unless given; the async provider passes a synchronous twin).

    Example::

        resolver = botocore.credentials.create_credential_resolver(session)
        resolver.insert_before("assume-role", OIDCWebIdentityProvider(session))
    """

    METHOD = METHOD
    CANONICAL_NAME = CANONICAL_NAME

    def __init__(
        self,
        session: Any,
        *,
        config: WebIdentityConfig | None = None,
        environ: Mapping[str, str] | None = None,
        lookup: Lookup | None = None,
        sts_session: Any = None,
    ) -> None:
        self._session = session
        self._lookup = lookup or Lookup(config=config, environ=environ)
        self._sts_session = session if sts_session is None else sts_session

    # configuration ---------------------------------------------------------------------
    def resolve_config(self) -> WebIdentityConfig | None:
        """The configuration in force for this session, or None when there is none."""
        return core.resolve_config(self._session, self._lookup)

    def region_for(self, config: WebIdentityConfig) -> str:
        """STS region: explicit, the session's, the first client's, else the ARN's partition."""
        return core.region_for(self._session, config)

    # exchange --------------------------------------------------------------------------
    def exchange(self, config: WebIdentityConfig, *, force_refresh: bool = False) -> StsCredentials:
        """Credentials for ``config``: from the per-process cache, or one STS call."""
        # A client per exchange, as botocore's own web-identity fetcher makes one per refresh:
        # exchanges are one per credential lifetime, and a client kept between them (a thousand
        # objects and a connection pool) would outlive its use in every process, a forked
        # child's included.
        client = create_sts_client(
            self._sts_session,
            self.region_for(config),
            endpoint_url=config.sts_endpoint_url,
            http_config=HttpConfig.from_env(),
        )
        return cached_exchange(
            config,
            lambda: assume_role_with_web_identity(client, config),
            force_refresh=force_refresh,
            issuer=_issuer_of(client),
        )

    # botocore's interface ----------------------------------------------------------------
    def resolve_and_exchange(self) -> tuple[WebIdentityConfig, StsCredentials] | None:
        """The configuration in force and its credentials, or None when none is configured."""
        config = self.resolve_config()
        if config is None:
            return None
        _log.debug("credentials for %s from %s", config.describe(), config.source)
        return config, self.exchange(config)

    def load(self) -> Any:
        """botocore's hook: refreshable credentials, or None when no spec is configured."""
        try:
            if core.is_oidc_role_chain(self._session, self._lookup):
                return self._chain().load()
            found = self.resolve_and_exchange()
        except OIDCError as err:
            raise core.as_botocore_error(err) from None
        return None if found is None else self.refreshable(*found)

    def _chain(self) -> Any:
        from .chain import assume_role_provider

        name = core.profile_name_of(self._session, self._lookup)
        return assume_role_provider(self._session, name, botocore_package(self._session))

    def refreshable(self, config: WebIdentityConfig, credentials: StsCredentials) -> Any:
        """botocore ``RefreshableCredentials`` that renew ``credentials`` through this provider."""
        from .credentials import build, refreshable_class

        refresher = _SyncRefresher(config, credentials, exchange=self.exchange)
        return build(refreshable_class(botocore_package(self._session)), refresher, refresher.refresh_using)


def _issuer_of(client: Any) -> tuple[str, str]:
    """The STS endpoint and region that issue credentials through ``client`` (cache key)."""
    meta = getattr(client, "meta", None)
    return str(getattr(meta, "endpoint_url", "") or ""), str(getattr(meta, "region_name", "") or "")


class _SyncRefresher(Refresher):
    """:class:`Refresher` whose ``refresh_using`` exchanges in the calling thread."""

    def refresh_using(self) -> dict[str, Any]:
        decision, shared = self.decide()
        if decision is RefreshDecision.SHARE_FAILURE:
            assert shared is not None
            raise core.as_botocore_error(shared)
        if decision is RefreshDecision.KEEP:
            return self.kept()
        try:
            fresh = self.renew()
        except Exception as err:  # noqa: BLE001 - failed() raises it when the refresh is mandatory
            return self.failed(err)
        return self.succeeded(fresh)


__all__ = ["METHOD", "OIDCWebIdentityProvider"]
