"""Zero code change on Azure: what the startup hook does when ``azure.identity`` or openai loads.

- ``DefaultAzureCredential`` (sync and ``aio``): when ``AZURE_FEDERATED_TOKEN`` holds an
  ``oidc/...`` spec at construction, an :class:`~oidc_credential_chain.azure.OIDCCredential`
  joins the chain (its public ``credentials`` tuple) right after ``EnvironmentCredential`` (a
  secret or certificate in the environment still wins) and before ``WorkloadIdentityCredential``.
- ``AzureOpenAI`` / ``AsyncAzureOpenAI``: a spec in ``AZURE_OPENAI_AD_TOKEN`` (or passed as
  ``azure_ad_token``) becomes ``azure_ad_token_provider=token_provider(spec)``, so a spec is
  never sent as a bearer token.

Both wrap the classes' constructors and change nothing when no spec is configured.  This
module loads with every ``import azure.identity`` / ``import openai`` of the environment, so it
imports nothing of its own until a spec is found.
"""

from __future__ import annotations

import functools
import os
from typing import Any

FEDERATED_TOKEN_VAR = "AZURE_FEDERATED_TOKEN"
OPENAI_TOKEN_VAR = "AZURE_OPENAI_AD_TOKEN"
#: Marks a wrapped constructor (``__wrapped__`` is the stock one).
_MARK = "_oidc_credential_chain_hook"
#: ``DefaultAzureCredential`` options that are azure-core transport options, passed on as they are.
_TRANSPORT_OPTIONS = frozenset(
    {
        "transport",
        "connection_verify",
        "connection_cert",
        "proxies",
        "connection_timeout",
        "read_timeout",
        "retry_total",
        "retry_mode",
        "retry_backoff_factor",
        "retry_backoff_max",
        "user_agent",
        "logging_enable",
    }
)
#: Credentials of ``DefaultAzureCredential``'s deployed-service part, by class name (a failed
#: ``WorkloadIdentityCredential`` shows up as ``[Async]FailedDACCredential`` in recent versions).  A chain
#: with none of them (``AZURE_TOKEN_CREDENTIALS=dev``, or all excluded) is left as it is.
_SERVICE_CREDENTIALS = frozenset(
    {
        "EnvironmentCredential",
        "WorkloadIdentityCredential",
        "ManagedIdentityCredential",
        "FailedDACCredential",
        "AsyncFailedDACCredential",
    }
)


def _spec_in(value: object) -> str | None:
    if isinstance(value, str) and value.strip().startswith("oidc/"):
        return value.strip()
    return None


def _federated_spec() -> str | None:
    spec = _spec_in(os.environ.get(FEDERATED_TOKEN_VAR))
    # oidc/azure/<audience> takes its token from DefaultAzureCredential itself: joining that chain
    # would make it ask itself.
    if spec is None or spec.rstrip("/").startswith("oidc/azure/"):
        return None
    return spec


# DefaultAzureCredential -------------------------------------------------------------------------
def patch_identity(module: Any) -> None:
    """The startup hook's call once ``azure.identity`` has been imported."""
    _wrap_default(module.DefaultAzureCredential, aio=False)


def patch_identity_aio(module: Any) -> None:
    """The startup hook's call once ``azure.identity.aio`` has been imported."""
    _wrap_default(module.DefaultAzureCredential, aio=True)


def _wrap_default(cls: type, *, aio: bool) -> None:
    stock = cls.__init__  # type: ignore[misc]
    if getattr(stock, _MARK, False):
        return

    @functools.wraps(stock)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        stock(self, *args, **kwargs)
        spec = _federated_spec()
        if spec is not None:
            self.credentials = with_oidc_credential(self.credentials, spec, kwargs, aio=aio)

    setattr(__init__, _MARK, True)
    cls.__init__ = __init__  # type: ignore[misc]


