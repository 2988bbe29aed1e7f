"""AWS: run boto3 / botocore (Amazon Bedrock included) on ``oidc/...`` federated identities.

Three ways in, from least to most explicit::

    # 1. nothing: the installed startup hook reads AWS_WEB_IDENTITY_TOKEN=oidc/... and AWS_ROLE_ARN
    # 2. every botocore session created from now on (and boto3's default one):
    oidc_credential_chain.aws.install()
    # 3. one session, for one identity:
    session = oidc_credential_chain.aws.session(
        role_arn="arn:aws:iam::123456789012:role/bedrock",
        web_identity_token="oidc/github/sts.amazonaws.com",
    )

Importing this package imports neither boto3 nor botocore; they load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .boto_session import session
    from .config import WebIdentityConfig
    from .errors import StsConfigurationError, StsCredentialLoopError, StsExchangeError, StsTokenFetchError
    from .exchange_cache import clear_exchange_cache
    from .installer import install, installed, uninstall

_LAZY = {
    "StsConfigurationError": ".errors",
    "StsCredentialLoopError": ".errors",
    "StsExchangeError": ".errors",
    "StsTokenFetchError": ".errors",
    "WebIdentityConfig": ".config",
    "clear_exchange_cache": ".exchange_cache",
    "install": ".installer",
    "installed": ".installer",
    "uninstall": ".installer",
    "session": ".boto_session",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "StsConfigurationError",
    "StsCredentialLoopError",
    "StsExchangeError",
    "StsTokenFetchError",
    "WebIdentityConfig",
    "clear_exchange_cache",
    "install",
    "installed",
    "session",
    "uninstall",
]
