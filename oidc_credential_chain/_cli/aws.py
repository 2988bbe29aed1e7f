"""``aws credential-process``: AWS ``credential_process`` JSON for any SDK or tool."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    aws = subparsers.add_parser(
        "aws",
        help="AWS helpers (credential-process)",
        description="AWS helpers.",
    )
    commands = aws.add_subparsers(dest="aws_command", metavar="COMMAND", parser_class=type(aws))
    commands.required = True
    process = commands.add_parser(
        "credential-process",
        help="print credential_process JSON from an oidc/... token",
        description=(
            "Exchange the token at STS AssumeRoleWithWebIdentity and print the credentials as AWS "
            "credential_process JSON (Version 1, with Expiration). Use it in ~/.aws/config: "
            "credential_process = oidc-credential-chain aws credential-process --role-arn ARN --token SPEC"
        ),
    )
    process.add_argument("--role-arn", required=True, metavar="ARN", help="the IAM role to assume")
    process.add_argument("--token", required=True, metavar="SPEC", help="e.g. oidc/github/sts.amazonaws.com")
    process.add_argument(
        "--region",
        metavar="REGION",
        help="STS region (default: the profile's, else the role ARN's partition's)",
    )
    process.add_argument("--duration-seconds", metavar="N", help="session duration, 900-43200 (default 3600)")
    process.add_argument("--session-name", metavar="NAME", help="role session name")
    process.set_defaults(func=run_credential_process)


def run_credential_process(args: argparse.Namespace) -> int:
    from .._internal.file_cache import cache_enabled
    from ..aws.config import WebIdentityConfig
    from ..aws.credential_process import process_credentials

    config = WebIdentityConfig.create(
        token=args.token,
        role_arn=args.role_arn,
        session_name=args.session_name,
        duration_seconds=args.duration_seconds,
        region=args.region,
        source="the command's arguments",
        names={
            "token": "--token",
            "role_arn": "--role-arn",
            "session_name": "--session-name",
            "duration_seconds": "--duration-seconds",
        },
        # Every AWS CLI command runs the process anew: share exchanges through the file cache
        # (on unless CI is set or OIDC_CREDENTIAL_CHAIN_CACHE=0).
        file_cache=cache_enabled(command_line=True),
    )
    document = process_credentials(config)
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()
    return 0
