"""Name the extra to install when an optional dependency is missing.

A bare ``pip install oidc-credential-chain`` brings only ``urllib3``; each integration
needs its extra.  Users of ``credential_process`` in other languages often install just the
command line, so the message says exactly what to install instead of showing an import
traceback.
"""

from __future__ import annotations

from ..errors import ConfigurationError

#: Top-level module -> (the distribution that provides it, the extra that brings it).
_EXTRA_FOR_MODULE = {
    "boto3": ("boto3", "aws"),
    "botocore": ("botocore", "aws"),
    "azure": ("azure-identity", "azure"),
    "msal": ("azure-identity", "azure"),
    "google": ("google-auth", "gcp"),
    "openai": ("openai", "all"),
    "jwt": ("PyJWT", "testing"),
    "cryptography": ("cryptography", "testing"),
    "trustme": ("trustme", "testing"),
}


class MissingExtraError(ConfigurationError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it.

    Also an ``ImportError``, so code that guards an optional import keeps working.
    """

    def __init__(self, feature: str, distribution: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs {distribution}, which is not installed: "
            f"pip install 'oidc-credential-chain[{extra}]'"
        )
        self.distribution = distribution
        self.extra = extra


def missing_extra(err: ImportError, feature: str) -> MissingExtraError | None:
    """The error to raise for ``err`` when it is a missing optional dependency, else None.

    Example::

        try:
            import boto3
        except ImportError as err:
            raise missing_extra(err, "aws credential-process") or err
    """
    if isinstance(err, MissingExtraError):
        return MissingExtraError(feature, err.distribution, err.extra)
    if not isinstance(err, ModuleNotFoundError) or not err.name:
        return None
    known = _EXTRA_FOR_MODULE.get(err.name.split(".")[0])
    if known is None:
        return None
    return MissingExtraError(feature, *known)
