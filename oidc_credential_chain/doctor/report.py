"""What ``doctor`` found, as data, as JSON, and as text for people.

Nothing here ever holds a token: only the claims worth showing, verdicts and explanations.
"""

from __future__ import annotations

import dataclasses
import datetime
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from .._internal.redact import redact_text
from ..trust.aws_policy import TrustVerdict
from ..trust.azure_fic import FicVerdict
from .ambient import Ambient
from .exchange import ExchangeOutcome

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISMATCH = 0, 1, 2, 3

#: Claims shown, in this order, when present: the standard ones, then each provider's.
SHOWN_CLAIMS = (
    "iss",
    "aud",
    "sub",
    "azp",
    "exp",
    "iat",
    "nbf",
    # GitHub Actions
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "ref",
    "ref_type",
    "environment",
    "event_name",
    "job_workflow_ref",
    "workflow_ref",
    "runner_environment",
    "actor",
    # GitLab
    "project_path",
    "namespace_path",
    "pipeline_source",
    "user_login",
    # Google
    "email",
    "email_verified",
    "google",
    # CircleCI
    "oidc.circleci.com/project-id",
    "oidc.circleci.com/vcs-origin",
    "oidc.circleci.com/vcs-ref",
    "oidc.circleci.com/context-ids",
    # Kubernetes (AKS, EKS, GKE)
    "kubernetes.io",
    # Entra / managed identity
    "tid",
    "oid",
    "appid",
    # Terraform Cloud, Buildkite, Bitbucket
    "terraform_organization_name",
    "terraform_workspace_name",
    "terraform_run_phase",
    "organization_slug",
    "pipeline_slug",
    "build_branch",
    "workspaceUuid",
    "repositoryUuid",
    "branchName",
    "deploymentEnvironmentUuid",
    # AWS outbound identity federation
    "https://sts.amazonaws.com/",
)


