"""Evaluator behaviour beyond the golden table: document shapes, errors, rarer operators and keys."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from oidc_credential_chain.errors import ConfigurationError
from oidc_credential_chain.trust import evaluate_trust_policy
from oidc_credential_chain.trust.aws_policy import issuer_key_prefix, provider_arn_for

GH = "token.actions.githubusercontent.com"
GH_ARN = f"arn:aws:iam::123456789012:oidc-provider/{GH}"
CLAIMS = {
    "iss": f"https://{GH}",
    "aud": "sts.amazonaws.com",
    "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
}


def statement(condition: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": GH_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        body["Condition"] = condition
    body.update(fields)
    return body


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def test_document_shapes_are_accepted() -> None:
    doc = policy(statement({"StringLike": {f"{GH}:sub": "repo:octo-org/*"}}))
    assert evaluate_trust_policy(json.dumps(doc), CLAIMS).allowed
    assert evaluate_trust_policy(
        urllib.parse.quote(json.dumps(doc)), CLAIMS
    ).allowed  # as the IAM API returns it
    assert evaluate_trust_policy({"AssumeRolePolicyDocument": doc}, CLAIMS).allowed
    single = {"Version": "2012-10-17", "Statement": doc["Statement"][0]}
    assert evaluate_trust_policy(single, CLAIMS).allowed


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{oops", "the trust policy is not valid JSON"),
        ('{"Version": "2012-10-17"}', "the trust policy has no 'Statement' element"),
        ("[1, 2]", "the trust policy has no 'Statement' element"),
    ],
)
def test_unusable_documents(document: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        evaluate_trust_policy(document, CLAIMS)


def test_aud_list_matches_when_one_value_matches() -> None:
    doc = policy(statement({"StringEquals": {f"{GH}:aud": "sts.amazonaws.com"}}))
    verdict = evaluate_trust_policy(
        doc, {**CLAIMS, "aud": ["https://github.com/octo-org", "sts.amazonaws.com"]}
    )
    assert verdict.allowed
    cond = verdict.statements[0].conditions[0]
    assert cond.actual == ("https://github.com/octo-org", "sts.amazonaws.com")


def test_unknown_operator_fails_the_condition() -> None:
    verdict = evaluate_trust_policy(policy(statement({"StringSortOf": {f"{GH}:sub": "x"}})), CLAIMS)
    assert not verdict.allowed
    assert "'StringSortOf' is not a condition operator IAM accepts" in verdict.reason


def test_request_attribute_operators_are_reported_as_unchecked() -> None:
    doc = policy(statement({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    verdict = evaluate_trust_policy(doc, CLAIMS)
    assert not verdict.allowed
    assert "cannot be checked from the token" in verdict.reason and "--exchange" in verdict.reason


def test_null_and_bool_operators() -> None:
    doc = policy(statement({"Null": {f"{GH}:sub": "false", f"{GH}:amr": "true"}}))
    assert evaluate_trust_policy(doc, CLAIMS).allowed
    doc = policy(statement({"Null": {f"{GH}:sub": "true"}}))
    verdict = evaluate_trust_policy(doc, CLAIMS)
    assert not verdict.allowed and "the key is present" in verdict.reason
    doc = policy(statement({"Bool": {f"{GH}:amr": "true"}}))
    assert evaluate_trust_policy(doc, {**CLAIMS, "amr": True}).allowed


def test_unsupported_claim_key_is_absent() -> None:
    verdict = evaluate_trust_policy(
        policy(statement({"StringEquals": {f"{GH}:repository": "octo-org/x"}})), CLAIMS
    )
    assert not verdict.allowed
    assert "IAM sets only ':aud', ':sub', ':azp' and ':amr'" in verdict.reason


def test_not_action_and_action_wildcards() -> None:
    assert evaluate_trust_policy(policy(statement(Action="sts:AssumeRoleWith*")), CLAIMS).allowed
    assert evaluate_trust_policy(
        policy(statement(Action=["sts:TagSession", "STS:assumerolewithwebidentity"])), CLAIMS
    ).allowed
    body = statement()
    del body["Action"]
    body["NotAction"] = "sts:AssumeRole"
    assert evaluate_trust_policy(policy(body), CLAIMS).allowed


def test_principal_star_and_case_only_provider_difference() -> None:
    assert evaluate_trust_policy(policy(statement(Principal="*")), CLAIMS).allowed
    upper = statement(
        Principal={"Federated": "arn:aws:iam::123456789012:oidc-provider/Token.Actions.GitHubUserContent.com"}
    )
    verdict = evaluate_trust_policy(policy(upper), CLAIMS)
    assert not verdict.allowed and "only in letter case" in verdict.reason


def test_policy_variables_and_literal_escapes() -> None:
    # ${...} is substituted only with Version 2012-10-17; ${*} is a literal asterisk.
    doc = policy(statement({"StringLike": {f"{GH}:sub": "repo:octo-org/${" + GH + ":aud}"}}))
    assert not evaluate_trust_policy(doc, CLAIMS).allowed
    assert evaluate_trust_policy(doc, {**CLAIMS, "sub": "repo:octo-org/sts.amazonaws.com"}).allowed
    starred = policy(statement({"StringLike": {f"{GH}:sub": "repo:octo-org/${*}"}}))
    assert evaluate_trust_policy(starred, {**CLAIMS, "sub": "repo:octo-org/*"}).allowed
    assert not evaluate_trust_policy(starred, CLAIMS).allowed
    old = policy(statement({"StringEquals": {f"{GH}:sub": "${" + GH + ":sub}"}}), version="2008-10-17")
    assert not evaluate_trust_policy(old, CLAIMS).allowed


def test_request_context_and_session_tags() -> None:
    doc = policy(statement({"StringLike": {"sts:RoleSessionName": "ci-*", "aws:RequestTag/team": "ml"}}))
    claims = {**CLAIMS, "https://aws.amazon.com/tags": {"principal_tags": {"team": ["ml"]}}}
    assert evaluate_trust_policy(doc, claims, context={"sts:RoleSessionName": "ci-42"}).allowed
    verdict = evaluate_trust_policy(doc, CLAIMS, context={"sts:RoleSessionName": "ci-42"})
    assert not verdict.allowed and "sets no tag 'team'" in verdict.reason


def test_google_aud_without_azp_is_the_aud_claim() -> None:
    doc = policy(
        statement(
            {"StringEquals": {"accounts.google.com:aud": "https://example.com"}},
            Principal={"Federated": "accounts.google.com"},
        )
    )
    assert evaluate_trust_policy(
        doc, {"iss": "https://accounts.google.com", "aud": "https://example.com", "sub": "1"}
    ).allowed


def test_other_actions_can_be_evaluated() -> None:
    doc = policy(statement(Action="sts:TagSession"))
    assert evaluate_trust_policy(doc, CLAIMS, action="sts:TagSession").allowed
    assert not evaluate_trust_policy(doc, CLAIMS).allowed


def test_helpers() -> None:
    assert (
        issuer_key_prefix("https://oidc.eks.us-east-1.amazonaws.com/id/ABC")
        == "oidc.eks.us-east-1.amazonaws.com/id/ABC"
    )
    assert provider_arn_for("https://accounts.google.com") == "accounts.google.com"
    assert provider_arn_for(f"https://{GH}", "111122223333", "aws-us-gov") == (
        f"arn:aws-us-gov:iam::111122223333:oidc-provider/{GH}"
    )


def test_failed_conditions_property() -> None:
    doc = policy(statement({"StringEquals": {f"{GH}:aud": "x", f"{GH}:sub": CLAIMS["sub"]}}))
    verdict = evaluate_trust_policy(doc, CLAIMS)
    assert [c.key for c in verdict.failed_conditions] == [f"{GH}:aud"]
