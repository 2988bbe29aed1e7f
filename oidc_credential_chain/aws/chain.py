"""``source_profile`` role chains whose root is an ``oidc_*`` profile.

::

    [profile fed]
    oidc_web_identity_token = oidc/github/sts.amazonaws.com
    oidc_role_arn = arn:aws:iam::111111111111:role/ci

    [profile deploy]
    role_arn = arn:aws:iam::222222222222:role/deploy
    source_profile = fed

botocore's assume-role provider resolves a ``source_profile`` through the providers its
``profile_provider_builder`` (a constructor argument) lists.  For such a chain the
``oidc-web-identity`` provider answers with botocore's own assume-role provider, built
with a builder whose list starts with ours.  Everything else about chains (``external_id``,
``mfa_serial``, ``duration_seconds``, loops, caching) stays botocore's; the chained role is
refreshed through the whole chain because botocore's fetcher asks the source credentials
(ours, refreshable) for fresh keys on every assume-role call.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from . import _seams
from .core import Lookup


def _source_lookup(profile_name: str) -> Lookup:
    # A source profile is read as botocore reads one: that profile only, never the environment.
    return Lookup(profile_name=profile_name, disable_env_vars=True)


@functools.cache
def _builder_class(package: str) -> type:
    base: Any = importlib.import_module(f"{package}.credentials").ProfileProviderBuilder

    class OIDCProfileProviderBuilder(base):  # type: ignore[misc]
        """botocore's profile providers, with the ``oidc_*`` one first."""

        def __init__(self, session: Any, **kwargs: Any) -> None:
            super().__init__(session, **kwargs)
            self.oidc_session = session

        def providers(self, profile_name: str, disable_env_vars: bool = False) -> list[Any]:
            from .provider import OIDCWebIdentityProvider

            ours = OIDCWebIdentityProvider(self.oidc_session, lookup=_source_lookup(profile_name))
            return [ours, *super().providers(profile_name=profile_name, disable_env_vars=disable_env_vars)]

    return OIDCProfileProviderBuilder


@functools.cache
def _aio_builder_class() -> type:
    base: Any = importlib.import_module("aiobotocore.credentials").AioProfileProviderBuilder

    class AioOIDCProfileProviderBuilder(base):  # type: ignore[misc]
        """aiobotocore's profile providers, with the async ``oidc_*`` one first."""

        def __init__(self, session: Any, **kwargs: Any) -> None:
            super().__init__(session, **kwargs)
            self.oidc_session = session

        def providers(self, profile_name: str, disable_env_vars: bool = False) -> list[Any]:
            from .aio.provider import AioOIDCWebIdentityProvider

            ours = AioOIDCWebIdentityProvider(self.oidc_session, lookup=_source_lookup(profile_name))
            return [ours, *super().providers(profile_name=profile_name, disable_env_vars=disable_env_vars)]

    return AioOIDCProfileProviderBuilder


def _client_creator(session: Any, package: str) -> Callable[..., Any]:
    """What botocore's assume-role provider calls to make its STS client (nested: no plugins)."""
    utils = importlib.import_module(f"{package}.utils")
    create = getattr(utils, "create_nested_client", None)
    region = _seams.last_client_region(session)

    def client_creator(service_name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("region_name", region)
        if create is not None:
            return create(session, service_name, **kwargs)
        return session.create_client(service_name, **kwargs)

    return client_creator


def assume_role_provider(session: Any, profile_name: str, package: str) -> Any:
    """botocore's ``AssumeRoleProvider`` for ``profile_name``, able to source ``oidc_*`` profiles."""
    credentials = importlib.import_module(f"{package}.credentials")
    cache: dict[str, Any] = {}
    region = _seams.last_client_region(session)
    return credentials.AssumeRoleProvider(
        load_config=lambda: session.full_config,
        client_creator=_client_creator(session, package),
        cache=cache,
        profile_name=profile_name,
        profile_provider_builder=_builder_class(package)(session, cache=cache, region_name=region),
    )


def aio_assume_role_provider(session: Any, profile_name: str) -> Any:
    """aiobotocore's ``AioAssumeRoleProvider`` for ``profile_name``, able to source ``oidc_*`` profiles."""
    credentials = importlib.import_module("aiobotocore.credentials")
    cache: dict[str, Any] = {}
    region = _seams.last_client_region(session)
    return credentials.AioAssumeRoleProvider(
        load_config=lambda: session.full_config,
        client_creator=_client_creator(session, "aiobotocore"),
        cache=cache,
        profile_name=profile_name,
        profile_provider_builder=_aio_builder_class()(session, cache=cache, region_name=region),
    )


__all__ = ["aio_assume_role_provider", "assume_role_provider"]
