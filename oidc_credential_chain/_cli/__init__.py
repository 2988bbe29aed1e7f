"""Sub-command implementations of ``oidc-credential-chain``; see :mod:`oidc_credential_chain.cli`."""
