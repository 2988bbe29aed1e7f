"""IAM and Entra wildcards match in polynomial time, with the semantics the regexes had.

The attack: a trust policy (or a flexible federated credential) holds a pattern with many
``*``, and the token's claim is a long run of the character between them.  A backtracking
regex tries every way of splitting the claim between the stars, which takes minutes for
``*a*a*a*a*ab`` against 300 ``a``.  The attacks run in a child interpreter so that a
regression fails the test at the time bound instead of hanging the run.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oidc_credential_chain.trust import evaluate_trust_policy
from oidc_credential_chain.trust._wildcard import ANY_CHAR, ANY_RUN, Wildcard, matches_wildcard

ATTACK_PATTERN = "*a*a*a*a*ab"
ATTACK_VALUE = "a" * 300
#: Generous: the matcher needs milliseconds, the regexes it replaces needed minutes.
BOUND_SECONDS = 60
GH = "token.actions.githubusercontent.com"


def run_child(script: str, tmp_path: Path) -> str:
    """Run ``script`` in a fresh interpreter within the bound; returns its stdout."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)],
            capture_output=True,
            text=True,
            timeout=BOUND_SECONDS,
            env=env,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"matching {ATTACK_PATTERN!r} against {len(ATTACK_VALUE)} 'a' took over {BOUND_SECONDS} s"
        )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_trust_policy_evaluation_resists_the_backtracking_attack(tmp_path: Path) -> None:
    out = run_child(
        f"""
        from oidc_credential_chain.trust import evaluate_trust_policy
        policy = {{
            "Version": "2012-10-17",
            "Statement": [{{
                "Effect": "Allow",
                "Principal": {{"Federated": "arn:aws:iam::123456789012:oidc-provider/{GH}"}},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {{"StringLike": {{"{GH}:sub": "{ATTACK_PATTERN}"}}}},
            }}],
        }}
        claims = {{"iss": "https://{GH}", "aud": "sts.amazonaws.com", "sub": "{ATTACK_VALUE}"}}
        verdict = evaluate_trust_policy(policy, claims)
        print(verdict.allowed)
        """,
        tmp_path,
    )
    assert out == "False"


def test_doctor_resists_the_backtracking_attack(tmp_path: Path) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GH}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {f"{GH}:sub": ATTACK_PATTERN}},
            }
        ],
    }
    policy_path = tmp_path / "trust.json"
    policy_path.write_text(json.dumps(policy))
    out = run_child(
        f"""
        import os
        from oidc_credential_chain.cli import main
        from oidc_credential_chain.testing import OIDCIssuer
        with OIDCIssuer(issuer="https://{GH}") as issuer:
            os.environ["ATTACK_TOKEN"] = issuer.mint({{"sub": "{ATTACK_VALUE}", "aud": "sts.amazonaws.com"}})
            code = main(["doctor", "oidc/env/ATTACK_TOKEN", "--aws-trust-policy", {str(policy_path)!r}])
        print("exit", code)
        """,
        tmp_path,
    )
    assert out.splitlines()[-1] == "exit 3"
    assert f"StringLike {GH}:sub" in out


def test_sts_emulator_resists_the_backtracking_attack(tmp_path: Path) -> None:
    out = run_child(
        f"""
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config
        from botocore.exceptions import ClientError
        from oidc_credential_chain.testing import OIDCIssuer, STSEmulator
        with OIDCIssuer() as issuer, STSEmulator() as sts:
            sts.register_provider(issuer)
            role = sts.allow("victim", issuer, sub="{ATTACK_PATTERN}")
            token = issuer.mint({{"sub": "{ATTACK_VALUE}", "aud": "sts.amazonaws.com"}})
            client = boto3.client(
                "sts", region_name="us-east-1", endpoint_url=sts.url,
                config=Config(signature_version=UNSIGNED, retries={{"max_attempts": 1}}),
            )
            try:
                client.assume_role_with_web_identity(
                    RoleArn=role, RoleSessionName="attack", WebIdentityToken=token
                )
            except ClientError as err:
                print(err.response["Error"]["Code"])
        """,
        tmp_path,
    )
    assert out == "AccessDenied"


def test_flexible_federated_credential_resists_the_backtracking_attack(tmp_path: Path) -> None:
    out = run_child(
        f"""
        from oidc_credential_chain.trust import match_federated_credentials
        record = {{
            "name": "flexible",
            "issuer": "https://{GH}",
            "claimsMatchingExpression": {{"value": "claims['sub'] matches '{ATTACK_PATTERN}'"}},
            "audiences": ["api://AzureADTokenExchange"],
        }}
        claims = {{"iss": "https://{GH}", "aud": "api://AzureADTokenExchange", "sub": "{ATTACK_VALUE}"}}
        verdict = match_federated_credentials([record], claims)
        print(verdict.code)
        """,
        tmp_path,
    )
    assert out == "AADSTS7002131"