def shown_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims ``doctor`` prints, in a stable order."""
    return {name: claims[name] for name in SHOWN_CLAIMS if name in claims}


@dataclasses.dataclass
class AwsCheck:
    policy_file: str | None
    role_arn: str | None
    verdict: TrustVerdict | None
    account_problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def mismatch(self) -> bool:
        return bool(self.account_problems) or (self.verdict is not None and not self.verdict.allowed)

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "policy_file": self.policy_file,
            "role_arn": self.role_arn,
            "allowed": None if verdict is None else verdict.allowed and not self.account_problems,
            "explicit_deny": None if verdict is None else verdict.explicit_deny,
            "reason": None if verdict is None else verdict.reason,
            "account_problems": list(self.account_problems),
            "statements": [] if verdict is None else [_statement_json(s) for s in verdict.statements],
        }


def _statement_json(statement: Any) -> dict[str, Any]:
    data = dataclasses.asdict(statement)
    for cond in data["conditions"]:
        cond["expected"] = list(cond["expected"])
        if isinstance(cond["actual"], tuple):
            cond["actual"] = list(cond["actual"])
    data["conditions"] = list(data["conditions"])
    return data


@dataclasses.dataclass
class AzureCheck:
    file: str
    verdict: FicVerdict

    @property
    def mismatch(self) -> bool:
        return self.verdict.matched is None

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "file": self.file,
            "matched": dict(v.matched) if v.matched is not None else None,
            "nearest": dict(v.nearest) if v.nearest is not None else None,
            "differences": list(v.differences),
            "code": v.code,
            "reason": v.reason,
        }


@dataclasses.dataclass
class DoctorReport:
    """Everything one ``doctor`` run found."""

    ambient: Ambient
    spec: str | None = None
    spec_source: str = ""  # "argument" | "detected"
    claims: dict[str, Any] | None = None
    expires_in: float | None = None
    problem: str | None = None  # why no token was fetched (configuration or fetch error)
    problem_kind: str | None = None  # "configuration" | "token_fetch"
    aws: AwsCheck | None = None
    azure: AzureCheck | None = None
    exchanges: list[ExchangeOutcome] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def mismatch(self) -> bool:
        return bool((self.aws and self.aws.mismatch) or (self.azure and self.azure.mismatch))

    @property
    def exit_code(self) -> int:
        if self.problem_kind == "configuration":
            return EXIT_USAGE
        if self.problem_kind is not None:
            return EXIT_FAILED
        if self.mismatch:
            return EXIT_MISMATCH
        if any(not e.ok for e in self.exchanges):
            return EXIT_FAILED
        return EXIT_OK

    @property
    def result(self) -> str:
        return {
            EXIT_OK: "ok",
            EXIT_FAILED: "exchange failed" if self.problem_kind is None else "token fetch failed",
            EXIT_USAGE: "configuration error",
            EXIT_MISMATCH: "mismatch found",
        }[self.exit_code]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document; every string in it has passed the one redaction path."""
        document: dict[str, Any] = _redacted(self._document())
        return document

    def _document(self) -> dict[str, Any]:
        return {
            "environment": {
                "detections": [d.to_json() for d in self.ambient.detections],
                "warnings": list(self.ambient.warnings),
            },
            "spec": self.spec,
            "spec_source": self.spec_source or None,
            "token": None
            if self.claims is None
            else {
                "claims": shown_claims(self.claims),
                "expires_in": None if self.expires_in is None else round(self.expires_in),
            },
            "problem": self.problem,
            "aws": None if self.aws is None else self.aws.to_json(),
            "azure": None if self.azure is None else self.azure.to_json(),
            "exchange": [e.to_json() for e in self.exchanges],
            "notes": list(self.notes),
            "result": self.result,
            "exit_code": self.exit_code,
        }

    def render_text(self) -> str:
        """The human-readable report."""
        lines: list[str] = []
        _environment(lines, self.ambient)
        _token(lines, self)
        if self.aws is not None:
            _aws(lines, self.aws)
        if self.azure is not None:
            _azure(lines, self.azure)
        if self.exchanges:
            lines.append("")
            lines.append("Exchange")
            for outcome in self.exchanges:
                mark = "[ok]  " if outcome.ok else "[FAIL]"
                lines.extend(_wrap(f"  {mark} ", f"{outcome.service} ({outcome.target}): {outcome.detail}"))
                if outcome.explanation:
                    lines.extend(
                        _wrap(f"         what {outcome.code or 'it'} means: ", outcome.explanation, 9)
                    )
        for note in self.notes:
            lines.append("")
            lines.extend(_wrap("Note: ", note))
        lines.append("")
        lines.append(f"Result: {self.result} (exit {self.exit_code})")
        # Values from the environment, files and servers are in these lines: redact each.
        return "\n".join(redact_text(line) for line in lines) + "\n"


