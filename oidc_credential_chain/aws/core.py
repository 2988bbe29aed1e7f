"""The AWS provider's decisions, shared by the botocore (sync) and aiobotocore (async) shells.

Nothing here sends a request or waits: which configuration is in force for a session (and
the precedence botocore users expect), whether a profile is a role chain rooted in an
``oidc_*`` profile, which STS region to use, and what to do when botocore asks for a
refresh.  The shells (:mod:`.provider`, :mod:`.aio.provider`) only exchange, lock and await.
"""

from __future__ import annotations

import contextvars
import enum
import os
from collections.abc import Callable, Mapping
from typing import Any

from .._internal import clock
from .._internal.log import get_logger, warn_once
from .._internal.record import Record
from ..errors import OIDCError
from ..lifecycle import Freshness, RefreshState, refresh_windows
from ..spec import is_spec
from . import _seams
from .config import (
    ENV_ROLE_ARN,
    ENV_TOKEN,
    PROFILE_TOKEN,
    WebIdentityConfig,
    environ_has_role,
    from_environ,
    from_profile,
)
from .region import sts_region
from .sts import StsCredentials

_log = get_logger("aws")

METHOD = "oidc-web-identity"
#: botocore's rule: a provider from outside botocore has a canonical name starting "custom".
CANONICAL_NAME = "customOIDCWebIdentity"


# configuration -------------------------------------------------------------------------
class Lookup(Record):
    """Where a provider looks: a pinned config, or the session's profile and the environment.

    ``profile_name`` and ``disable_env_vars`` are set when botocore's assume-role provider
    asks about a ``source_profile`` (that profile, never the environment).
    """

    config: WebIdentityConfig | None = None
    environ: Mapping[str, str] | None = None
    profile_name: str | None = None
    disable_env_vars: bool = False


def resolve_config(session: Any, lookup: Lookup) -> WebIdentityConfig | None:
    """The configuration in force for ``session``, or None when there is none.

    - a pinned configuration (``session(...)``, ``credential-process``) wins;
    - an explicitly chosen profile ignores the environment, ours included, as botocore does;
    - otherwise ``AWS_WEB_IDENTITY_TOKEN=oidc/...`` wins over the profile's keys.

    A spec in the environment with no role anywhere logs one warning and answers None, so
    botocore's chain goes on and unrelated code that creates clients never breaks.
    """
    if lookup.config is not None:
        return lookup.config
    explicit_profile = lookup.disable_env_vars or session.instance_variables().get("profile") is not None
    if not explicit_profile:
        environ = os.environ if lookup.environ is None else lookup.environ
        if _spec_without_role(environ):
            warn_once(
                _log,
                "aws-env-without-role",
                "%s holds an oidc/... spec but no role is configured: set %s to the role's ARN "
                "(arn:aws:iam::<account>:role/<name>); the oidc/... credential provider is skipped",
                ENV_TOKEN,
                ENV_ROLE_ARN,
            )
        else:
            from_env = from_environ(environ)
            if from_env is not None:
                return from_env
    name = profile_name_of(session, lookup)
    return from_profile(name, profiles_of(session).get(name, {}))


def _spec_without_role(environ: Mapping[str, str]) -> bool:
    return is_spec(environ.get(ENV_TOKEN, "")) and not environ_has_role(environ)


def profile_name_of(session: Any, lookup: Lookup) -> str:
    return lookup.profile_name or session.get_config_variable("profile") or "default"


def profiles_of(session: Any) -> Mapping[str, Mapping[str, Any]]:
    profiles = session.full_config.get("profiles", {})
    return profiles if isinstance(profiles, Mapping) else {}


def is_oidc_role_chain(session: Any, lookup: Lookup) -> bool:
    """True when the profile is ``role_arn`` + ``source_profile`` links ending at an ``oidc_*`` profile.

    Such a chain is answered by botocore's own assume-role provider built with a profile
    builder that knows our keys; any other profile is left to botocore's chain.
    """
    if lookup.config is not None:
        return False
    profiles = profiles_of(session)
    name = profile_name_of(session, lookup)
    seen: set[str] = set()
    while name not in seen:
        seen.add(name)
        profile = profiles.get(name)
        if not isinstance(profile, Mapping):
            return False
        if len(seen) > 1 and PROFILE_TOKEN in profile:
            return True
        source = profile.get("source_profile")
        if "role_arn" not in profile or not isinstance(source, str) or "credential_source" in profile:
            return False
        if source == name:
            return False
        name = source
    return False


