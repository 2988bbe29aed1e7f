"""Golden table: Entra ID federated identity credentials and tokens, verdicts written by hand.

From Microsoft's documentation of workload identity federation: a record matches when the
assertion's ``iss``, ``sub`` and ``aud`` equal the record's ``issuer``, ``subject`` and one
of its ``audiences`` exactly and case-sensitively, without wildcards; flexible credentials
replace ``subject`` with a ``claimsMatchingExpression`` (``matches`` with ``*``/``?``,
``eq``, ``and``).  Codes: AADSTS700211 (no record for the issuer), AADSTS700213 (no record
for the subject), AADSTS7002138 (the subject matches only case-insensitively),
AADSTS7002131 (no expression matches), AADSTS70021 (no matching record otherwise).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from oidc_credential_chain.errors import ConfigurationError
from oidc_credential_chain.trust import match_federated_credentials

GH_ISS = "https://token.actions.githubusercontent.com"
EXCHANGE = "api://AzureADTokenExchange"
AKS_ISS = "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/1b2c3d4e-aaaa-bbbb-cccc-0123456789ab/"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def record(
    name: str,
    subject: str | None = None,
    *,
    issuer: str = GH_ISS,
    audience: str = EXCHANGE,
    expression: str | None = None,
) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": name, "issuer": issuer, "audiences": [audience], "description": ""}
    if expression is not None:
        rec["claimsMatchingExpression"] = {"value": expression, "languageVersion": 1}
    else:
        rec["subject"] = subject
    return rec


def gh(sub: str, aud: Any = EXCHANGE, **extra: Any) -> dict[str, Any]:
    return {"iss": GH_ISS, "sub": sub, "aud": aud, **extra}


MAIN = "repo:octo-org/octo-repo:ref:refs/heads/main"
MAIN_RECORD = record("main-branch", MAIN)
PROD_RECORD = record("prod-env", "repo:octo-org/octo-repo:environment:prod")


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    records: list[dict[str, Any]]
    claims: dict[str, Any]
    matched: str | None
    nearest: str | None
    differences: tuple[str, ...]
    code: str | None
    fragments: tuple[str, ...]


ROWS = [
    Row("exact match", [MAIN_RECORD], gh(MAIN), "main-branch", None, (), None, ("matches",)),
    Row(
        "second record matches",
        [MAIN_RECORD, PROD_RECORD],
        gh("repo:octo-org/octo-repo:environment:prod"),
        "prod-env",
        None,
        (),
        None,
        ("'prod-env' matches",),
    ),
    Row(
        "subject differs only in case",
        [MAIN_RECORD],
        gh("repo:Octo-Org/octo-repo:ref:refs/heads/main"),
        None,
        "main-branch",
        ("subject",),
        "AADSTS7002138",
        ("only in letter case", "case-sensitive"),
    ),
    Row(
        "pull_request event against a branch record",
        [MAIN_RECORD],
        gh("repo:octo-org/octo-repo:pull_request"),
        None,
        "main-branch",
        ("subject",),
        "AADSTS700213",
        ("pull_request event",),
    ),
    Row(
        "environment job against a branch record",
        [MAIN_RECORD],
        gh("repo:octo-org/octo-repo:environment:prod"),
        None,
        "main-branch",
        ("subject",),
        "AADSTS700213",
        ("references the environment 'prod'",),
    ),
    Row(
        "nearest of several: the environment record",
        [MAIN_RECORD, PROD_RECORD],
        gh("repo:octo-org/octo-repo:environment:staging"),
        None,
        "prod-env",
        ("subject",),
        "AADSTS700213",
        ("'staging'", "'prod'"),
    ),
    Row(
        "immutable subject against a name-only record",
        [MAIN_RECORD],
        gh("repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"),
        None,
        "main-branch",
        ("subject",),
        "AADSTS700213",
        ("immutable subject form", "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"),
    ),
    Row(
        "no wildcards in a plain subject",
        [record("all-branches", "repo:octo-org/octo-repo:*")],
        gh(MAIN),
        None,
        "all-branches",
        ("subject",),
        "AADSTS700213",
        ("without wildcards",),
    ),
    Row(
        "issuer has a trailing slash in the record",
        [record("slash", MAIN, issuer=GH_ISS + "/")],
        gh(MAIN),
        None,
        "slash",
        ("issuer",),
        "AADSTS700211",
        ("only by a trailing slash",),
    ),
    Row(
        "issuer has whitespace in the record",
        [record("space", MAIN, issuer=GH_ISS + " ")],
        gh(MAIN),
        None,
        "space",
        ("issuer",),
        "AADSTS700211",
        ("whitespace",),
    ),
    Row(
        "audience typo",
        [record("typo", MAIN, audience="api://AzureADTokenExchang")],
        gh(MAIN),
        None,
        "typo",
        ("audience",),
        "AADSTS70021",
        ("'api://AzureADTokenExchange'", "'api://AzureADTokenExchang'"),
    ),
    Row(
        "GitHub default audience presented",
        [MAIN_RECORD],
        gh(MAIN, aud="https://github.com/octo-org"),
        None,
        "main-branch",
        ("audience",),
        "AADSTS70021",
        ("GitHub's default audience",),
    ),
    Row(
        "token with a list of audiences including the exchange audience",
        [MAIN_RECORD],
        gh(MAIN, aud=["https://github.com/octo-org", EXCHANGE]),
        "main-branch",
        None,
        (),
        None,
        ("matches",),
    ),
    Row(
        "AKS service account",
        [record("aks", "system:serviceaccount:payments:api", issuer=AKS_ISS)],
        {"iss": AKS_ISS, "sub": "system:serviceaccount:payments:api", "aud": [EXCHANGE]},
        "aks",
        None,
        (),
        None,
        ("matches",),
    ),
    Row(
        "AKS service account in another namespace",
        [record("aks", "system:serviceaccount:payments:api", issuer=AKS_ISS)],
        {"iss": AKS_ISS, "sub": "system:serviceaccount:default:api", "aud": [EXCHANGE]},
        None,
        "aks",
        ("subject",),
        "AADSTS700213",
        ("namespace 'default'",),
    ),
    Row(
        "managed identity object ID is a case-sensitive GUID",
        [
            record(
                "mi",
                "AAAAAAAA-1111-2222-3333-444444444444",
                issuer=f"https://login.microsoftonline.com/{TENANT}/v2.0",
            )
        ],
        {
            "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "sub": "aaaaaaaa-1111-2222-3333-444444444444",
            "aud": EXCHANGE,
        },
        None,
        "mi",
        ("subject",),
        "AADSTS7002138",
        ("only in letter case",),
    ),
    Row(
        "flexible credential: branch wildcard matches",
        [record("flex", expression="claims['sub'] matches 'repo:octo-org/octo-repo:ref:refs/heads/*'")],
        gh("repo:octo-org/octo-repo:ref:refs/heads/feature/x"),
        "flex",
        None,
        (),
        None,
        ("claims expression",),
    ),
    Row(
        "flexible credential: pull request does not match",
        [record("flex", expression="claims['sub'] matches 'repo:octo-org/octo-repo:ref:refs/heads/*'")],
        gh("repo:octo-org/octo-repo:pull_request"),
        None,
        "flex",
        ("subject",),
        "AADSTS7002131",
        ("does not satisfy matches", "pull_request event"),
    ),
    Row(
        "flexible credential with job_workflow_ref",
        [
            record(
                "flex",
                expression="claims['sub'] matches 'repo:octo-org/*' and claims['job_workflow_ref'] eq "
                "'octo-org/shared/.github/workflows/deploy.yml@refs/heads/main'",
            )
        ],
        gh(
            "repo:octo-org/app:ref:refs/heads/main",
            job_workflow_ref="octo-org/shared/.github/workflows/deploy.yml@refs/heads/dev",
        ),
        None,
        "flex",
        ("subject",),
        "AADSTS7002131",
        ("job_workflow_ref",),
    ),
    Row(
        "wrong issuer entirely",
        [MAIN_RECORD],
        {"iss": "https://oidc.circleci.com/org/abc", "sub": MAIN, "aud": EXCHANGE},
        None,
        "main-branch",
        ("issuer",),
        "AADSTS700211",
        ("'https://oidc.circleci.com/org/abc'",),
    ),
    Row("no records", [], gh(MAIN), None, None, (), "AADSTS70021", ("No federated identity credential",)),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_golden_federated_credentials(row: Row) -> None:
    verdict = match_federated_credentials(row.records, row.claims)
    assert (verdict.matched or {}).get("name") == row.matched, verdict.reason
    assert (verdict.nearest or {}).get("name") == row.nearest, verdict.reason
    assert verdict.differences == row.differences, verdict.reason
    assert verdict.code == row.code, verdict.reason
    for fragment in row.fragments:
        assert fragment in verdict.reason, f"{fragment!r} not in: {verdict.reason}"


def test_golden_table_is_large_enough() -> None:
    assert len(ROWS) >= 20


def test_single_record_object_is_accepted() -> None:
    verdict = match_federated_credentials(MAIN_RECORD, gh(MAIN))  # type: ignore[arg-type]
    assert verdict.matched is MAIN_RECORD


def test_unreadable_expression_is_a_configuration_error_in_the_reason() -> None:
    verdict = match_federated_credentials([record("bad", expression="sub == 'x'")], gh(MAIN))
    assert verdict.matched is None
    assert "is not of the form" in verdict.reason


def test_non_object_record_raises() -> None:
    with pytest.raises(ConfigurationError, match=r"federated credential #1 is not a JSON object"):
        match_federated_credentials(["nope"], gh(MAIN))  # type: ignore[list-item]
