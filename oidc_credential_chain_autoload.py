"""Startup hook of oidc-credential-chain: adds the ``oidc/...`` provider to botocore.

The wheel ships ``oidc_credential_chain_autoload.pth`` (and, for Python 3.15+, the matching
PEP 829 ``oidc_credential_chain_autoload.start``), which calls :func:`activate` at
interpreter start.  Activation only puts a small finder at the front of ``sys.meta_path``:
nothing is imported.  When ``botocore.session`` is imported, the finder lets it load, then
installs the credential provider (which does nothing unless ``AWS_WEB_IDENTITY_TOKEN`` or
the profile names an ``oidc/`` spec) and removes itself.

``OIDC_CREDENTIAL_CHAIN_AUTOLOAD=0`` turns it off.  Site hooks do not run under
``python -S``, in AWS Lambda's ``/var/task``, after ``pip install --target`` or in zipapps:
call ``oidc_credential_chain.aws.install()`` there.

This module runs in every interpreter start of the environment, so it imports only ``os``
and ``sys`` (both already loaded by then); annotations are strings so that neither
``typing`` nor ``__future__`` has to be imported.
"""

import os
import sys

TYPE_CHECKING = False  # typing itself is not imported: it costs more than this whole hook
if TYPE_CHECKING:
    import types
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec

_WATCHED = frozenset({"botocore.session", "awscli.botocore.session"})
_OFF = frozenset({"0", "false", "no", "off"})


def enabled() -> bool:
    """False when ``OIDC_CREDENTIAL_CHAIN_AUTOLOAD`` is 0/false/no/off."""
    return os.environ.get("OIDC_CREDENTIAL_CHAIN_AUTOLOAD", "").strip().lower() not in _OFF


class BotocoreWatcher:
    """A meta-path finder that never finds anything itself; it wraps botocore.session's loader."""

    def find_spec(
        self, fullname: str, path: "Sequence[str] | None" = None, target: "types.ModuleType | None" = None
    ) -> "ModuleSpec | None":
        if fullname not in _WATCHED:
            return None
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            if isinstance(finder, BotocoreWatcher):
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is not None:
                spec = find_spec(fullname, path, target)
                if spec is not None:
                    break
        if spec is None:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_install(module: "types.ModuleType") -> None:
            exec_module(module)
            _installed(module)

        try:
            setattr(loader, "exec_module", exec_then_install)  # noqa: B010 - an instance attribute, on purpose
        except (AttributeError, TypeError):
            return spec  # a loader that cannot be wrapped: botocore loads without the provider
        return spec

    def invalidate_caches(self) -> None:
        return None


def _installed(module: "types.ModuleType") -> None:
    deactivate()
    try:
        from oidc_credential_chain.aws.installer import autoload
    except Exception:  # noqa: BLE001 - a broken install must not break the user's import of botocore
        return
    try:
        autoload(module)
    except Exception as err:  # noqa: BLE001 - idem
        import logging

        logging.getLogger("oidc_credential_chain.aws").warning(
            "could not install the oidc/... credential provider into %s: %s",
            module.__name__,
            err,
        )


def activate() -> None:
    """Install the finder (once), or the provider at once if botocore is already loaded."""
    if not enabled():
        return
    for name in _WATCHED:
        module = sys.modules.get(name)
        if module is not None:
            _installed(module)
            return
    if not any(isinstance(finder, BotocoreWatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, BotocoreWatcher())


def deactivate() -> None:
    """Remove the finder (the provider stays installed where it was)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, BotocoreWatcher)]
