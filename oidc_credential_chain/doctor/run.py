"""One ``doctor`` run: detect, fetch, check against trust settings, optionally exchange."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from .._internal.untrusted_json import MAX_DEPTH, nesting_depth
from ..errors import ConfigurationError, ErrorKind, OIDCError
from ..trust.aws_policy import evaluate_trust_policy
from ..trust.azure_fic import match_federated_credentials
from .ambient import Ambient, detect_ambient
from .report import AwsCheck, AzureCheck, DoctorReport, records_from_document

_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{12}):role/.+$")
_PROVIDER_ARN = re.compile(r"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{12}):oidc-provider/.+$")


@dataclasses.dataclass(frozen=True)
class DoctorOptions:
    """What to check; mirrors the command line."""

    spec: str | None = None
    aws_trust_policy: str | None = None
    role_arn: str | None = None
    azure_federated_credential: str | None = None
    exchange: bool = False
    tenant_id: str | None = None
    client_id: str | None = None
    region: str | None = None
    probe: bool = True


def _read_json(path: str, what: str) -> Any:
    if path.startswith("file://"):
        path = path[len("file://") :]
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(1024 * 1024)
    except FileNotFoundError:
        raise ConfigurationError(f"the {what} file {path!r} does not exist") from None
    except OSError as err:
        raise ConfigurationError(f"the {what} file {path!r} cannot be read ({err.strerror or err})") from None
    if nesting_depth(text.encode("utf-8", "surrogatepass")) > MAX_DEPTH:
        raise ConfigurationError(f"the {what} file {path!r} nests JSON deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigurationError(
            f"the {what} file {path!r} is not valid JSON ({err.msg} at line {err.lineno})"
        ) from None


def _choose_spec(options: DoctorOptions, ambient: Ambient) -> tuple[str | None, str]:
    if options.spec:
        return options.spec, "argument"
    wants_azure = options.azure_federated_credential is not None or (
        options.exchange and options.role_arn is None
    )
    wants_aws = options.aws_trust_policy is not None or options.role_arn is not None
    purpose = "azure" if wants_azure and not wants_aws else "aws"
    spec = ambient.best_spec(purpose)
    return spec, "detected" if spec else ""


def account_problems(policy: Mapping[str, Any] | str, role_arn: str) -> list[str]:
    """Federated principals in another account or partition than the role's.

    STS looks the OIDC provider up in the role's own account, so a principal naming a
    provider elsewhere can never match.
    """
    role = _ROLE_ARN.match(role_arn)
    if role is None:
        raise ConfigurationError(
            f"--role-arn {role_arn!r} is not a role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", []) if isinstance(document, Mapping) else []
    if isinstance(statements, Mapping):
        statements = [statements]
    problems: list[str] = []
    for index, statement in enumerate(statements if isinstance(statements, list) else []):
        principal = statement.get("Principal") if isinstance(statement, Mapping) else None
        federated = principal.get("Federated") if isinstance(principal, Mapping) else None
        for entry in federated if isinstance(federated, list) else [federated]:
            match = _PROVIDER_ARN.match(entry) if isinstance(entry, str) else None
            if match is None:
                continue
            if match.group("account") != role.group("account") or match.group("partition") != role.group(
                "partition"
            ):
                problems.append(
                    f"statement {index + 1} trusts {entry!r}, an OIDC provider outside the role's account "
                    f"{role.group('account')} ({role.group('partition')}); STS looks the provider up in the "
                    "role's own account, so this principal never matches"
                )
    return problems


def run_doctor(options: DoctorOptions, environ: Mapping[str, str] | None = None) -> DoctorReport:
    """Detect the ambient identity, fetch the token, and check it as requested.

    Raises :class:`ConfigurationError` for unreadable files or impossible option combinations;
    fetch failures are recorded in the report (``exit_code`` 1 or 2).

    Example::

        report = run_doctor(DoctorOptions(aws_trust_policy="trust.json"))
        print(report.render_text()); raise SystemExit(report.exit_code)
    """
    env = os.environ if environ is None else environ
    policy = _read_json(options.aws_trust_policy, "trust policy") if options.aws_trust_policy else None
    records = (
        records_from_document(_read_json(options.azure_federated_credential, "federated credential"))
        if options.azure_federated_credential
        else None
    )
    tenant = options.tenant_id or env.get("AZURE_TENANT_ID", "").strip() or None
    client = options.client_id or env.get("AZURE_CLIENT_ID", "").strip() or None
    # Entra is asked when named on the command line, or by the environment unless an AWS role is the target.
    explicit_azure = bool(options.tenant_id or options.client_id or options.azure_federated_credential)
    azure_exchange = bool(tenant and client) and (explicit_azure or not options.role_arn)
    if options.exchange and not options.role_arn and not azure_exchange:
        raise ConfigurationError(
            "--exchange needs a relying party: --role-arn ARN for AWS STS, or --tenant-id and --client-id "
            "(or AZURE_TENANT_ID and AZURE_CLIENT_ID) for Entra ID"
        )
    ambient = detect_ambient(env, probe=options.probe)
    report = DoctorReport(ambient=ambient)
    report.spec, report.spec_source = _choose_spec(options, ambient)
    if report.spec is None:
        report.problem = (
            "no spec given and no identity source detected here; pass a SPEC such as oidc/github/..."
        )
        report.problem_kind = ErrorKind.CONFIGURATION.value
        return report

    from .._api import fetch_id_token

    try:
        token = fetch_id_token(report.spec, force_refresh=True)
    except OIDCError as err:
        report.problem = err.message
        report.problem_kind = err.kind.value
        return report
    report.claims = dict(token.claims)
    report.expires_in = token.seconds_left()

    if policy is not None or options.role_arn:
        check = AwsCheck(options.aws_trust_policy, options.role_arn, None)
        if policy is not None:
            check.verdict = evaluate_trust_policy(policy, token.claims)
            if options.role_arn:
                check.account_problems = account_problems(policy, options.role_arn)
        elif not options.exchange:
            report.notes.append(
                "--role-arn alone checks nothing locally: add --aws-trust-policy FILE (`aws iam get-role "
                "--role-name NAME --query Role.AssumeRolePolicyDocument > trust.json`) or --exchange"
            )
        report.aws = check
    if records is not None:
        report.azure = AzureCheck(
            str(options.azure_federated_credential), match_federated_credentials(records, token.claims)
        )

    if options.exchange:
        from .exchange import exchange_aws, exchange_azure

        if options.role_arn:
            report.exchanges.append(exchange_aws(report.spec, options.role_arn, region=options.region))
        if azure_exchange and tenant and client:
            report.exchanges.append(
                exchange_azure(
                    report.spec,
                    tenant_id=tenant,
                    client_id=client,
                    authority=env.get("AZURE_AUTHORITY_HOST") or None,
                )
            )
    return report


__all__ = ["DoctorOptions", "account_problems", "run_doctor"]
