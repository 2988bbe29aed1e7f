"""``token`` and ``claims``: print an ID token, or what it says."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..idtoken import IdToken


def register(subparsers: Any) -> None:
    token = subparsers.add_parser(
        "token",
        help="print the raw ID token a spec names",
        description="Print the raw ID token (no trailing newline when stdout is not a terminal).",
    )
    token.add_argument("spec", metavar="SPEC", help="e.g. oidc/github/sts.amazonaws.com")
    token.set_defaults(func=run_token)

    claims = subparsers.add_parser(
        "claims",
        help="print the token's decoded header and claims as JSON",
        description="Print the decoded header and claims (never the signature) and the seconds until expiry.",
    )
    claims.add_argument("spec", metavar="SPEC", help="e.g. oidc/google/https://example.com")
    claims.set_defaults(func=run_claims)


def run_token(args: argparse.Namespace) -> int:
    from .._api import fetch_id_token

    token = fetch_id_token(args.spec)
    sys.stdout.write(token.value)
    if sys.stdout.isatty():
        sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


def run_claims(args: argparse.Namespace) -> int:
    from .._api import fetch_id_token

    token = fetch_id_token(args.spec)
    document = claims_document(token)
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return 0


def claims_document(token: IdToken) -> dict[str, Any]:
    """The JSON ``claims`` prints: spec, header, claims, seconds until expiry."""
    return {
        "spec": token.spec,
        "header": token.header,
        "claims": token.claims,
        "expires_in": round(token.seconds_left()),
    }
