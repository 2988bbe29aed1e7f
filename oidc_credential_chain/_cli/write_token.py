"""``write-token``: write the ID token to a file, and with ``--watch`` keep it fresh."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "write-token",
        help="write the ID token to a file atomically; --watch keeps it fresh",
        description=(
            "Write the ID token a spec names to FILE atomically (no trailing newline). With --watch, "
            "rewrite it at 80% of each token's lifetime (at least a minute before expiry) until SIGTERM or "
            "Ctrl-C, retrying with backoff "
            "while the identity "
            "provider fails, so SDKs that read token files (AWS_WEB_IDENTITY_TOKEN_FILE, "
            "AZURE_FEDERATED_TOKEN_FILE, google-auth credential files) always find a valid token."
        ),
    )
    parser.add_argument("spec", metavar="SPEC", help="e.g. oidc/github/sts.amazonaws.com")
    parser.add_argument("--out", required=True, metavar="FILE", help="the token file to write")
    parser.add_argument(
        "--watch", action="store_true", help="keep rewriting the file before the token expires"
    )
    parser.add_argument("--mode", default="0600", help="file permissions, octal (default 0600)")
    parser.set_defaults(func=run_write_token)


def run_write_token(args: argparse.Namespace) -> int:
    from ..write_token import TokenFileWatcher, WriteEvent, parse_mode

    mode = parse_mode(args.mode)

    def report(event: WriteEvent) -> None:
        if event.token is not None:
            sys.stderr.write(
                f"wrote {event.token.spec} to {args.out} ({event.token.describe()}); "
                f"next refresh in {event.next_in:.0f} s\n"
            )
            sys.stderr.flush()

    watcher = TokenFileWatcher(args.spec, args.out, mode=mode, on_event=report if args.watch else None)
    if not args.watch:
        watcher.write_once()
        return 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        watcher.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stderr.write(f"stopped; {args.out} keeps the last token written\n")
    return 0
