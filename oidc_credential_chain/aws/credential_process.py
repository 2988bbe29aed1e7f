"""``credential_process`` output: credentials for any AWS SDK or tool, in any language.

Profile example (``~/.aws/config``)::

    [profile bedrock]
    credential_process = oidc-credential-chain aws credential-process
        --role-arn arn:aws:iam::123456789012:role/bedrock --token oidc/github/sts.amazonaws.com

(one line in the file; split here for width).
"""

from __future__ import annotations

from typing import Any

from .config import WebIdentityConfig
from .file_cache import CREDENTIAL_PROCESS_MIN_REMAINING, minimum_remaining


def process_credentials(config: WebIdentityConfig) -> dict[str, Any]:
    """The ``credential_process`` JSON document for ``config`` (``Version`` 1, ``Expiration``).

    Example::

        document = process_credentials(WebIdentityConfig.create(token="oidc/github/sts.amazonaws.com",
                                                                role_arn="arn:aws:iam::123456789012:role/ci"))
    """
    import botocore.session

    from .provider import OIDCWebIdentityProvider

    # A bare session: its config file and AWS_ENDPOINT_URL_STS apply, its credentials are never looked up.
    session = botocore.session.Session()
    provider = OIDCWebIdentityProvider(session, config=config)
    with minimum_remaining(CREDENTIAL_PROCESS_MIN_REMAINING):
        return provider.exchange(config).process_output()


__all__ = ["process_credentials"]
