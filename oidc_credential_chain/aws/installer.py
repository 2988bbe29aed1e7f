"""``install()`` / ``uninstall()``: put the provider into every botocore session.

Registration goes through ``botocore.register_initializer``: each new session gets a
*lazily* built credential resolver, so an explicitly chosen profile and the region of the
session's first client (both known only later) are honoured as botocore itself does.
The provider goes into botocore's default chain just before the ``assume-role`` provider.

aiobotocore's ``AioSession`` is a botocore session, so the same initializer reaches it; it
gets the async provider (:mod:`.aio.provider`) in its asynchronous chain.  The provider is
put in with ``CredentialResolver.insert_before``.

AWS CLI v2 bundles a botocore without ``register_initializer``; there the session class's
resolver factory is wrapped instead (:mod:`._seams`, the one write to a botocore private).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
import types
import weakref
from collections.abc import Callable
from typing import Any

from .. import _botocore_hook
from .._botocore_hook import MARK as _HOOK_MARK
from .._internal.log import get_logger
from ..errors import ConfigurationError
from ..lifecycle.fork import ForkSafeLock
from . import _seams
from .config import WebIdentityConfig
from .provider import OIDCWebIdentityProvider

_log = get_logger("aws")

#: Sessions that have the provider (weakly held: a session's life is its owner's business).
_attached: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclasses.dataclass
class _Installation:
    package: types.ModuleType
    #: The wrapped ``Session._create_credential_resolver`` where there is no register_initializer.
    patched_factory: Callable[..., Any] | None = None


_installed: dict[str, _Installation] = {}
_lock = ForkSafeLock(reentrant=True)


def install(*, default_session: bool = True) -> None:
    """Give every botocore session created from now on the ``oidc/...`` provider.

    boto3's existing default session (``boto3.client(...)``) gets it too, keeping its
    profile and region, unless ``default_session=False``.  Calling it again does nothing.

    Example::

        import oidc_credential_chain.aws
        oidc_credential_chain.aws.install()
        boto3.client("bedrock-runtime").converse(...)
    """
    try:
        botocore = importlib.import_module("botocore")
    except ImportError:
        raise ConfigurationError(
            "oidc_credential_chain.aws.install() needs botocore: pip install 'oidc-credential-chain[aws]'"
        ) from None
    install_into(botocore)
    if default_session:
        _attach_boto3_default_session()


def install_into(package: types.ModuleType) -> None:
    """Install into one imported botocore package (``botocore``, or the AWS CLI's copy)."""
    name = package.__name__
    with _lock:
        if name in _installed:
            return
        register = getattr(package, "register_initializer", None)
        if callable(register):
            register(attach)
            _installed[name] = _Installation(package)
        else:
            session_cls = importlib.import_module(f"{name}.session").Session
            patched = _seams.wrap_resolver_factory(session_cls, with_provider)
            _installed[name] = _Installation(package, patched_factory=patched)
        _log.debug("installed the oidc-web-identity credential provider into %s", name)


def uninstall() -> None:
    """Stop adding the provider to new sessions (existing sessions keep theirs)."""
    with _lock:
        _botocore_hook.unregister()  # the startup hook's stand-in, if it registered one
        for name, installation in list(_installed.items()):
            if installation.patched_factory is not None:
                session_cls = importlib.import_module(f"{name}.session").Session
                _seams.unwrap_resolver_factory(session_cls, installation.patched_factory)
            else:
                # ValueError: someone else removed it already.
                with contextlib.suppress(ValueError):
                    installation.package.unregister_initializer(attach)
            del _installed[name]


def installed() -> bool:
    """True while :func:`install` (or the startup hook) is in effect for ``botocore``."""
    return bool(_installed) or _botocore_hook.registered()


def attach(session: Any) -> None:
    """Give one botocore session the provider (the ``register_initializer`` callback).

    The resolver is built when the session first needs credentials, by botocore's own
    factory, and the provider is inserted into it.
    """
    with _lock:
        # The startup hook's stand-in marks the sessions it attached itself (a read, never a write).
        if session in _attached or getattr(session, _HOOK_MARK, False):
            return
        _attached.add(session)
    session.lazy_register_component(
        "credential_provider", lambda: with_provider(session, _seams.default_resolver(session))
    )


def attach_config(session: Any, config: WebIdentityConfig) -> None:
    """Make ``session`` use exactly this identity, whatever the environment says."""
    from .sts import botocore_package

    credentials_module = importlib.import_module(f"{botocore_package(session)}.credentials")
    with _lock:
        _attached.add(session)
    provider = OIDCWebIdentityProvider(session, config=config)
    session.register_component(
        "credential_provider", credentials_module.CredentialResolver(providers=[provider])
    )


def with_provider(session: Any, resolver: Any) -> Any:
    """``resolver`` with the provider (async for an aiobotocore session) before ``assume-role`` (once)."""
    return _botocore_hook.place_provider(resolver, lambda: _provider_for(session))


def _provider_for(session: Any) -> Any:
    if _botocore_hook.is_async(session):
        from .aio.provider import AioOIDCWebIdentityProvider

        return AioOIDCWebIdentityProvider(session)
    return OIDCWebIdentityProvider(session)


def _attach_boto3_default_session() -> None:
    boto3 = sys.modules.get("boto3")
    default = getattr(boto3, "DEFAULT_SESSION", None) if boto3 is not None else None
    botocore_session = getattr(default, "_session", None)
    if (
        botocore_session is None
        or botocore_session in _attached
        or getattr(botocore_session, _HOOK_MARK, False)
    ):
        return
    if getattr(botocore_session, "_credentials", None) is not None:
        # Credentials were found and are in use; replacing them under running clients would surprise.
        _log.debug("boto3's default session already has credentials; left as it is")
        return
    attach(botocore_session)


def autoload(session_module: types.ModuleType) -> None:
    """Called by the startup hook right after ``<botocore>.session`` was imported."""
    package_name = session_module.__name__.rsplit(".", 1)[0]
    package = sys.modules.get(package_name)
    if package is not None:
        install_into(package)


__all__ = [
    "attach",
    "attach_config",
    "autoload",
    "install",
    "install_into",
    "installed",
    "uninstall",
    "with_provider",
]