# --- the same answers as the regexes --------------------------------------------------------------


def regex_match(value: str, pattern: str) -> bool:
    """The translation used before: ``*`` -> ``.*``, ``?`` -> ``.``, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


TABLE = [
    ("", "", True),
    ("", "*", True),
    ("", "?", False),
    ("a", "", False),
    ("abc", "abc", True),
    ("abc", "ABC", False),
    ("abc", "a*", True),
    ("abc", "*c", True),
    ("abc", "*b*", True),
    ("abc", "a?c", True),
    ("ac", "a?c", False),
    ("abbc", "a?c", False),
    ("abc", "???", True),
    ("abc", "????", False),
    ("abc", "**", True),
    ("abc", "a**c", True),
    ("abc", "*?", True),
    ("", "*?", False),
    ("aaab", "*a*ab", True),
    ("aaa", "*a*ab", False),
    ("ab", "*a*ab", False),
    ("mississippi", "m*iss*ppi", True),
    ("mississippi", "m*iss*ppix", False),
    ("mississippi", "*sip*", True),
    ("mississippi", "*s?p*", True),
    ("repo:octo-org/octo-repo:ref:refs/heads/main", "repo:octo-org/*", True),
    ("repo:octo-org/octo-repo:pull_request", "repo:octo-org/octo-repo:ref:refs/heads/*", False),
    ("repo:o/r:environment:prod", "repo:o/r:environment:pr??", True),
    ("repo:o/r:environment:production", "repo:o/r:environment:pr??", False),
    ("line\nbreak", "line*break", True),
    ("line\nbreak", "line?break", True),
    ("a.b", "a.b", True),
    ("axb", "a.b", False),
    ("a+b(c)[d]{e}|^$\\", "a+b(c)[d]{e}|^$\\", True),
    ("ünïcödé", "ü*é", True),
    ("ünïcödé", "?n?c?d?", True),
    ("abcabcabd", "*abd", True),
    ("abcabcabc", "*abd", False),
    ("xaaaaaaaaaab", "x*a*a*a*b", True),
    ("aab", "*a?b", True),
    ("ab", "*a?b", False),
    ("abab", "ab*ab", True),
    ("aba", "ab*ab", False),
    ("ab", "a*b*", True),
]


@pytest.mark.parametrize(("value", "pattern", "expected"), TABLE)
def test_table_matches_like_the_regex(value: str, pattern: str, expected: bool) -> None:
    assert regex_match(value, pattern) is expected
    assert matches_wildcard(value, pattern) is expected


def test_random_patterns_match_like_the_regex() -> None:
    rng = random.Random(20261201)
    for _ in range(3000):
        value = "".join(rng.choice("ab?*") for _ in range(rng.randrange(0, 9)))
        pattern = "".join(rng.choice("ab?**") for _ in range(rng.randrange(0, 7)))
        assert matches_wildcard(value, pattern) is regex_match(value, pattern), (value, pattern)


def test_ignore_case_folds_both_sides_like_lower() -> None:
    assert matches_wildcard("STS:AssumeRoleWithWebIdentity", "sts:assume*", ignore_case=True)
    assert not matches_wildcard("STS:AssumeRoleWithWebIdentity", "sts:assume*")


def test_literal_tokens_are_not_wildcards() -> None:
    # IAM's ${*} and ${?} are a literal '*' and '?' in a policy value.
    pattern = Wildcard(("price", ANY_RUN, "*", ANY_CHAR))
    assert pattern.matches("price:*1")
    assert pattern.matches("price*x")
    assert not pattern.matches("price 1")
    assert Wildcard(("a?",)).matches("a?")
    assert not Wildcard(("a?",)).matches("ab")


def test_policy_literal_escapes_still_match_literally() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GH}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {f"{GH}:sub": "repo:o/r${*}:*"}},
            }
        ],
    }
    claims = {"iss": f"https://{GH}", "aud": "sts.amazonaws.com"}
    assert evaluate_trust_policy(policy, {**claims, "sub": "repo:o/r*:main"}).allowed
    assert not evaluate_trust_policy(policy, {**claims, "sub": "repo:o/rx:main"}).allowed


def test_many_stars_against_a_long_claim_stay_fast_in_process() -> None:
    # Runs after the child-process checks have shown the matcher terminates; a hang here is a bug.
    value = "a" * 5000
    assert not matches_wildcard(value, "*a" * 40 + "b")
    assert matches_wildcard(value + "b", "*a" * 40 + "b")