def with_oidc_credential(
    credentials: tuple[Any, ...], spec: str, options: dict[str, Any], *, aio: bool
) -> tuple[Any, ...]:
    """``credentials`` with an ``OIDCCredential`` for ``spec`` after ``EnvironmentCredential``.

    ``options`` are the ``DefaultAzureCredential`` keyword arguments: its authority, workload
    identity tenant and client, allowed tenants and transport options carry over.

    Example::

        dac.credentials = with_oidc_credential(dac.credentials, "oidc/github/api://AzureADTokenExchange", {},
                                               aio=False)
    """
    names = [type(c).__name__ for c in credentials]
    if not _SERVICE_CREDENTIALS.intersection(names):
        return credentials
    if aio:
        from .aio._credential import OIDCCredential as AsyncOIDCCredential

        credential: Any = AsyncOIDCCredential(spec, **_credential_options(options))
    else:
        from ._credential import OIDCCredential

        credential = OIDCCredential(spec, **_credential_options(options))
    at = names.index("EnvironmentCredential") + 1 if "EnvironmentCredential" in names else 0
    return (*credentials[:at], credential, *credentials[at:])


def _credential_options(options: dict[str, Any]) -> dict[str, Any]:
    chosen = {k: v for k, v in options.items() if k in _TRANSPORT_OPTIONS}
    for ours, theirs in (
        ("tenant_id", "workload_identity_tenant_id"),
        ("client_id", "workload_identity_client_id"),
        ("authority", "authority"),
        ("additionally_allowed_tenants", "additionally_allowed_tenants"),
    ):
        if options.get(theirs):
            chosen[ours] = options[theirs]
    return chosen


# openai's AzureOpenAI ------------------------------------------------------------------------------
def patch_openai(module: Any) -> None:
    """The startup hook's call once ``openai.lib.azure`` has been imported."""
    _wrap_azure_openai(module.AzureOpenAI, aio=False)
    _wrap_azure_openai(module.AsyncAzureOpenAI, aio=True)


def _wrap_azure_openai(cls: type, *, aio: bool) -> None:
    stock = cls.__init__  # type: ignore[misc]
    if getattr(stock, _MARK, False):
        return

    @functools.wraps(stock)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        spec = openai_spec(kwargs)
        if spec is None:
            stock(self, *args, **kwargs)
            return
        kwargs.pop("azure_ad_token", None)
        kwargs["azure_ad_token_provider"] = _token_provider(spec, aio=aio)
        stock(self, *args, **kwargs)
        # openai before 1.x's auth rework read AZURE_OPENAI_AD_TOKEN even beside a provider, and sent it
        # first: refuse rather than let the spec go out as a bearer token.
        if _spec_in(getattr(self, "_azure_ad_token", None)) is not None:
            from ._errors import AzureConfigurationError

            raise AzureConfigurationError(
                f"{OPENAI_TOKEN_VAR} holds an 'oidc/...' spec, and this openai version reads that variable "
                "even when azure_ad_token_provider is given, so it would send the spec as a bearer token. "
                f"Unset {OPENAI_TOKEN_VAR} and pass azure_ad_token_provider="
                "oidc_credential_chain.azure.token_provider(...), or upgrade openai"
            )

    setattr(__init__, _MARK, True)
    cls.__init__ = __init__  # type: ignore[misc]


def openai_spec(kwargs: dict[str, Any]) -> str | None:
    """The spec an ``AzureOpenAI(**kwargs)`` would otherwise send as a bearer token, if any.

    Example: ``openai_spec({"azure_ad_token": "oidc/github/api://AzureADTokenExchange"})``.
    """
    explicit = _spec_in(kwargs.get("azure_ad_token"))
    if explicit is not None:
        if kwargs.get("azure_ad_token_provider") is not None or kwargs.get("api_key") is not None:
            from ._errors import AzureConfigurationError

            raise AzureConfigurationError(
                f"azure_ad_token={explicit} stands for azure_ad_token_provider=token_provider({explicit!r}); "
                "pass only one of api_key, azure_ad_token and azure_ad_token_provider"
            )
        return explicit
    if any(kwargs.get(name) is not None for name in ("api_key", "azure_ad_token", "azure_ad_token_provider")):
        return None
    return _spec_in(os.environ.get(OPENAI_TOKEN_VAR))


def _token_provider(spec: str, *, aio: bool) -> Any:
    if aio:
        from .aio._token_provider import token_provider as async_token_provider

        return async_token_provider(spec)
    from ._token_provider import token_provider

    return token_provider(spec)


__all__ = ["openai_spec", "patch_identity", "patch_identity_aio", "patch_openai", "with_oidc_credential"]
