"""``python -m oidc_credential_chain``: the command line (see :mod:`oidc_credential_chain.cli`)."""

from .cli import run

run()
