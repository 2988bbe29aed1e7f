"""Where an :class:`OIDCCredential`'s settings come from: arguments first, then the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from .._internal.http import is_loopback_host
from .._internal.record import Record
from ..errors import ConfigurationError
from ..providers.registry import parse_spec
from ..spec import Spec, is_spec

TOKEN_VAR = "AZURE_FEDERATED_TOKEN"
TENANT_VAR = "AZURE_TENANT_ID"
CLIENT_VAR = "AZURE_CLIENT_ID"
AUTHORITY_VAR = "AZURE_AUTHORITY_HOST"

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
#: Azure OpenAI's scope: the default of :func:`~oidc_credential_chain.azure.token_provider`.
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"

#: The federated-credential audience of each cloud, by authority host.
EXCHANGE_AUDIENCES = {
    "login.microsoftonline.com": "api://AzureADTokenExchange",
    "login.microsoftonline.us": "api://AzureADTokenExchangeUSGov",
    "login.chinacloudapi.cn": "api://AzureADTokenExchangeChina",
}

_TENANT_ID = re.compile(r"^[A-Za-z0-9.-]+$")


class Settings(Record):
    """Resolved settings; ``spec`` or ``tenant_id`` may be missing (the credential is then unavailable)."""

    spec: Spec | None
    tenant_id: str | None
    client_id: str | None
    authority: str
    additionally_allowed_tenants: tuple[str, ...] = ()
    #: Why ``spec`` is None, for the unavailable message.
    spec_missing: str = ""

    def unavailable_reason(self) -> str | None:
        """Why no token can be asked for (no spec, or no tenant), or None when configured."""
        missing: list[str] = []
        if self.spec is None:
            missing.append(self.spec_missing or f"no token spec (the token argument or {TOKEN_VAR})")
        if self.tenant_id is None:
            missing.append(f"no tenant (the tenant_id argument or {TENANT_VAR})")
        if not missing:
            return None
        return (
            "OIDCCredential is not configured: "
            + " and ".join(missing)
            + f". Set {TOKEN_VAR} to a spec such as 'oidc/github/api://AzureADTokenExchange', "
            f"and {TENANT_VAR} and {CLIENT_VAR} to the Entra app that trusts it"
        )

    def tenant_for(self, requested: str | None) -> str:
        """The tenant to ask: the configured one, or ``requested`` when it is allowed."""
        assert self.tenant_id is not None
        if not requested or requested == self.tenant_id:
            return self.tenant_id
        allowed = self.additionally_allowed_tenants
        if "*" in allowed or requested in allowed:
            return check_tenant_id(requested, "the tenant_id option")
        raise ConfigurationError(
            f"a token for tenant {requested!r} was requested, but this credential is configured for tenant "
            f"{self.tenant_id!r}; add {requested!r} (or '*') to additionally_allowed_tenants to allow it"
        )

    def expected_exchange_audience(self) -> str | None:
        """``api://AzureADTokenExchange[USGov|China]`` for a known authority host, else None."""
        return EXCHANGE_AUDIENCES.get(urlsplit(self.authority).hostname or "")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_tenant_id(tenant_id: str, source: str) -> str:
    """A tenant ID or domain may hold only letters, digits, '-' and '.' (it becomes a URL path segment)."""
    if not _TENANT_ID.match(tenant_id):
        raise ConfigurationError(
            f"{source} {tenant_id!r} is not a tenant ID: use the directory (tenant) GUID or a verified "
            "domain such as contoso.onmicrosoft.com (letters, digits, '-' and '.' only)"
        )
    return tenant_id


def normalize_authority(authority: str, source: str) -> str:
    """``https://host`` from a host or URL; plain http is refused except on loopback (test emulators).

    Example: ``normalize_authority("login.microsoftonline.us", "authority")`` is ``"https://login.microsoftonline.us"``.
    """
    text = authority.strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = parts.hostname or ""
    if not host:
        raise ConfigurationError(f"{source} {authority!r} names no host; use e.g. {PUBLIC_AUTHORITY}")
    if parts.scheme == "https":
        return text
    if parts.scheme == "http" and is_loopback_host(host):
        return text
    raise ConfigurationError(
        f"{source} {authority!r} is not an https URL: the client assertion and the access token would cross "
        f"the network unencrypted. Use https, e.g. {PUBLIC_AUTHORITY} (login.microsoftonline.us for US "
        "Government, login.chinacloudapi.cn for China); plain http is accepted only for loopback test servers"
    )


