"""The provider registry: built-ins by name, third parties via entry points (lazily)."""

from __future__ import annotations

import importlib
import threading

from .._internal.log import get_logger
from ..errors import ConfigurationError
from .base import Provider

_log = get_logger("providers")

ENTRY_POINT_GROUP = "oidc_credential_chain.providers"

#: name -> "module:attribute" of the built-in providers; imported only when used.
BUILTINS: dict[str, str] = {
    "google": "oidc_credential_chain.providers.google:GoogleProvider",
    "github": "oidc_credential_chain.providers.github:GitHubProvider",
    "circleci": "oidc_credential_chain.providers.circleci:CircleCIProvider",
    "circleci_v2": "oidc_credential_chain.providers.circleci:CircleCIV2Provider",
    "azure": "oidc_credential_chain.providers.azure:AzureProvider",
    "file": "oidc_credential_chain.providers.local:FileProvider",
    "env": "oidc_credential_chain.providers.local:EnvProvider",
    "env_path": "oidc_credential_chain.providers.local:EnvPathProvider",
}

_instances: dict[str, Provider] = {}
_third_party: dict[str, Provider] | None = None
_lock = threading.RLock()


def _load(target: str) -> Provider:
    module_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    provider = obj() if isinstance(obj, type) else obj
    if not isinstance(provider, Provider):
        raise TypeError(f"{target} is not an oidc_credential_chain Provider")
    return provider


def _load_third_party() -> dict[str, Provider]:
    global _third_party
    with _lock:
        if _third_party is not None:
            return _third_party
        found: dict[str, Provider] = {}
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in BUILTINS:
                _log.warning(
                    "ignoring provider %r from entry point %s: it may not replace the built-in of that name",
                    ep.name,
                    ep.value,
                )
                continue
            try:
                obj = ep.load()
                provider = obj() if isinstance(obj, type) else obj
            except Exception as err:  # noqa: BLE001 - a broken plugin must not break the built-ins
                _log.warning("could not load provider %r from entry point %s: %s", ep.name, ep.value, err)
                continue
            if not isinstance(provider, Provider):
                _log.warning("entry point %s for %r is not a Provider; ignored", ep.value, ep.name)
                continue
            provider.name = provider.name or ep.name
            found[ep.name] = provider
        _third_party = found
        return found


def get_provider(name: str) -> Provider:
    """The provider registered under ``name``.

    Raises :class:`ConfigurationError` listing the known names when there is none.

    Example: ``get_provider("github").description``.
    """
    with _lock:
        provider = _instances.get(name)
        if provider is not None:
            return provider
        target = BUILTINS.get(name)
        if target is not None:
            provider = _instances[name] = _load(target)
            return provider
    third = _load_third_party()
    if name in third:
        return third[name]
    known = ", ".join(known_providers())
    raise ConfigurationError(
        f"unknown identity provider {name!r} in 'oidc/{name}...'; known providers: {known}"
    )


def known_providers() -> list[str]:
    """Names of every provider: built-ins first, then installed plugins."""
    return [*BUILTINS, *sorted(_load_third_party())]


def reset_registry() -> None:
    """Forget loaded providers and plugins (for tests that install entry points)."""
    global _third_party
    with _lock:
        _instances.clear()
        _third_party = None
