"""``demo``: stock boto3 Bedrock, Azure OpenAI and Vertex AI code through the whole chain, on loopback."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run stock Bedrock, Azure OpenAI and Vertex AI code through the chain on built-in emulators",
        description=(
            "Start loopback emulators (OIDC issuers, AWS STS, Bedrock, Entra ID, Azure OpenAI, Google STS, "
            "IAM Credentials, Vertex AI) and run unmodified SDK code through the whole chain, printing each "
            "step and the variables to repeat it by hand."
        ),
    )
    demo.add_argument(
        "--only", choices=("aws", "azure", "gcp"), help="run one part of the demo (default: all three)"
    )
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    halves = [("aws", "run_aws_demo"), ("azure", "run_azure_demo"), ("gcp", "run_gcp_demo")]
    for name, function in halves:
        if args.only and args.only != name:
            continue
        module = importlib.import_module(f"oidc_credential_chain._demo.{name}")
        getattr(module, function)(sys.stdout)
        sys.stdout.write("\n")
    return 0
