"""``token`` and ``claims``: print an ID token, or what it says."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..idtoken import IdToken

#: ``claims -`` reads the token from standard input.
STDIN = "-"


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
        description=(
            "Print the decoded header and claims (never the signature) and the seconds until expiry. "
            "SPEC '-' reads a token from standard input. An expired token's claims are printed too, "
            "flagged, with exit code 1."
        ),
    )
    claims.add_argument(
        "spec", metavar="SPEC", help="e.g. oidc/google/https://example.com, or - to read a token from stdin"
    )
    claims.set_defaults(func=run_claims)


def run_token(args: argparse.Namespace) -> int:
    from .._api import fetch_id_token

    _refuse_raw_token(args.spec, "token")
    token = fetch_id_token(args.spec)
    sys.stdout.write(token.value)
    if sys.stdout.isatty():
        sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


def run_claims(args: argparse.Namespace) -> int:
    from .._api import fetch_id_token
    from ..errors import OIDCError
    from ..idtoken import make_id_token

    spec = args.spec
    _refuse_raw_token(spec, "claims")
    if spec == STDIN:
        text = _read_stdin()
        expired = _expired_document(text, spec)
        if expired is None:
            token = make_id_token(text, spec=spec, source="standard input", remote=False)
    else:
        try:
            token = fetch_id_token(spec)
        except OIDCError:
            # A token refused as long expired still has claims worth showing: read it again
            # (from a file or variable; an identity provider issues no expired tokens).
            expired = _expired_document(_read_local(spec), spec)
            if expired is None:
                raise
        else:
            expired = _expired_document(token.value, spec)
    if expired is not None:
        document, message = expired
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        sys.stdout.flush()
        sys.stderr.write(f"oidc-credential-chain: {message}\n")
        return 1
    sys.stdout.write(json.dumps(claims_document(token), indent=2, sort_keys=False) + "\n")
    return 0


def claims_document(token: IdToken) -> dict[str, Any]:
    """The JSON ``claims`` prints: spec, header, claims, seconds until expiry."""
    return {
        "spec": token.spec,
        "header": token.header,
        "claims": token.claims,
        "expires_in": round(token.seconds_left()),
    }


def _read_stdin() -> str:
    from ..idtoken import MAX_TOKEN_BYTES

    return sys.stdin.read(MAX_TOKEN_BYTES + 1)


def _read_local(spec: str) -> str:
    """The token text of a spec whose provider reads a file or variable; "" for remote providers."""
    from ..providers.base import FetchContext
    from ..providers.registry import get_provider, parse_spec

    parsed = parse_spec(spec)
    provider = get_provider(parsed.provider)
    ctx = FetchContext()
    if provider.is_remote(parsed):
        return ""
    return provider.fetch(parsed, ctx)


def _expired_document(text: str, spec: str) -> tuple[dict[str, Any], str] | None:
    """The claims of an expired JWT and a message saying when it expired; None for any other problem."""
    from .._internal import clock
    from ..errors import OIDCError
    from ..jwt import decode_unverified, looks_like_jwt, numeric_claim

    text = text.strip()
    if not looks_like_jwt(text):
        return None
    try:
        header, claims = decode_unverified(text)
    except OIDCError:
        return None
    exp = numeric_claim(claims, "exp")
    now = clock.now()
    if exp is None or exp >= now:
        return None
    when = datetime.datetime.fromtimestamp(exp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    document = {
        "spec": spec,
        "header": header,
        "claims": claims,
        "expires_in": round(exp - now),
        "expired": True,
    }
    which = "the token on standard input" if spec == STDIN else f"{spec}: the token"
    return document, f"{which} expired {_ago(now - exp)} ({when}); fetch a fresh one"


def _ago(seconds: float) -> str:
    minutes = round(seconds / 60)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if minutes < 90:
        return f"{minutes} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _refuse_raw_token(spec: str, command: str) -> None:
    """A pasted JWT is not a spec: say how to pass it, without echoing it."""
    from ..cli import UsageError
    from ..jwt import looks_like_jwt

    if spec != STDIN and not spec.startswith("oidc/") and looks_like_jwt(spec.strip()):
        hint = (
            "pipe it in with 'oidc-credential-chain claims -', or put it in a variable and pass oidc/env/VAR"
            if command == "claims"
            else "put it in a variable and pass oidc/env/VAR (or a file, oidc/file/PATH)"
        )
        raise UsageError(
            f"{command} takes a token spec such as oidc/github/sts.amazonaws.com, and was given what "
            f"looks like a token itself (not shown); to inspect a token you already have, {hint}"
        )
