"""``doctor``: find the ambient identity, show the token's claims, and name the failing trust condition."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="find the ambient identity and explain why a trust policy or federated credential refuses it",
        description=(
            "Detect the identity available here, fetch its ID token (never printed), show the claims that "
            "matter, and check them against an AWS role trust policy and/or Entra federated identity "
            "credentials, naming exactly which condition fails. Exit codes: 0 ok, 1 a fetch or exchange "
            "failed, 2 configuration or usage error, 3 a mismatch was found."
        ),
    )
    parser.add_argument(
        "spec", nargs="?", metavar="SPEC", help="the token to check (default: the detected one)"
    )
    parser.add_argument(
        "--aws-trust-policy",
        metavar="FILE",
        help="the role's trust policy JSON (aws iam get-role --query Role.AssumeRolePolicyDocument)",
    )
    parser.add_argument("--role-arn", metavar="ARN", help="the role to check (and assume, with --exchange)")
    parser.add_argument(
        "--azure-federated-credential",
        metavar="FILE",
        help="federated credentials JSON, one or many (az ad app federated-credential list)",
    )
    parser.add_argument(
        "--exchange",
        action="store_true",
        help="also perform the real exchange (STS with --role-arn; Entra with AZURE_TENANT_ID/"
        "AZURE_CLIENT_ID)",
    )
    parser.add_argument(
        "--tenant-id", metavar="ID", help="Entra tenant for --exchange (default AZURE_TENANT_ID)"
    )
    parser.add_argument(
        "--client-id", metavar="ID", help="Entra app for --exchange (default AZURE_CLIENT_ID)"
    )
    parser.add_argument("--region", metavar="REGION", help="STS region for --exchange")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run_doctor_command)


def run_doctor_command(args: argparse.Namespace) -> int:
    from ..doctor.run import DoctorOptions, run_doctor

    report = run_doctor(
        DoctorOptions(
            spec=args.spec,
            aws_trust_policy=args.aws_trust_policy,
            role_arn=args.role_arn,
            azure_federated_credential=args.azure_federated_credential,
            exchange=args.exchange,
            tenant_id=args.tenant_id,
            client_id=args.client_id,
            region=args.region,
        )
    )
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(report.render_text())
    sys.stdout.flush()
    return report.exit_code
