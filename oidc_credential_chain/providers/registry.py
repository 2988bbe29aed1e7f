"""The provider registry: built-ins by name, third parties via entry points (lazily).

It also owns :func:`parse_spec`, the public entry that turns a spec string into a checked
:class:`~oidc_credential_chain.spec.Spec`: the grammar comes from ``spec.py``, the provider
check (a known name, an argument where one is required, none where none is taken) from here.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from .._internal.log import get_logger
from ..errors import ConfigurationError
from ..lifecycle import Owned, reset_after_fork
from ..spec import Spec, split_spec
from .base import Provider

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

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
    "kubernetes": "oidc_credential_chain.providers.kubernetes:KubernetesProvider",
    "aws": "oidc_credential_chain.providers.aws_sts:AWSProvider",
    "buildkite": "oidc_credential_chain.providers.buildkite:BuildkiteProvider",
    "gitlab": "oidc_credential_chain.providers.gitlab:GitLabProvider",
    "bitbucket": "oidc_credential_chain.providers.bitbucket:BitbucketProvider",
    "terraform": "oidc_credential_chain.providers.terraform:TerraformProvider",
}


class _Loaded:
    """Providers loaded in this process, and the plugins found (on first need: an unknown name)."""

    def __init__(self) -> None:
        self.instances: dict[str, Provider] = {}
        self.third_party: dict[str, EntryPoint] | None = None
        self.lock = threading.RLock()
        reset_after_fork(self)

    def after_fork_in_child(self) -> None:
        self.lock = threading.RLock()


_loaded: Owned[_Loaded] = Owned(_Loaded, "providers")


def _load(target: str) -> Provider:
    module_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    provider = obj() if isinstance(obj, type) else obj
    if not isinstance(provider, Provider):
        raise TypeError(f"{target} is not an oidc_credential_chain Provider")
    return provider


def _discover_third_party() -> dict[str, EntryPoint]:
    """Plugin entry points by name; reading their metadata imports none of them."""
    loaded = _loaded.get()
    with loaded.lock:
        if loaded.third_party is not None:
            return loaded.third_party
        from importlib.metadata import entry_points

        found: dict[str, EntryPoint] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in BUILTINS:
                _log.warning(
                    "ignoring provider %r from entry point %s: it may not replace the built-in of that name",
                    ep.name,
                    ep.value,
                )
            elif ep.name in found:
                _log.warning(
                    "ignoring provider %r from entry point %s: %s already provides it",
                    ep.name,
                    ep.value,
                    found[ep.name].value,
                )
            else:
                found[ep.name] = ep
        loaded.third_party = found
        return found


def _load_plugin(ep: EntryPoint) -> Provider:
    try:
        obj = ep.load()
        provider = obj() if isinstance(obj, type) else obj
    except Exception as err:  # noqa: BLE001 - a broken plugin must not break the built-ins
        raise ConfigurationError(
            f"the identity provider {ep.name!r} (entry point {ep.value}) could not be loaded: "
            f"{type(err).__name__}: {err}"
        ) from None
    if not isinstance(provider, Provider):
        raise ConfigurationError(
            f"the entry point {ep.value} for identity provider {ep.name!r} is not an "
            "oidc_credential_chain.providers.Provider"
        )
    # The spec says oidc/<entry point name>; messages must use the same name.
    provider.name = ep.name
    return provider


def get_provider(name: str) -> Provider:
    """The provider registered under ``name``.

    Built-ins win; plugins are looked up (and only the one asked for imported) when the
    name is not built in.  Raises :class:`ConfigurationError` listing the known names when
    there is none.

    Example: ``get_provider("github").description``.
    """
    loaded = _loaded.get()
    with loaded.lock:
        provider = loaded.instances.get(name)
        if provider is not None:
            return provider
        target = BUILTINS.get(name)
        if target is not None:
            provider = loaded.instances[name] = _load(target)
            return provider
        ep = _discover_third_party().get(name)
        if ep is not None:
            provider = loaded.instances[name] = _load_plugin(ep)
            return provider
    known = ", ".join(known_providers())
    raise ConfigurationError(
        f"unknown identity provider {name!r} in 'oidc/{name}...'; known providers: {known}"
    )


def known_providers() -> list[str]:
    """Names of every provider: built-ins first, then installed plugins (not imported)."""
    return [*BUILTINS, *sorted(_discover_third_party())]


def reset_registry() -> None:
    """Forget loaded providers and plugins (for tests that install entry points)."""
    loaded = _loaded.get()
    with loaded.lock:
        loaded.instances.clear()
        loaded.third_party = None


def parse_spec(text: str | Spec) -> Spec:
    """Parse a spec and check it against the known providers.

    Raises :class:`ConfigurationError` for text that is not a spec, an unknown provider, a
    missing required argument, or an argument given to a provider that takes none.

    Example::

        spec = parse_spec("oidc/github/sts.amazonaws.com")
        assert (spec.provider, spec.argument) == ("github", "sts.amazonaws.com")
    """
    spec = text if isinstance(text, Spec) else split_spec(text)
    get_provider(spec.provider).check_argument(spec)
    return spec
