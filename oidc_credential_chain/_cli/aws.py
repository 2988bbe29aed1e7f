"""``aws credential-process`` (AWS ``credential_process`` JSON for any SDK or tool) and
``aws profile`` (a ready ``~/.aws/config`` block that runs it)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

_PROFILE_NAME = re.compile(r"^[\w.+@=,-]{1,64}$")


def register(subparsers: Any) -> None:
    aws = subparsers.add_parser(
        "aws",
        help="AWS helpers (credential-process, profile)",
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
    _exchange_arguments(process)
    process.set_defaults(func=run_credential_process)
    profile = commands.add_parser(
        "profile",
        help="print a ~/.aws/config profile whose credential_process runs this command",
        description=(
            "Print a ~/.aws/config block for profile NAME whose credential_process names this "
            "installation by absolute path (so it works where the virtual environment is not on PATH: "
            "the AWS CLI from elsewhere, IDEs, other SDKs). Append it to ~/.aws/config."
        ),
    )
    profile.add_argument("name", metavar="NAME", help="the profile's name ('default' for [default])")
    _exchange_arguments(profile)
    profile.set_defaults(func=run_profile)


def _exchange_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role-arn", required=True, metavar="ARN", help="the IAM role to assume")
    parser.add_argument("--token", required=True, metavar="SPEC", help="e.g. oidc/github/sts.amazonaws.com")
    parser.add_argument(
        "--region",
        metavar="REGION",
        help="STS region (default: the profile's, else the role ARN's partition's)",
    )
    parser.add_argument("--duration-seconds", metavar="N", help="session duration, 900-43200 (default 3600)")
    parser.add_argument("--session-name", metavar="NAME", help="role session name")


def _config_of(args: argparse.Namespace, *, file_cache: bool | None = None) -> Any:
    from ..aws.config import WebIdentityConfig

    return WebIdentityConfig.create(
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
        file_cache=file_cache,
    )


def run_credential_process(args: argparse.Namespace) -> int:
    from .._internal.file_cache import cache_enabled
    from ..aws.credential_process import process_credentials

    # Every AWS CLI command runs the process anew: share exchanges through the file cache
    # (on unless CI is set or OIDC_CREDENTIAL_CHAIN_CACHE=0).
    config = _config_of(args, file_cache=cache_enabled(command_line=True))
    document = process_credentials(config)
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()
    return 0


def run_profile(args: argparse.Namespace) -> int:
    from ..aws.credential_process import profile_block
    from ..errors import ConfigurationError

    if not _PROFILE_NAME.match(args.name):
        raise ConfigurationError(
            f"NAME must be a profile name of letters, digits and _-.+@=, (no spaces or brackets), "
            f"got {args.name!r}"
        )
    config = _config_of(args)  # the same checks credential-process makes, before anything is written
    sys.stdout.write(profile_block(args.name, config))
    sys.stdout.flush()
    return 0
