"""The botocore credential provider: ``oidc/...`` token -> STS -> refreshable credentials.

It sits in botocore's chain before the ``assume-role`` provider.  It answers None (and
changes nothing) unless the environment or the active profile configures a spec:

- an explicitly chosen profile (``Session(profile_name=...)``) ignores the environment,
  ours included, as botocore does for its own variables;
- otherwise ``AWS_WEB_IDENTITY_TOKEN=oidc/...`` wins over the profile's
  ``oidc_web_identity_token``.
"""

from __future__ import annotations

import datetime
import importlib
import os
import threading
from collections.abc import Mapping
from typing import Any

from .._internal import clock
from .._internal.http import HttpConfig
from .._internal.log import get_logger
from .._internal.refresh import Phase, RefreshState, RefreshWindows
from ..lifecycle.fork import reset_after_fork, reset_other_after_fork
from .config import WebIdentityConfig, from_environ, from_profile
from .exchange_cache import cached_exchange
from .refresh import refresh_windows
from .region import sts_region
from .sts import StsCredentials, assume_role_with_web_identity, botocore_package, create_sts_client

_log = get_logger("aws")

METHOD = "oidc-web-identity"


class OIDCWebIdentityProvider:
    """A botocore ``CredentialProvider`` (``METHOD = "oidc-web-identity"``).

    ``config`` pins the identity (``session(...)``, ``credential-process``); without it the
    provider reads the environment and the session's profile each time it loads.

    Example::

        resolver = botocore.credentials.create_credential_resolver(session)
        resolver.insert_before("assume-role", OIDCWebIdentityProvider(session))
    """

    METHOD = METHOD
    CANONICAL_NAME = "OIDCWebIdentity"

    def __init__(
        self,
        session: Any,
        *,
        config: WebIdentityConfig | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._session = session
        self._config = config
        self._environ = environ
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._clients_lock = threading.Lock()
        reset_after_fork(self)

    def after_fork_in_child(self) -> None:
        # STS clients pool connections: a forked child makes its own rather than share sockets.
        self._clients = {}
        self._clients_lock = threading.Lock()

    # configuration ---------------------------------------------------------------------
    def resolve_config(self) -> WebIdentityConfig | None:
        """The configuration in force for this session, or None when there is none."""
        if self._config is not None:
            return self._config
        session = self._session
        explicit_profile = session.instance_variables().get("profile") is not None
        if not explicit_profile:
            from_env = from_environ(os.environ if self._environ is None else self._environ)
            if from_env is not None:
                return from_env
        profile_name = session.get_config_variable("profile") or "default"
        profiles = session.full_config.get("profiles", {})
        return from_profile(profile_name, profiles.get(profile_name, {}))

    def region_for(self, config: WebIdentityConfig) -> str:
        """STS region: explicit, the session's, the first client's, else the ARN's partition."""
        session = self._session
        return sts_region(
            config.role_arn,
            config.region,
            session.get_config_variable("region"),
            getattr(session, "_last_client_region_used", None),
        )

    # exchange --------------------------------------------------------------------------
    def _client(self, config: WebIdentityConfig) -> Any:
        key = (self.region_for(config), config.sts_endpoint_url)
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = create_sts_client(
                    self._session, key[0], endpoint_url=key[1], http_config=HttpConfig.from_env()
                )
            return client

    def exchange(self, config: WebIdentityConfig, *, force_refresh: bool = False) -> StsCredentials:
        """Credentials for ``config``: from the per-process cache, or one STS call."""
        return cached_exchange(
            config,
            lambda: assume_role_with_web_identity(self._client(config), config),
            force_refresh=force_refresh,
        )

    # botocore's interface ----------------------------------------------------------------
    def load(self) -> Any:
        """botocore's hook: refreshable credentials, or None when no spec is configured."""
        config = self.resolve_config()
        if config is None:
            return None
        _log.debug("credentials for %s from %s", config.describe(), config.source)
        credentials = self.exchange(config)
        return self._refreshable(config, credentials)

    def _refreshable(self, config: WebIdentityConfig, credentials: StsCredentials) -> Any:
        package = botocore_package(self._session)
        refreshable_cls = importlib.import_module(f"{package}.credentials").RefreshableCredentials
        holder: list[Any] = []
        current = [credentials]
        state = RefreshState(f"AWS credentials for {config.describe()}", logger=_log)

        def renew() -> StsCredentials:
            fresh = self.exchange(config)
            advisory, mandatory = refresh_windows(fresh.lifetime)
            if fresh.seconds_left() < advisory:
                # Only when the wall clock jumped ahead of the cache's monotonic one.
                fresh = self.exchange(config, force_refresh=True)
                advisory, mandatory = refresh_windows(fresh.lifetime)
            if holder:
                _set_windows(holder[0], advisory, mandatory)
            return fresh

        def refresh() -> dict[str, Any]:
            # botocore calls this inside its advisory window (a failure is logged and the current
            # credentials kept) and its mandatory window (a failure is raised).  A failed advisory
            # refresh backs off, so an identity provider that is down does not cost every request
            # the whole retry budget; callers that were already queued behind a failed mandatory
            # refresh share its error instead of repeating it one after another.
            held = current[0]
            left = held.seconds_left()
            windows = RefreshWindows(*_windows_of(holder[0])) if holder else RefreshWindows(0.0, 0.0)
            mandatory = windows.phase(left) is Phase.MANDATORY
            if mandatory:
                since = getattr(entered, "at", clock.mono())
                shared = state.failed_since(since, mandatory_only=True)
                if shared is not None:
                    raise shared
            elif not state.should_attempt(mandatory=False):
                return held.botocore_metadata()
            try:
                fresh = renew()
            except Exception as err:
                state.record_failure(err, seconds_left=left, windows=windows, mandatory=mandatory)
                if mandatory:
                    raise
                return held.botocore_metadata()
            state.record_success()
            current[0] = fresh
            return fresh.botocore_metadata()

        instance = refreshable_cls.create_from_metadata(
            metadata=credentials.botocore_metadata(),
            refresh_using=refresh,
            method=METHOD,
        )
        # Expiry is judged on the library's clock (the one StsCredentials.seconds_left reads).
        instance._time_fetcher = _now
        # Note when each caller entered botocore's refresh (before waiting for its lock).
        entered = threading.local()
        botocore_refresh = instance._refresh

        def timed_refresh() -> None:
            entered.at = clock.mono()
            botocore_refresh()

        instance._refresh = timed_refresh
        _set_windows(instance, *refresh_windows(credentials.lifetime))
        holder.append(instance)
        reset_other_after_fork(instance, _new_refresh_lock)
        return instance


def _new_refresh_lock(credentials: Any) -> None:
    # A forked child must not wait on a refresh lock held by a parent's thread (os.fork).
    credentials._refresh_lock = threading.Lock()


def _set_windows(credentials: Any, advisory: float, mandatory: float) -> None:
    credentials._advisory_refresh_timeout = advisory
    credentials._mandatory_refresh_timeout = mandatory


def _windows_of(credentials: Any) -> tuple[float, float]:
    return float(credentials._advisory_refresh_timeout), float(credentials._mandatory_refresh_timeout)


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(clock.now(), datetime.timezone.utc)


__all__ = ["METHOD", "OIDCWebIdentityProvider"]