def region_for(session: Any, config: WebIdentityConfig) -> str:
    """STS region: explicit, the session's, the first client's, else the ARN's partition."""
    return sts_region(
        config.role_arn,
        config.region,
        session.get_config_variable("region"),
        _seams.last_client_region(session),
    )


# refreshing ----------------------------------------------------------------------------
#: When the current caller entered botocore's refresh (before waiting for its lock).
_entered: contextvars.ContextVar[float | None] = contextvars.ContextVar("aws_refresh_entered", default=None)


def mark_entry() -> contextvars.Token[float | None]:
    """Note that a caller is about to ask botocore for credentials (see :class:`RefreshDecision`)."""
    return _entered.set(clock.mono())


def clear_entry(token: contextvars.Token[float | None]) -> None:
    _entered.reset(token)


class RefreshDecision(enum.Enum):
    """What a refresh botocore asked for should do."""

    #: Keep the current credentials (an advisory refresh that is still backing off).
    KEEP = "keep"
    #: Exchange again.
    RENEW = "renew"
    #: Raise the error of the mandatory refresh this caller was queued behind.
    SHARE_FAILURE = "share-failure"


class Refresher:
    """The refresh state of one set of credentials handed to botocore.

    botocore calls ``refresh_using`` (the shells' bound method) inside its advisory window
    (a failure is logged, the current credentials kept) and its mandatory window (a
    failure is raised).  A failed advisory refresh backs off, so an identity provider that
    is down does not cost every request the whole retry budget; callers queued behind a
    failed mandatory refresh share its error instead of repeating it one after another.

    Example::

        refresher = Refresher(config, credentials, exchange=provider.exchange)
        RefreshableCredentials(..., refresh_using=refresher.refresh_using,
                               advisory_timeout=refresher.windows.advisory, ...)
    """

    def __init__(
        self,
        config: WebIdentityConfig,
        credentials: StsCredentials,
        *,
        exchange: Callable[..., StsCredentials],
    ) -> None:
        self.config = config
        self.current = credentials
        self.windows = refresh_windows(credentials.lifetime)
        self.state = RefreshState(f"AWS credentials for {config.describe()}", logger=_log)
        self._exchange = exchange

    def decide(self) -> tuple[RefreshDecision, BaseException | None]:
        """What to do now, and the error to raise for :attr:`RefreshDecision.SHARE_FAILURE`."""
        if self._mandatory():
            since = _entered.get()
            shared = self.state.failed_since(clock.mono() if since is None else since, mandatory_only=True)
            if shared is not None:
                return RefreshDecision.SHARE_FAILURE, shared
            return RefreshDecision.RENEW, None
        if not self.state.should_attempt(mandatory=False):
            return RefreshDecision.KEEP, None
        return RefreshDecision.RENEW, None

    def renew(self) -> StsCredentials:
        """New credentials from the exchange cache or STS (blocking: the async shell runs it in a thread)."""
        fresh = self._exchange(self.config)
        if fresh.seconds_left() < self.windows.advisory:
            # Only when the wall clock jumped ahead of the cache's monotonic one.
            fresh = self._exchange(self.config, force_refresh=True)
        return fresh

    def succeeded(self, fresh: StsCredentials) -> dict[str, Any]:
        self.state.record_success()
        self.current = fresh
        return fresh.botocore_metadata()

    def failed(self, error: Exception) -> dict[str, Any]:
        """Record a failed renewal: the current metadata for an advisory one; raises a mandatory one."""
        mandatory = self._mandatory()
        self.state.record_failure(
            error, seconds_left=self.current.seconds_left(), windows=self.windows, mandatory=mandatory
        )
        if mandatory:
            raise as_botocore_error(error)
        return self.current.botocore_metadata()

    def kept(self) -> dict[str, Any]:
        return self.current.botocore_metadata()

    def _mandatory(self) -> bool:
        return self.windows.freshness(self.current.seconds_left()) is Freshness.INVALID


def as_botocore_error(error: BaseException) -> BaseException:
    """Our errors as their botocore-typed twins (see :mod:`.errors`); others unchanged."""
    if not isinstance(error, OIDCError):
        return error
    from .errors import botocore_typed

    return botocore_typed(error)


__all__ = [
    "CANONICAL_NAME",
    "METHOD",
    "Lookup",
    "RefreshDecision",
    "Refresher",
    "as_botocore_error",
    "clear_entry",
    "is_oidc_role_chain",
    "mark_entry",
    "region_for",
    "resolve_config",
]
