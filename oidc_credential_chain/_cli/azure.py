"""``azure token``: an Entra access token for a spec, as JSON for scripts."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from typing import Any

DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"


def register(subparsers: Any) -> None:
    azure = subparsers.add_parser("azure", help="Azure helpers (token)", description="Azure helpers.")
    commands = azure.add_subparsers(dest="azure_command", metavar="COMMAND", parser_class=type(azure))
    commands.required = True
    token = commands.add_parser(
        "token",
        help="print an Entra access token for an oidc/... token as JSON",
        description=(
            "Present the ID token the spec names to Entra ID as a federated client assertion and print the "
            "access token as JSON (accessToken, expiresOn, expires_on, tenant, clientId, scope, tokenType). "
            "Tenant, client ID and authority default to AZURE_TENANT_ID, AZURE_CLIENT_ID and "
            "AZURE_AUTHORITY_HOST."
        ),
    )
    token.add_argument(
        "--token", required=True, metavar="SPEC", help="e.g. oidc/github/api://AzureADTokenExchange"
    )
    token.add_argument("--scope", default=DEFAULT_SCOPE, metavar="SCOPE", help=f"default: {DEFAULT_SCOPE}")
    token.add_argument("--tenant-id", metavar="TENANT", help="default: $AZURE_TENANT_ID")
    token.add_argument("--client-id", metavar="CLIENT_ID", help="default: $AZURE_CLIENT_ID")
    token.add_argument(
        "--authority", metavar="HOST", help="default: $AZURE_AUTHORITY_HOST or login.microsoftonline.com"
    )
    token.set_defaults(func=run_token)


def run_token(args: argparse.Namespace) -> int:
    _require_app(args)
    from .._internal.file_cache import cache_enabled
    from ..azure import OIDCCredential

    with OIDCCredential(
        args.token,
        tenant_id=args.tenant_id,
        client_id=args.client_id,
        authority=args.authority,
        # Scripts run the command again and again: share tokens through the file cache
        # (on unless CI is set or OIDC_CREDENTIAL_CHAIN_CACHE=0).
        file_cache=cache_enabled(command_line=True),
    ) as credential:
        info = credential.get_token_info(args.scope)
        settings = credential.settings
    expires = datetime.datetime.fromtimestamp(info.expires_on, datetime.timezone.utc)
    document = {
        "accessToken": info.token,
        "expiresOn": expires.isoformat().replace("+00:00", "Z"),
        "expires_on": info.expires_on,
        "refresh_on": info.refresh_on,
        "tenant": settings.tenant_id,
        "clientId": settings.client_id,
        "scope": args.scope,
        "tokenType": info.token_type,
    }
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    sys.stdout.flush()
    return 0


def _require_app(args: argparse.Namespace) -> None:
    """Entra needs the tenant and the app: say which flags (or variables) are missing."""
    from ..cli import UsageError

    missing = [
        f"{flag} (or {variable})"
        for flag, value, variable in (
            ("--tenant-id", args.tenant_id, "AZURE_TENANT_ID"),
            ("--client-id", args.client_id, "AZURE_CLIENT_ID"),
        )
        if not (value or os.environ.get(variable, "")).strip()
    ]
    if missing:
        raise UsageError(
            "azure token needs the Entra tenant and the app whose federated credential trusts the token: "
            f"pass {' and '.join(missing)}"
        )
