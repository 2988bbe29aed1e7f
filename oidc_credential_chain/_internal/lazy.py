"""Lazy package exports (PEP 562), so importing a package costs next to nothing.

Every public package of the library imports its names on first use: credentials load in
every cold start, and the SDKs behind them (boto3, azure, google-auth, requests) are only
imported when a feature needs them.
"""

from __future__ import annotations

# Not ``from typing import ...``: typing costs more than the package import this saves.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, MutableMapping
    from typing import Any


def load_attribute(
    package: str,
    names: Mapping[str, str],
    namespace: MutableMapping[str, Any],
    name: str,
    *,
    submodules: Iterable[str] = (),
) -> Any:
    """The value of ``package.name``: a subpackage, or a name from the module ``names`` maps it to.

    A missing optional dependency raises :class:`~oidc_credential_chain._internal.extras.MissingExtraError`
    naming the extra to install.

    Example (a package's ``__getattr__``)::

        return load_attribute(__name__, {"install": ".installer"}, globals(), name, submodules=("aio",))
    """
    import importlib  # here, not at the top: the package import must stay cheap

    if name in submodules:
        return importlib.import_module(f".{name}", package)
    module = names.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module, package), name)
    except ImportError as err:
        from .extras import missing_extra

        missing = missing_extra(err, f"{package}.{name}")
        if missing is None:
            raise
        raise missing from None
    namespace[name] = value  # later lookups skip __getattr__
    return value


def lazy_exports(
    package: str,
    names: Mapping[str, str],
    namespace: MutableMapping[str, Any],
    *,
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose ``names`` map to relative module paths.

    Example::

        __getattr__, __dir__ = lazy_exports(__name__, {"install": ".installer"}, globals())
    """
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        return load_attribute(package, names, namespace, name, submodules=subs)

    def __dir__() -> list[str]:
        return sorted({*namespace, *names, *subs})

    return __getattr__, __dir__
