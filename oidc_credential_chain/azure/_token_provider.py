"""``token_provider``: the ``azure_ad_token_provider`` callable for ``openai.AzureOpenAI``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._internal import clock
from ..errors import OIDCError
from ..lifecycle import Owned, SharedInstances
from ..spec import Spec
from ._credential import OIDCCredential
from ._errors import AzureCredentialUnavailableError, as_azure_error
from ._settings import COGNITIVE_SERVICES_SCOPE, Settings, check_scopes, resolve_settings

if TYPE_CHECKING:
    from azure.core.credentials import AccessTokenInfo


def provider_scopes(scope: str | Sequence[str]) -> tuple[str, ...]:
    """``scope`` as a checked tuple (one string, or several)."""
    scopes = (scope,) if isinstance(scope, str) else tuple(scope)
    try:
        return check_scopes(scopes, method="token_provider")
    except OIDCError as err:
        raise as_azure_error(err) from None


#: The credentials providers share, per (spec, tenant, client, authority), in the lifecycle owner.
_shared: Owned[SharedInstances[tuple[object, ...], OIDCCredential]] = Owned(
    SharedInstances, "token providers"
)


def shared_credential(
    token: str | Spec | None, tenant_id: str | None, client_id: str | None, authority: str | None
) -> OIDCCredential:
    """One credential per process for each (spec, tenant, client, authority).

    Code that builds a new client for every request (as LLM gateways do) then still asks
    Entra once per token lifetime rather than once per request.
    """
    try:
        settings = resolve_settings(token, tenant_id, client_id, authority)
    except OIDCError as err:
        raise as_azure_error(err) from None
    key = (settings.spec, settings.tenant_id, settings.client_id, settings.authority)
    return _shared.get().get_or_create(key, lambda: OIDCCredential(token, tenant_id, client_id, authority))


def clear_shared_credentials() -> None:
    """Forget the credentials :func:`token_provider` shares (their cached access tokens too)."""
    _shared.get().clear()


def check_available(settings: Settings) -> None:
    """Raise ``CredentialUnavailableError`` now, rather than at the first request, when no token
    can be asked for (no spec or tenant)."""
    reason = settings.unavailable_reason()
    if reason is not None:
        raise AzureCredentialUnavailableError(reason)


class LastToken:
    """The last access token a provider handed out and the monotonic time until which it is
    handed out again without asking the credential (its ``refresh_on``)."""

    __slots__ = ("token", "until")

    def __init__(self) -> None:
        self.token = ""
        self.until = float("-inf")

    def remember(self, info: AccessTokenInfo) -> str:
        renew_at = info.refresh_on if info.refresh_on is not None else info.expires_on
        self.until = clock.mono() + (renew_at - clock.now())
        self.token = info.token
        return info.token


def token_provider(
    token: str | Spec | None = None,
    scope: str | Sequence[str] = COGNITIVE_SERVICES_SCOPE,
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    authority: str | None = None,
    credential: OIDCCredential | None = None,
    **kwargs: Any,
) -> Callable[[], str]:
    """A ``Callable[[], str]`` returning an Entra access token for ``scope``, for
    ``AzureOpenAI(azure_ad_token_provider=...)``.

    openai calls it before every request and retry: while the cached token is fresh the
    call is a dictionary lookup and a clock read.  Configuration problems (no spec, tenant
    or client ID; an empty scope) are raised here, not at the first request.  Providers for
    the same spec, tenant and client share one credential (and its cache) per process unless
    transport options are given; ``credential`` supplies a specific :class:`OIDCCredential`.

    Example::

        client = AzureOpenAI(azure_endpoint=endpoint, api_version="2024-10-21",
                             azure_ad_token_provider=token_provider("oidc/google/api://AzureADTokenExchange"))
    """
    scopes = provider_scopes(scope)
    if credential is not None:
        cred = credential
    elif kwargs:
        cred = OIDCCredential(token, tenant_id, client_id, authority, **kwargs)
    else:
        cred = shared_credential(token, tenant_id, client_id, authority)
    check_available(cred.settings)
    last, mono = LastToken(), clock.mono

    def provide() -> str:
        # While the token is fresh, a clock read; otherwise the credential decides (and renews).
        if mono() < last.until:
            return last.token
        return last.remember(cred.get_token_info(*scopes))

    return provide
