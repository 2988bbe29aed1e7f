"""aiobotocore / aioboto3: the same ``oidc/...`` provider for async sessions.

Installed with the sync one (the startup hook, ``oidc_credential_chain.aws.install()``):
unmodified aiobotocore and aioboto3 code gets credentials from the same variables,
profile keys and precedence.  Importing this package imports no SDK.
"""

from __future__ import annotations
