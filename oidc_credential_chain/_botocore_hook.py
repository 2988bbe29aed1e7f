"""What the startup hook registers when botocore is imported: a session initializer and a
stand-in provider, both tiny.

Every process that imports boto3 runs this, configured or not, so it imports nothing
(not even ``typing``).  The stand-in sits in botocore's chain where the real provider goes;
botocore calls its ``load()`` only when a session needs credentials, and only then, if a
spec is configured anywhere (``AWS_WEB_IDENTITY_TOKEN`` or an ``oidc_web_identity_token``
in the config file), is :class:`~oidc_credential_chain.aws.provider.OIDCWebIdentityProvider`
imported and asked.  A profile chosen after the session was created is therefore still
honoured, as with :func:`oidc_credential_chain.aws.install`.
"""

import os
import sys

# Neither typing nor __future__ is imported (annotations are strings): this loads with every boto3.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from collections.abc import Callable
    from typing import Any

#: ``OIDCWebIdentityProvider.METHOD``, repeated here so that the provider module stays unloaded.
METHOD = "oidc-web-identity"
#: Set on a session once it has the provider (``aws.installer`` reads the same mark).
MARK = "_oidc_credential_chain_attached"
ENV_TOKEN = "AWS_WEB_IDENTITY_TOKEN"
PROFILE_TOKEN = "oidc_web_identity_token"

#: botocore packages (``botocore``, the AWS CLI's copy) whose sessions get the stand-in.
_registered: "dict[str, types.ModuleType]" = {}


def autoload(session_module: "types.ModuleType") -> None:
    """The startup hook's call once ``<botocore>.session`` has been imported."""
    package = sys.modules.get(session_module.__name__.rpartition(".")[0])
    if package is None:
        return
    register = getattr(package, "register_initializer", None)
    if not callable(register):
        # The AWS CLI's bundled botocore has no initializers: install the full provider there.
        from .aws.installer import install_into

        install_into(package)
        return
    if package.__name__ not in _registered:
        register(attach)
        _registered[package.__name__] = package


def registered() -> bool:
    """True while the stand-in is registered with some botocore."""
    return bool(_registered)


def unregister() -> None:
    """Stop giving new sessions the stand-in (existing sessions keep it)."""
    for name, package in list(_registered.items()):
        try:  # noqa: SIM105 - contextlib is not imported here
            package.unregister_initializer(attach)
        except ValueError:
            pass  # someone else removed it already
        del _registered[name]


def attach(session: "Any") -> None:
    """botocore session initializer: the resolver, when built, gets a stand-in provider.

    aiobotocore sessions (whose chain awaits ``load()``) get :class:`AsyncLazyProvider`,
    the others :class:`LazyProvider`.
    """
    if getattr(session, MARK, False):
        return
    setattr(session, MARK, True)
    stand_in = AsyncLazyProvider if is_async(session) else LazyProvider
    session.lazy_register_component(
        "credential_provider",
        lambda: place_provider(session._create_credential_resolver(), lambda: stand_in(session)),
    )


def place_provider(resolver: "Any", make_provider: "Callable[[], Any]") -> "Any":
    """``resolver`` with ``make_provider()`` just before ``assume-role``, else after ``env``,
    else first; unchanged when it has a provider of this library already.

    Example: ``place_provider(resolver, lambda: LazyProvider(session))``.
    """
    providers = getattr(resolver, "providers", None)
    if not isinstance(providers, list):
        return resolver
    methods = [getattr(p, "METHOD", None) for p in providers]
    if METHOD in methods:
        return resolver
    provider = make_provider()
    if "assume-role" in methods:
        resolver.insert_before("assume-role", provider)
    elif "env" in methods:
        resolver.insert_after("env", provider)
    else:
        providers.insert(0, provider)
    return resolver


def is_async(session: "Any") -> bool:
    """Whether ``session`` is an aiobotocore session: they subclass botocore's, but their chain
    awaits ``load()``."""
    return any(cls.__module__.startswith("aiobotocore") for cls in type(session).__mro__)


def configured(session: "Any") -> bool:
    """Could a spec be in force for ``session``?  Cheap, and never wrong the other way."""
    if os.environ.get(ENV_TOKEN, "").strip().startswith("oidc/"):
        return True
    profiles = session.full_config.get("profiles", {})
    # Any profile, not only the active one: a source_profile chain may lead to it.
    return any(isinstance(p, dict) and PROFILE_TOKEN in p for p in profiles.values())


class _StandIn:
    """What botocore's chain reads of a provider before calling ``load()``."""

    METHOD = METHOD
    CANONICAL_NAME = "customOIDCWebIdentity"  # botocore's rule for providers from outside botocore

    def __init__(self, session: "Any") -> None:
        self._session = session
        self._provider: Any = None


class LazyProvider(_StandIn):
    """A botocore credential provider standing in for ``OIDCWebIdentityProvider``.

    Example::

        resolver.insert_before("assume-role", LazyProvider(session))
    """

    def load(self) -> "Any":
        """botocore's hook: None unless a spec is configured, else the real provider's answer."""
        if self._provider is None:
            if not configured(self._session):
                return None
            from .aws.provider import OIDCWebIdentityProvider

            self._provider = OIDCWebIdentityProvider(self._session)
        return self._provider.load()


class AsyncLazyProvider(_StandIn):
    """An aiobotocore credential provider standing in for ``AioOIDCWebIdentityProvider``.

    Example::

        resolver.insert_before("assume-role", AsyncLazyProvider(aio_session))
    """

    async def load(self) -> "Any":
        """aiobotocore's hook: None unless a spec is configured, else the real provider's answer."""
        if self._provider is None:
            if not configured(self._session):
                return None
            from .aws.aio.provider import AioOIDCWebIdentityProvider

            self._provider = AioOIDCWebIdentityProvider(self._session)
        return await self._provider.load()