def _redacted(value: Any) -> Any:
    """``value`` (a JSON document) with every string passed through :func:`redact_text`."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


WIDTH = 100


def _wrap(first: str, text: str, indent: int | None = None) -> list[str]:
    """``first`` + ``text`` wrapped at :data:`WIDTH`, continuation lines under the text."""
    pad = " " * (len(first) if indent is None else indent)
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=pad,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _environment(lines: list[str], ambient: Ambient) -> None:
    lines.append("Environment")
    if not ambient.detections:
        lines.append(
            "  no identity source found (not GitHub Actions, CircleCI, GitLab, Bitbucket, Buildkite,"
        )
        lines.append("  Terraform Cloud, AKS/Kubernetes, Google Cloud or Azure managed identity)")
    for d in ambient.detections:
        mark = "[ok]  " if d.available else "[--]  "
        lines.extend(_wrap(f"  {mark}", f"{d.name}: {d.detail}"))
        if d.available and d.specs:
            uses = "; ".join(f"{purpose.upper()}: {spec}" for purpose, spec in d.specs.items())
            lines.extend(_wrap("        specs: ", uses))
        if d.hint:
            lines.extend(_wrap(f"        {'note' if d.available else 'to enable'}: ", d.hint, 8))
    for warning in ambient.warnings:
        lines.extend(_wrap("  [warn] ", warning))


def _when(epoch: Any) -> str:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        return repr(epoch)
    stamp = datetime.datetime.fromtimestamp(float(epoch), datetime.timezone.utc)
    return f"{int(epoch)} ({stamp.strftime('%Y-%m-%d %H:%M:%S')} UTC)"


def _token(lines: list[str], report: DoctorReport) -> None:
    lines.append("")
    if report.spec is None:
        lines.append("Token")
        lines.extend(_wrap("  [--] ", report.problem or "no spec given and none detected"))
        return
    origin = f" ({report.spec_source})" if report.spec_source else ""
    lines.append(f"Token  {report.spec}{origin}")
    if report.claims is None:
        lines.extend(_wrap("  [FAIL] ", str(report.problem)))
        return
    claims = shown_claims(report.claims)
    width = max((len(k) for k in claims), default=3)
    for name, value in claims.items():
        if name in ("exp", "iat", "nbf"):
            text = _when(value)
            if name == "exp" and report.expires_in is not None:
                text += f", in {report.expires_in:.0f} s"
        else:
            text = value if isinstance(value, str) else repr(value)
        lines.append(f"  {name.ljust(width)}  {text}")
    lines.append(
        "  (the token itself is never shown; `oidc-credential-chain claims SPEC` prints every claim)"
    )


def _aws(lines: list[str], check: AwsCheck) -> None:
    lines.append("")
    where = " ".join(
        part
        for part in (check.policy_file or "", f"(role {check.role_arn})" if check.role_arn else "")
        if part
    )
    lines.append(f"AWS trust policy  {where}".rstrip())
    for problem in check.account_problems:
        lines.extend(_wrap("  [FAIL] ", problem))
    verdict = check.verdict
    if verdict is None:
        return
    lines.extend(_wrap(f"  {'[ok]  ' if verdict.allowed else '[FAIL]'} ", verdict.reason))
    for statement in verdict.statements:
        sid = f" {statement.sid}" if statement.sid else ""
        state = "matches" if statement.matched else "applies" if statement.applies else "does not apply"
        lines.append(f"  statement {statement.index + 1}{sid} ({statement.effect}): {state}")
        if not statement.applies:
            lines.extend(_wrap("      ", statement.explanation))
        for cond in statement.conditions:
            mark = "ok  " if cond.passed else "FAIL"
            lines.extend(_wrap(f"      [{mark}] ", f"{cond.operator} {cond.key}: {cond.explanation}"))


def _azure(lines: list[str], check: AzureCheck) -> None:
    lines.append("")
    lines.append(f"Azure federated credentials  {check.file}")
    verdict = check.verdict
    lines.extend(_wrap(f"  {'[ok]  ' if verdict.matched is not None else '[FAIL]'} ", verdict.reason))
    if verdict.nearest is not None:
        rec = verdict.nearest
        lines.append(
            f"      nearest record: {rec.get('name')!r} (differs in: {', '.join(verdict.differences)})"
        )
        for field in ("issuer", "subject", "audiences"):
            if field in rec:
                lines.append(f"        {field}: {rec[field]!r}")
        expr = rec.get("claimsMatchingExpression")
        if expr is not None:
            lines.append(f"        claimsMatchingExpression: {expr!r}")


def records_from_document(document: Any) -> Sequence[Mapping[str, Any]]:
    """Federated-credential records from ``az ad app federated-credential list`` output, a Graph
    ``{"value": [...]}`` page, or a single record."""
    if isinstance(document, Mapping) and isinstance(document.get("value"), list):
        document = document["value"]
    if isinstance(document, Mapping):
        return [document]
    if isinstance(document, list):
        return document
    from ..errors import ConfigurationError

    raise ConfigurationError(
        "the federated credential file must hold a JSON object or a list of them "
        "(as `az ad app federated-credential list` prints)"
    )


__all__ = ["AwsCheck", "AzureCheck", "DoctorReport", "records_from_document", "shown_claims"]
