"""Startup hook of oidc-credential-chain: lets stock SDK code use ``oidc/...`` specs.

The wheel ships ``oidc_credential_chain_autoload.pth`` (and, for Python 3.15+, the matching
PEP 829 ``oidc_credential_chain_autoload.start``), which calls :func:`activate` at
interpreter start.  Activation only puts a small finder at the front of ``sys.meta_path``:
nothing is imported.  When a watched SDK module has been imported, the finder calls that
SDK's hook, named in :data:`HOOKS`:

- ``botocore.session``: registers a tiny session initializer; the provider itself (and the
  rest of this package) loads only when a session needs credentials and a spec is
  configured (``AWS_WEB_IDENTITY_TOKEN`` or a profile's ``oidc_web_identity_token``);
- ``azure.identity`` / ``azure.identity.aio``: ``DefaultAzureCredential`` adds an
  ``OIDCCredential`` when ``AZURE_FEDERATED_TOKEN`` holds a spec;
- ``openai.lib.azure``: ``AzureOpenAI()`` turns ``AZURE_OPENAI_AD_TOKEN=oidc/...`` into a
  token provider.

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

#: Watched module -> ``"module:function"`` called with it once it has been executed.  A hook
#: imports what it needs itself, so a process that never imports the SDK pays nothing.
HOOKS = {
    "botocore.session": "oidc_credential_chain._botocore_hook:autoload",
    "awscli.botocore.session": "oidc_credential_chain._botocore_hook:autoload",
    "azure.identity": "oidc_credential_chain.azure._hook:patch_identity",
    "azure.identity.aio": "oidc_credential_chain.azure._hook:patch_identity_aio",
    "openai.lib.azure": "oidc_credential_chain.azure._hook:patch_openai",
}
_OFF = frozenset({"0", "false", "no", "off"})
_pending: set = set()  # watched modules not imported yet


def enabled() -> bool:
    """False when ``OIDC_CREDENTIAL_CHAIN_AUTOLOAD`` is 0/false/no/off."""
    return os.environ.get("OIDC_CREDENTIAL_CHAIN_AUTOLOAD", "").strip().lower() not in _OFF


class ImportWatcher:
    """A meta-path finder that never finds anything itself; it wraps watched modules' loaders."""

    def find_spec(
        self, fullname: str, path: "Sequence[str] | None" = None, target: "types.ModuleType | None" = None
    ) -> "ModuleSpec | None":
        if fullname not in _pending:
            return None
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            if isinstance(finder, ImportWatcher):
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

        def exec_then_hook(module: "types.ModuleType") -> None:
            exec_module(module)
            run_hook(module)

        try:
            setattr(loader, "exec_module", exec_then_hook)  # noqa: B010 - an instance attribute, on purpose
        except (AttributeError, TypeError):
            return spec  # a loader that cannot be wrapped: the SDK loads stock
        return spec

    def invalidate_caches(self) -> None:
        return None


def run_hook(module: "types.ModuleType") -> None:
    """Call the hook for ``module`` (once); never let it break the user's import."""
    name = module.__name__
    if name not in _pending:
        return
    _pending.discard(name)
    if not _pending:
        deactivate()
    target, _, function = HOOKS[name].partition(":")
    try:
        __import__(target)
        getattr(sys.modules[target], function)(module)
    except Exception as err:  # noqa: BLE001 - a broken install must not break the user's import
        import logging

        logging.getLogger("oidc_credential_chain").warning(
            "could not hook oidc/... support into %s: %s", name, err
        )


def activate() -> None:
    """Install the finder (once), and run the hooks of watched modules already imported."""
    if not enabled():
        return
    if not any(isinstance(finder, ImportWatcher) for finder in sys.meta_path):
        _pending.update(HOOKS)
        sys.meta_path.insert(0, ImportWatcher())
    for name in HOOKS:
        module = sys.modules.get(name)
        if module is not None:
            run_hook(module)


def deactivate() -> None:
    """Remove the finder (what the hooks installed stays where it is)."""
    _pending.clear()
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, ImportWatcher)]
