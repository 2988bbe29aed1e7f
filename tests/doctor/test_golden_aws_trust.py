"""Golden table: real-world IAM trust policies and tokens, with verdicts written by hand.

Each expected verdict follows from AWS's documented semantics, not from running the
evaluator: the IAM JSON policy reference (condition operators, "If the key that you
specify in a policy condition is not present in the request context, the values do not
match" and "negated operators ... are true when the key is absent"; ForAllValues "returns
true if there's no context key in the request"; ForAnyValue returns false then), the
condition-keys page (``<provider>:aud/sub/amr``; Google's ``aud`` = ``azp``, ``oaud`` =
``aud``), explicit-deny-wins evaluation logic, and GitHub's subject formats
(``repo:O/R:pull_request``, ``...:environment:E``, immutable ``repo:O@ID/R@ID:...``).
The expected fragment names the condition or fact the explanation must mention.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from oidc_credential_chain.trust import evaluate_trust_policy

GH_ISS = "https://token.actions.githubusercontent.com"
GH = "token.actions.githubusercontent.com"
GH_ARN = f"arn:aws:iam::123456789012:oidc-provider/{GH}"
EKS = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
CIRCLE = "oidc.circleci.com/org/3f4a3a4e-7c0b-4ad9-9a4d-1b0f6a9f6e2a"
COGNITO = "cognito-identity.amazonaws.com"


def github_policy(
    conditions: dict[str, Any], *, action: Any = "sts:AssumeRoleWithWebIdentity"
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": GH_ARN}, "Action": action, "Condition": conditions}
        ],
    }


# The policy GitHub's and AWS's docs show: audience pinned, subject limited to one repository.
GITHUB_DOCS_POLICY = github_policy(
    {
        "StringEquals": {f"{GH}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{GH}:sub": "repo:octo-org/octo-repo:*"},
    }
)
MAIN_ONLY = github_policy(
    {
        "StringEquals": {
            f"{GH}:aud": "sts.amazonaws.com",
            f"{GH}:sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
        }
    }
)
PROD_ENV_ONLY = github_policy(
    {
        "StringEquals": {
            f"{GH}:aud": "sts.amazonaws.com",
            f"{GH}:sub": "repo:octo-org/octo-repo:environment:prod",
        }
    }
)


def gh(sub: str, aud: Any = "sts.amazonaws.com", **extra: Any) -> dict[str, Any]:
    return {"iss": GH_ISS, "aud": aud, "sub": sub, "iat": 1_800_000_000, "exp": 1_800_000_300, **extra}


MAIN = "repo:octo-org/octo-repo:ref:refs/heads/main"


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    policy: dict[str, Any]
    claims: dict[str, Any]
    allowed: bool
    fragments: tuple[str, ...]
    explicit_deny: bool = False


ROWS = [
    Row("github docs policy, main branch", GITHUB_DOCS_POLICY, gh(MAIN), True, ("Allowed by statement 1",)),
    Row(
        "organisation name differs only in case",
        GITHUB_DOCS_POLICY,
        gh("repo:Octo-Org/octo-repo:ref:refs/heads/main"),
        False,
        ("only in letter case", f"{GH}:sub"),
    ),
    Row(
        "pull_request subject against a branch-only policy",
        MAIN_ONLY,
        gh("repo:octo-org/octo-repo:pull_request"),
        False,
        ("pull_request event", "repo:OWNER/REPO:pull_request"),
    ),
    Row(
        "environment subject against a branch-only policy",
        MAIN_ONLY,
        gh("repo:octo-org/octo-repo:environment:prod", environment="prod"),
        False,
        ("references the environment 'prod'", ":environment:prod"),
    ),
    Row(
        "environment subject allowed by an environment policy",
        PROD_ENV_ONLY,
        gh("repo:octo-org/octo-repo:environment:prod", environment="prod"),
        True,
        ("Allowed by statement 1",),
    ),
    Row(
        "branch subject against an environment policy",
        PROD_ENV_ONLY,
        gh(MAIN),
        False,
        ("expects the job to reference the environment 'prod'",),
    ),
    Row(
        "immutable subject against a name-only wildcard policy",
        GITHUB_DOCS_POLICY,
        gh("repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"),
        False,
        ("immutable subject form", "repo:octo-org@123456/octo-repo@456789:*"),
    ),
    Row(
        "immutable subject allowed by an immutable policy",
        github_policy(
            {
                "StringEquals": {f"{GH}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{GH}:sub": "repo:octo-org@123456/octo-repo@456789:*"},
            }
        ),
        gh("repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main"),
        True,
        ("Allowed",),
    ),
    Row(
        "immutable policy, repository not opted in",
        github_policy({"StringLike": {f"{GH}:sub": "repo:octo-org@123456/octo-repo@456789:*"}}),
        gh(MAIN),
        False,
        ("has not opted in",),
    ),
    Row(
        "StringLike '*' spans ':' and '/': any repository of the organisation",
        github_policy({"StringLike": {f"{GH}:sub": "repo:octo-org/*"}}),
        gh("repo:octo-org/other-repo:ref:refs/tags/v1.2.0"),
        True,
        ("Allowed",),
    ),
    Row(
        "StringLike '?' is exactly one character (two given)",
        github_policy({"StringLike": {f"{GH}:sub": "repo:octo-org/octo-repo:ref:refs/heads/release-v?"}}),
        gh("repo:octo-org/octo-repo:ref:refs/heads/release-v10"),
        False,
        ("does not match 'repo:octo-org/octo-repo:ref:refs/heads/release-v?'",),
    ),
    Row(
        "StringLike '?' with one character",
        github_policy({"StringLike": {f"{GH}:sub": "repo:octo-org/octo-repo:ref:refs/heads/release-v?"}}),
        gh("repo:octo-org/octo-repo:ref:refs/heads/release-v2"),
        True,
        ("Allowed",),
    ),
    Row(
        "several values for one key are OR'ed",
        github_policy({"StringEquals": {f"{GH}:sub": [MAIN, "repo:octo-org/octo-repo:environment:prod"]}}),
        gh("repo:octo-org/octo-repo:environment:prod"),
        True,
        ("Allowed",),
    ),
    Row(
        "GitHub's default audience instead of sts.amazonaws.com",
        GITHUB_DOCS_POLICY,
        gh(MAIN, aud="https://github.com/octo-org"),
        False,
        ("GitHub's default audience", "oidc/github/sts.amazonaws.com"),
    ),
    Row(
        "audience with a trailing slash",
        GITHUB_DOCS_POLICY,
        gh(MAIN, aud="sts.amazonaws.com/"),
        False,
        ("only by a trailing slash",),
    ),
    Row(
        "Principal names another provider",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {"gitlab.com:sub": "project_path:g/p:ref_type:branch:ref:main"}
                    },
                }
            ],
        },
        gh(MAIN),
        False,
        ("does not apply", f"oidc-provider/{GH}"),
    ),
    Row(
        "Action does not cover AssumeRoleWithWebIdentity",
        github_policy({"StringLike": {f"{GH}:sub": "repo:octo-org/*"}}, action="sts:AssumeRole"),
        gh(MAIN),
        False,
        ("does not cover sts:AssumeRoleWithWebIdentity",),
    ),
    Row(
        "explicit Deny for pull requests wins over the Allow",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowOrg",
                    "Effect": "Allow",
                    "Principal": {"Federated": GH_ARN},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {f"{GH}:sub": "repo:octo-org/*"}},
                },
                {
                    "Sid": "NoPullRequests",
                    "Effect": "Deny",
                    "Principal": {"Federated": GH_ARN},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {f"{GH}:sub": "*:pull_request"}},
                },
            ],
        },
        gh("repo:octo-org/octo-repo:pull_request"),
        False,
        ("explicit Deny", "NoPullRequests"),
        True,
    ),
    Row(
        "the same Deny does not match a branch",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": GH_ARN},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {f"{GH}:sub": "repo:octo-org/*"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": {"Federated": GH_ARN},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {f"{GH}:sub": "*:pull_request"}},
                },
            ],
        },
        gh(MAIN),
        True,
        ("Allowed by statement 1",),
    ),
    Row(
        "StringNotLike excludes pull requests",
        github_policy(
            {
                "StringLike": {f"{GH}:sub": "repo:octo-org/octo-repo:*"},
                "StringNotLike": {f"{GH}:sub": "repo:octo-org/octo-repo:pull_request"},
            }
        ),
        gh("repo:octo-org/octo-repo:pull_request"),
        False,
        ("StringNotLike excludes",),
    ),
    Row(
        "StringNotEquals is true for a key the token lacks",
        github_policy(
            {
                "StringNotEquals": {f"{GH}:amr": "unauthenticated"},
                "StringLike": {f"{GH}:sub": "repo:octo-org/*"},
            }
        ),
        gh(MAIN),
        True,
        ("Allowed",),
    ),
    Row(
        "ForAllValues pitfall: an absent amr passes",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": COGNITO},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{COGNITO}:aud": "us-east-1:12345678-aaaa-bbbb-cccc-123456789012"},
                        "ForAllValues:StringLike": {f"{COGNITO}:amr": "authenticated"},
                    },
                }
            ],
        },
        {
            "iss": f"https://{COGNITO}",
            "aud": "us-east-1:12345678-aaaa-bbbb-cccc-123456789012",
            "sub": "us-east-1:x",
        },
        True,
        ("ForAllValues is true when the key is absent",),
    ),
    Row(
        "ForAllValues: every amr value must match",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": COGNITO},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"ForAllValues:StringLike": {f"{COGNITO}:amr": "authenticated"}},
                }
            ],
        },
        {
            "iss": f"https://{COGNITO}",
            "aud": "pool",
            "sub": "s",
            "amr": ["authenticated", "graph.facebook.com"],
        },
        False,
        ("'graph.facebook.com'", "requires every value"),
    ),
    Row(
        "ForAnyValue: Cognito's documented authenticated-only check",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": COGNITO},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{COGNITO}:aud": "us-east-1:pool"},
                        "ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"},
                    },
                }
            ],
        },
        {
            "iss": f"https://{COGNITO}",
            "aud": "us-east-1:pool",
            "sub": "s",
            "amr": ["authenticated", "accounts.google.com"],
        },
        True,
        ("Allowed",),
    ),
    Row(
        "ForAnyValue is false for an absent key",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": COGNITO},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"}},
                }
            ],
        },
        {"iss": f"https://{COGNITO}", "aud": "us-east-1:pool", "sub": "s"},
        False,
        ("ForAnyValue is false when the key is absent",),
    ),
    Row(
        "IfExists tolerates an absent key",
        github_policy(
            {"StringLike": {f"{GH}:sub": "repo:octo-org/*"}, "StringEqualsIfExists": {f"{GH}:amr": "mfa"}}
        ),
        gh(MAIN),
        True,
        ("Allowed",),
    ),
    Row(
        "IfExists still checks a present key",
        github_policy({"StringLikeIfExists": {f"{GH}:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}}),
        gh("repo:octo-org/octo-repo:ref:refs/heads/dev"),
        False,
        ("does not match",),
    ),
    Row(
        "plain StringEquals on an absent key is false",
        github_policy({"StringEquals": {f"{GH}:amr": "mfa"}}),
        gh(MAIN),
        False,
        ("is absent", "IfExists"),
    ),
    Row(
        "Google: accounts.google.com:aud is the azp claim",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "accounts.google.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            "accounts.google.com:aud": "108410291383734566720",
                            "accounts.google.com:oaud": "https://example.com",
                            "accounts.google.com:sub": "108410291383734566720",
                        }
                    },
                }
            ],
        },
        {
            "iss": "https://accounts.google.com",
            "aud": "https://example.com",
            "azp": "108410291383734566720",
            "sub": "108410291383734566720",
        },
        True,
        ("Allowed",),
    ),
    Row(
        "Google: the requested audience put under :aud instead of :oaud",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "accounts.google.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"accounts.google.com:aud": "https://example.com"}},
                }
            ],
        },
        {
            "iss": "https://accounts.google.com",
            "aud": "https://example.com",
            "azp": "108410291383734566720",
            "sub": "108410291383734566720",
        },
        False,
        ("azp", "'108410291383734566720'", "':aud' holds the token's azp claim"),
    ),
    Row(
        "EKS service account in the wrong namespace",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::111122223333:oidc-provider/{EKS}"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{EKS}:aud": "sts.amazonaws.com",
                            f"{EKS}:sub": "system:serviceaccount:payments:api",
                        }
                    },
                }
            ],
        },
        {"iss": f"https://{EKS}", "aud": ["sts.amazonaws.com"], "sub": "system:serviceaccount:default:api"},
        False,
        ("'system:serviceaccount:default:api'", "does not match 'system:serviceaccount:payments:api'"),
    ),
    Row(
        "CircleCI project-scoped subject",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{CIRCLE}"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringLike": {
                            f"{CIRCLE}:sub": "org/3f4a3a4e-7c0b-4ad9-9a4d-1b0f6a9f6e2a/project/P1/user/*"
                        }
                    },
                }
            ],
        },
        {
            "iss": f"https://{CIRCLE}",
            "aud": "3f4a3a4e-7c0b-4ad9-9a4d-1b0f6a9f6e2a",
            "sub": "org/3f4a3a4e-7c0b-4ad9-9a4d-1b0f6a9f6e2a/project/P1/user/U9",
        },
        True,
        ("Allowed",),
    ),
    Row(
        "condition key names are case-insensitive",
        github_policy({"StringEquals": {"Token.Actions.GithubUserContent.com:SUB": MAIN}}),
        gh(MAIN),
        True,
        ("Allowed",),
    ),
    Row(
        "StringEqualsIgnoreCase tolerates case",
        github_policy(
            {"StringEqualsIgnoreCase": {f"{GH}:sub": "repo:Octo-Org/Octo-Repo:ref:refs/heads/main"}}
        ),
        gh(MAIN),
        True,
        ("Allowed",),
    ),
    Row(
        "a condition key for another issuer is absent",
        github_policy({"StringEquals": {"token.actions.githubusercontent.com/octo-enterprise:sub": MAIN}}),
        gh(MAIN),
        False,
        ("names another issuer",),
    ),
    Row(
        "no condition on sub: allowed, with a warning",
        github_policy({"StringEquals": {f"{GH}:aud": "sts.amazonaws.com"}}),
        gh("repo:someone-else/anything:ref:refs/heads/main"),
        True,
        ("does not check token.actions.githubusercontent.com:sub",),
    ),
    Row(
        "no Allow statement at all",
        {"Version": "2012-10-17", "Statement": []},
        gh(MAIN),
        False,
        ("no Allow statement",),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_golden_trust_policy(row: Row) -> None:
    verdict = evaluate_trust_policy(row.policy, row.claims)
    assert verdict.allowed is row.allowed, verdict.reason
    assert verdict.explicit_deny is row.explicit_deny, verdict.reason
    for fragment in row.fragments:
        assert fragment in verdict.reason, f"{fragment!r} not in: {verdict.reason}"


def test_golden_table_is_large_enough() -> None:
    assert len(ROWS) >= 20
    assert sum(r.allowed for r in ROWS) >= 8 and sum(not r.allowed for r in ROWS) >= 12