def resolve_settings(
    token: str | Spec | None,
    tenant_id: str | None,
    client_id: str | None,
    authority: str | None,
    *,
    additionally_allowed_tenants: Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Combine arguments with ``AZURE_FEDERATED_TOKEN``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` and
    ``AZURE_AUTHORITY_HOST``.

    Raises :class:`ConfigurationError` for values that are wrong (a malformed spec or tenant, an
    http authority, a missing client ID when spec and tenant are given).  A missing spec or
    tenant is not an error here: the credential reports it as unavailable when asked for a
    token, so that a ``ChainedTokenCredential`` moves on.
    """
    env = os.environ if environ is None else environ
    spec: Spec | None = None
    spec_missing = ""
    if isinstance(token, Spec):
        spec = parse_spec(token)
    elif _clean(token) is not None:
        assert token is not None
        try:
            spec = parse_spec(token.strip())
        except ConfigurationError as err:
            raise ConfigurationError(f"OIDCCredential token argument: {err.message}") from None
    else:
        from_env = _clean(env.get(TOKEN_VAR))
        if from_env is None:
            spec_missing = f"no token spec (the token argument or {TOKEN_VAR})"
        elif not is_spec(from_env):
            # Other tools put a raw JWT in this variable; only an oidc/ spec is ours to act on.
            spec_missing = f"{TOKEN_VAR} holds no 'oidc/...' spec (its content is not shown)"
        else:
            try:
                spec = parse_spec(from_env)
            except ConfigurationError as err:
                raise ConfigurationError(f"{TOKEN_VAR}: {err.message}") from None

    tenant = _clean(tenant_id)
    if tenant is not None:
        check_tenant_id(tenant, "the tenant_id argument")
    else:
        tenant = _clean(env.get(TENANT_VAR))
        if tenant is not None:
            check_tenant_id(tenant, TENANT_VAR)

    client = _clean(client_id) or _clean(env.get(CLIENT_VAR))
    if spec is not None and tenant is not None and client is None:
        raise ConfigurationError(
            f"OIDCCredential for {spec.text} in tenant {tenant} has no client ID: pass client_id= or set "
            f"{CLIENT_VAR} to the application (client) ID of the Entra app whose federated credential "
            "trusts the token"
        )

    if _clean(authority) is not None:
        assert authority is not None
        resolved_authority = normalize_authority(authority, "the authority argument")
    elif _clean(env.get(AUTHORITY_VAR)) is not None:
        resolved_authority = normalize_authority(env[AUTHORITY_VAR], AUTHORITY_VAR)
    else:
        resolved_authority = PUBLIC_AUTHORITY

    return Settings(
        spec=spec,
        tenant_id=tenant,
        client_id=client,
        authority=resolved_authority,
        additionally_allowed_tenants=tuple(additionally_allowed_tenants or ()),
        spec_missing=spec_missing,
    )


def check_scopes(scopes: Sequence[str], *, method: str = "get_token") -> tuple[str, ...]:
    """The scopes as a tuple; no scope, or a blank one, is an error (a ``ValueError`` too)."""
    from ._errors import AzureScopeError

    if not scopes:
        raise AzureScopeError(
            f"{method} needs at least one scope, e.g. '{COGNITIVE_SERVICES_SCOPE}' for Azure OpenAI "
            "(Entra issues client-credential tokens for '<resource>/.default')"
        )
    for scope in scopes:
        if not isinstance(scope, str) or not scope.strip():
            raise AzureScopeError(
                f"{method}: a scope must be a non-empty string like '{COGNITIVE_SERVICES_SCOPE}'"
            )
    return tuple(scopes)
