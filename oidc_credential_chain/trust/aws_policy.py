"""Evaluate an IAM role trust policy against an OIDC token, as STS AssumeRoleWithWebIdentity does.

IAM semantics implemented here:

- A statement applies when its ``Principal`` (``Federated``: the IAM OIDC provider ARN
  ``arn:aws:iam::<acct>:oidc-provider/<issuer host/path>``, or ``accounts.google.com`` /
  ``cognito-identity.amazonaws.com``; or ``"*"``) names the token's issuer and its
  ``Action`` (case-insensitive, ``*``/``?`` wildcards) covers the action.
- Condition keys are case-insensitive: ``<issuer host/path>:aud|sub|amr|azp``.  For
  ``accounts.google.com``, ``:aud`` is the token's ``azp`` when present and ``:oaud`` its ``aud``.
- Several values for one key are OR'ed; several keys and operators are AND'ed.
- String values compare case-sensitively (except ``...IgnoreCase``); ``StringLike`` knows
  ``*`` and ``?`` and matches across ``:`` and ``/``.
- A missing key makes positive operators false and negated ones (``StringNot...``) true;
  ``...IfExists`` is true for a missing key; ``ForAllValues:`` is true for a missing or empty
  key (the classic pitfall), ``ForAnyValue:`` false.
- An explicit ``Deny`` that matches wins over any ``Allow``; nothing matching is an implicit deny.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._internal.untrusted_json import MAX_DEPTH, nesting_depth
from ..errors import ConfigurationError
from ._hints import audience_hints, subject_hints
from ._wildcard import ANY_CHAR, ANY_RUN, Wild, Wildcard, matches_wildcard

DEFAULT_ACTION = "sts:AssumeRoleWithWebIdentity"

#: The claim whose values AWS puts in session tags (``aws:RequestTag/<k>``, ``aws:TagKeys``).
TAGS_CLAIM = "https://aws.amazon.com/tags"

_GOOGLE = "accounts.google.com"
_COGNITO = "cognito-identity.amazonaws.com"
_PROVIDER_ARN = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{12}):oidc-provider/(?P<url>.+)$"
)


@dataclasses.dataclass(frozen=True)
class ConditionResult:
    """One ``operator -> key -> values`` test and its outcome."""

    operator: str
    key: str
    expected: tuple[str, ...]
    actual: object
    passed: bool
    explanation: str


@dataclasses.dataclass(frozen=True)
class StatementResult:
    """How one statement of the policy judged the token."""

    index: int
    sid: str | None
    effect: str
    applies: bool
    conditions: tuple[ConditionResult, ...]
    matched: bool
    explanation: str


@dataclasses.dataclass(frozen=True)
class TrustVerdict:
    """The policy's answer: allowed or not, and one paragraph saying why."""

    allowed: bool
    explicit_deny: bool
    statements: tuple[StatementResult, ...]
    reason: str

    @property
    def failed_conditions(self) -> tuple[ConditionResult, ...]:
        """Failing conditions of statements that applied (what to fix)."""
        return tuple(
            cond
            for st in self.statements
            if st.applies and st.effect == "Allow"
            for cond in st.conditions
            if not cond.passed
        )


# --- the token's side: issuer and condition keys ---------------------------------------------------


def issuer_key_prefix(issuer: str) -> str:
    """The condition-key prefix IAM uses for an issuer: the URL without ``https://``.

    Example: ``issuer_key_prefix("https://token.actions.githubusercontent.com")`` is
    ``"token.actions.githubusercontent.com"``.
    """
    text = issuer.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            return text[len(scheme) :]
    return text


def provider_arn_for(issuer: str, account: str = "<account-id>", partition: str = "aws") -> str:
    """The principal a trust policy names for tokens from ``issuer``.

    Example: ``provider_arn_for("https://accounts.google.com")`` is ``"accounts.google.com"``.
    """
    prefix = issuer_key_prefix(issuer)
    if prefix in (_GOOGLE, _COGNITO):
        return prefix
    return f"arn:{partition}:iam::{account}:oidc-provider/{prefix}"


@dataclasses.dataclass(frozen=True)
class _Resolved:
    values: tuple[str, ...] | None  # None: the key is absent from the request context
    raw: object
    claim: str  # what to call it in sentences ("sub", "azp (Google's :aud)")
    note: str = ""


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _claim_values(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(_as_text(v) for v in value if v is not None)
    return (_as_text(value),)


def _raw(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class _Context:
    """The request context IAM builds for AssumeRoleWithWebIdentity with this token."""

    def __init__(self, claims: Mapping[str, Any], extra: Mapping[str, Any] | None) -> None:
        self.claims = claims
        iss = claims.get("iss")
        self.issuer = iss if isinstance(iss, str) else ""
        self.prefix = issuer_key_prefix(self.issuer)
        self.extra = {k.lower(): v for k, v in (extra or {}).items()}

    @property
    def is_google(self) -> bool:
        return self.prefix == _GOOGLE

    def resolve(self, key: str) -> _Resolved:
        lower = key.lower()
        if lower in self.extra:
            value = self.extra[lower]
            return _Resolved(_claim_values(value), _raw(value), key)
        if lower.startswith("aws:requesttag/"):
            tag = key[len("aws:requesttag/") :]
            tags = self._principal_tags()
            value = next((v for k, v in tags.items() if k.lower() == tag.lower()), None)
            values = _claim_values(value)
            return _Resolved(
                values,
                _raw(value),
                f"session tag {tag!r}",
                "" if values else f"the token's {TAGS_CLAIM!r} claim sets no tag {tag!r}",
            )
        if lower == "aws:tagkeys":
            keys = list(self._principal_tags())
            return _Resolved(tuple(keys) if keys else None, tuple(keys) or None, "session tag keys")
        prefix, sep, name = key.rpartition(":")
        if not sep or not prefix:
            return _Resolved(None, None, key, f"{key!r} is not a key of an AssumeRoleWithWebIdentity request")
        if prefix.lower() != self.prefix.lower():
            if "." not in prefix:
                return _Resolved(None, None, key, f"{key!r} is not set for this request")
            return _Resolved(
                None,
                None,
                name,
                f"the key's prefix {prefix!r} names another issuer than the token's "
                f"({self.prefix or 'none'!r}), so the key is not in the request",
            )
        name = name.lower()
        if name == "aud" and self.is_google and "azp" in self.claims:
            value = self.claims.get("azp")
            return _Resolved(
                _claim_values(value),
                _raw(value),
                "azp",
                "for accounts.google.com, ':aud' holds the token's azp claim",
            )
        if name == "oaud":
            if not self.is_google:
                return _Resolved(None, None, "oaud", "':oaud' exists only for accounts.google.com")
            value = self.claims.get("aud")
            return _Resolved(
                _claim_values(value),
                _raw(value),
                "aud",
                "for accounts.google.com, ':oaud' holds the token's aud claim",
            )
        if name in ("aud", "sub", "amr", "azp"):
            value = self.claims.get(name)
            return _Resolved(_claim_values(value), _raw(value), name)
        return _Resolved(
            None,
            None,
            name,
            f"IAM sets only ':aud', ':sub', ':azp' and ':amr' (and ':oaud' for accounts.google.com) from an "
            f"OIDC token, so {key!r} is never in the request",
        )

    def _principal_tags(self) -> dict[str, Any]:
        tags = self.claims.get(TAGS_CLAIM)
        principal = tags.get("principal_tags") if isinstance(tags, Mapping) else None
        if not isinstance(principal, Mapping):
            return {}
        return {str(k): (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in principal.items()}


# --- operators --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Operator:
    text: str
    set_op: str | None  # "ForAnyValue" | "ForAllValues" | None
    base: str  # canonical, without IfExists
    if_exists: bool
    negated: bool
    compare: Callable[[str, str], bool] | None  # None: Null


def _is_like(actual: str, pattern: str) -> bool:
    return _like_pattern(pattern).matches(actual)


# ``${*}``, ``${?}``, ``${$}`` are literal characters in policy values; placeholders keep them
# from being read as wildcards between substitution and matching.
_LITERAL_ESCAPES = {"${*}": "\x00STAR\x00", "${?}": "\x00QMARK\x00", "${$}": "\x00DOLLAR\x00"}
_PLACEHOLDER_LITERAL = {"\x00STAR\x00": "*", "\x00QMARK\x00": "?", "\x00DOLLAR\x00": "$"}
_PLACEHOLDER = re.compile("(\x00(?:STAR|QMARK|DOLLAR)\x00)")


@functools.lru_cache(maxsize=512)
def _like_pattern(pattern: str) -> Wildcard:
    tokens: list[str | Wild] = []
    for piece in _PLACEHOLDER.split(pattern):
        if piece in _PLACEHOLDER_LITERAL:
            tokens.append(_PLACEHOLDER_LITERAL[piece])
        else:
            tokens.extend(ANY_RUN if c == "*" else ANY_CHAR if c == "?" else c for c in piece)
    return Wildcard(tokens)


def _unescape(value: str) -> str:
    return value.replace("\x00STAR\x00", "*").replace("\x00QMARK\x00", "?").replace("\x00DOLLAR\x00", "$")


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(actual: str, expected: str) -> bool:
        a, e = _num(actual), _num(expected)
        return a is not None and e is not None and test(a, e)

    return compare


_BASES: dict[str, tuple[str, bool, Callable[[str, str], bool] | None]] = {
    "stringequals": ("StringEquals", False, lambda a, e: a == _unescape(e)),
    "stringnotequals": ("StringNotEquals", True, lambda a, e: a == _unescape(e)),
    "stringequalsignorecase": (
        "StringEqualsIgnoreCase",
        False,
        lambda a, e: a.lower() == _unescape(e).lower(),
    ),
    "stringnotequalsignorecase": (
        "StringNotEqualsIgnoreCase",
        True,
        lambda a, e: a.lower() == _unescape(e).lower(),
    ),
    "stringlike": ("StringLike", False, _is_like),
    "stringnotlike": ("StringNotLike", True, _is_like),
    "bool": ("Bool", False, lambda a, e: a.lower() == _unescape(e).lower()),
    "numericequals": ("NumericEquals", False, _numeric(lambda a, e: a == e)),
    "numericnotequals": ("NumericNotEquals", True, _numeric(lambda a, e: a == e)),
    "numericlessthan": ("NumericLessThan", False, _numeric(lambda a, e: a < e)),
    "numericlessthanequals": ("NumericLessThanEquals", False, _numeric(lambda a, e: a <= e)),
    "numericgreaterthan": ("NumericGreaterThan", False, _numeric(lambda a, e: a > e)),
    "numericgreaterthanequals": ("NumericGreaterThanEquals", False, _numeric(lambda a, e: a >= e)),
    "null": ("Null", False, None),
}


#: IAM operators that compare request attributes a token does not carry.
_UNCHECKED_OPERATORS = frozenset(
    name.lower()
    for name in (
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "IpAddress",
        "NotIpAddress",
        "BinaryEquals",
    )
)


def _parse_operator(text: str) -> _Operator | None:
    set_op: str | None = None
    rest = text
    head, sep, tail = text.partition(":")
    if sep:
        if head.lower() == "foranyvalue":
            set_op = "ForAnyValue"
        elif head.lower() == "forallvalues":
            set_op = "ForAllValues"
        else:
            return None
        rest = tail
    if_exists = rest.lower().endswith("ifexists") and rest.lower() != "ifexists"
    base_text = rest[: -len("IfExists")] if if_exists else rest
    found = _BASES.get(base_text.lower())
    if found is None or (found[0] == "Null" and (if_exists or set_op)):
        return None
    base, negated, compare = found
    return _Operator(
        text=text, set_op=set_op, base=base, if_exists=if_exists, negated=negated, compare=compare
    )


# --- policy variables ---------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _substitute(value: str, ctx: _Context, *, variables: bool) -> str | None:
    """Resolve ``${...}`` in a policy value; None when a variable has no value (cannot match)."""
    if "${" not in value:
        return value
    if not variables:
        return value
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1)
        literal = "${" + inner + "}"
        if literal in _LITERAL_ESCAPES:
            return _LITERAL_ESCAPES[literal]
        key, comma, default = inner.partition(",")
        resolved = ctx.resolve(key.strip())
        if resolved.values and len(resolved.values) == 1:
            return resolved.values[0]
        default = default.strip()
        if comma and len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        missing = True
        return ""

    result = _VARIABLE.sub(replace, value)
    return None if missing else result


# --- evaluation ----------------------------------------------------------------------------------------


def _quote_list(values: Sequence[str]) -> str:
    if len(values) == 1:
        return repr(values[0])
    return ", ".join(repr(v) for v in values)


@dataclasses.dataclass(frozen=True)
class _ConditionTest:
    """One ``operator -> key -> values`` test with everything resolved: what both the verdict and
    its explanation read."""

    op_text: str
    key: str
    expected: tuple[str, ...]
    op: _Operator | None  # None: not an operator IAM accepts
    resolved: _Resolved
    patterns: tuple[str | None, ...]  # the expected values after ${...}; None when a variable has no value

    @property
    def values(self) -> tuple[str, ...]:
        return self.resolved.values or ()

    @property
    def absent(self) -> bool:
        return not self.resolved.values

    def matches_expected(self, value: str) -> bool:
        """Does ``value`` match one of the expected values (before any negation)?"""
        compare = self.op.compare if self.op is not None else None
        return compare is not None and any(compare(value, p) for p in self.patterns if p is not None)

    def failing_values(self) -> list[str]:
        """For ForAllValues: the values that keep the condition from passing."""
        assert self.op is not None
        return [
            v
            for v in self.values
            if (self.matches_expected(v) if self.op.negated else not self.matches_expected(v))
        ]

    def passing_values(self) -> list[str]:
        """For ForAnyValue: the values that make the condition pass."""
        assert self.op is not None
        return [
            v
            for v in self.values
            if (not self.matches_expected(v) if self.op.negated else self.matches_expected(v))
        ]


def _evaluate_condition(
    op_text: str, key: str, raw_expected: object, ctx: _Context, *, variables: bool
) -> ConditionResult:
    raw_list = raw_expected if isinstance(raw_expected, list) else [raw_expected]
    expected = tuple(_as_text(v) for v in raw_list)
    op = _parse_operator(op_text)
    patterns = (
        tuple(_substitute(e, ctx, variables=variables) for e in expected)
        if op is not None and op.compare is not None
        else ()
    )
    test = _ConditionTest(op_text, key, expected, op, ctx.resolve(key), patterns)
    passed = _condition_passes(test)
    return ConditionResult(
        op_text, key, expected, test.resolved.raw, passed, _explain_condition(test, passed)
    )


# --- the verdict ---------------------------------------------------------------------------------------


def _condition_passes(test: _ConditionTest) -> bool:
    """IAM's verdict on one condition (see the module docstring for the rules)."""
    op = test.op
    if op is None:
        return False
    if op.compare is None:  # Null: "true" means "the key must be absent"
        wanted = {e.lower() for e in test.expected}
        return ("true" in wanted and test.absent) or ("false" in wanted and not test.absent)
    if test.absent:
        return op.if_exists or op.set_op == "ForAllValues" or (op.negated and op.set_op is None)
    if op.set_op == "ForAllValues":
        return not test.failing_values()
    if op.set_op == "ForAnyValue":
        return bool(test.passing_values())
    matched = any(test.matches_expected(v) for v in test.values)
    return not matched if op.negated else matched


# --- the explanation -----------------------------------------------------------------------------------


def _explain_condition(test: _ConditionTest, passed: bool) -> str:
    """The sentence saying why ``test`` came out as ``passed``, with hints when it failed."""
    op = test.op
    if op is None:
        return _explain_unknown_operator(test.op_text)
    if op.compare is None:
        note = f" ({test.resolved.note})" if test.resolved.note else ""
        state = "absent" if test.absent else "present"
        return f"Null {_quote_list(test.expected)} on {test.key!r}: the key is {state}{note}"
    if test.absent:
        return _explain_absent(test, op)
    return _explain_values(test, op, passed) + _explanation_notes(test, op, passed)


def _explain_unknown_operator(op_text: str) -> str:
    base = op_text.rpartition(":")[2]
    base = base[: -len("IfExists")] if base.lower().endswith("ifexists") else base
    if base.lower() in _UNCHECKED_OPERATORS:
        return (
            f"{op_text} tests what only STS sees about the request (dates, ARNs, source IP or VPC); "
            "it cannot be checked from the token and is counted as failing here - confirm with --exchange"
        )
    return (
        f"{op_text!r} is not a condition operator IAM accepts (IAM rejects such a policy); "
        "the condition cannot pass"
    )


def _explain_absent(test: _ConditionTest, op: _Operator) -> str:
    claim = test.resolved.claim
    if op.if_exists:
        why = f"{op.text} is true when the key is absent"
    elif op.set_op == "ForAllValues":
        why = (
            "ForAllValues is true when the key is absent or empty, so this condition lets tokens "
            f"without {claim!r} through (use a plain {op.base}, or add a Null check)"
        )
    elif op.negated and op.set_op is None:
        why = f"a negated operator ({op.base}) is true when the key is absent"
    elif op.set_op == "ForAnyValue":
        why = "ForAnyValue is false when the key is absent"
    else:
        why = f"{op.text} is false when the key is absent (an ...IfExists operator would tolerate that)"
    if test.resolved.note:
        absent_text = f"{test.key!r} is not in the request ({test.resolved.note})"
    else:
        absent_text = f"the token has no {claim!r} claim, so {test.key!r} is absent"
    return f"{absent_text}; {why}"


def _explain_values(test: _ConditionTest, op: _Operator, passed: bool) -> str:
    claim, expected = test.resolved.claim, _quote_list(test.expected)
    shown = _quote_list(test.values)
    if op.set_op == "ForAllValues":
        if passed:
            rule = "matches none of" if op.negated else "is among"
            return f"every {claim} value {rule} {expected} ({op.text})"
        rule = "matches" if op.negated else "matches none of"
        return (
            f"{claim} value {_quote_list(test.failing_values())} {rule} {expected}, and {op.text} "
            "requires every value to pass"
        )
    if op.set_op == "ForAnyValue":
        if passed:
            rule = "matches none of" if op.negated else "matches"
            return f"{claim} value {_quote_list(test.passing_values())} {rule} {expected} ({op.text})"
        rule = "matches one of" if op.negated else "matches none of"
        return f"every {claim} value ({shown}) {rule} {expected} ({op.text})"
    what = f"{claim} {shown}"
    if op.negated:
        if passed:
            return f"{what} matches none of the excluded values {expected} ({op.base})"
        return f"{what} matches {expected}, which {op.base} excludes"
    if passed:
        return f"{what} matches {expected} ({op.text})"
    return f"{what} does not match {expected} ({op.text})"


def _explanation_notes(test: _ConditionTest, op: _Operator, passed: bool) -> str:
    """What follows the main sentence: unresolved variables, mismatch hints, the key's note, advice."""
    claim, values = test.resolved.claim, test.values
    text = ""
    if None in test.patterns:
        text += "; a policy variable in the expected values has no value for this request"
    if not passed and not op.negated:
        usable = [p for p in test.patterns if p is not None]
        # ForAllValues: only the values that failed need explaining.
        unmatched = (
            tuple(v for v in values if not test.matches_expected(v))
            if op.set_op == "ForAllValues"
            else values
        )
        hints = _mismatch_hints(claim, unmatched, usable, op)
        if hints:
            text += ": " + "; ".join(hints)
    if test.resolved.note:
        text += f" ({test.resolved.note})"
    if passed and op.set_op and len(values) == 1 and claim in ("sub", "aud", "azp"):
        text += f" (note: {claim} is single-valued; IAM advises against set operators on it)"
    return text


def _mismatch_hints(claim: str, values: Sequence[str], patterns: Sequence[str], op: _Operator) -> list[str]:
    if op.compare is None or op.base not in ("StringEquals", "StringLike"):
        return []
    matches: Callable[[str, str], bool] = op.compare
    hints: list[str] = []
    for value in values[:3]:
        for pattern in patterns[:10]:
            if claim == "sub":
                found = subject_hints(value, pattern, matches=matches)
            elif claim in ("aud", "azp"):
                found = audience_hints(value, _unescape(pattern))
            elif matches(value.lower(), pattern.lower()):
                found = [
                    f"{value!r} differs from {pattern!r} only in letter case ({op.base} is case-sensitive)"
                ]
            else:
                found = []
            for hint in found:
                if hint not in hints:
                    hints.append(hint)
    return hints


def _listify(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _action_matches(patterns: Sequence[Any], action: str) -> bool:
    return any(isinstance(p, str) and matches_wildcard(action, p, ignore_case=True) for p in patterns)


def _principal_check(statement: Mapping[str, Any], ctx: _Context) -> tuple[bool, str]:
    """Does the statement's principal name this token's issuer? (and why not)."""
    negate = "NotPrincipal" in statement
    principal = statement.get("NotPrincipal" if negate else "Principal")
    matched, why = _principal_matches(principal, ctx)
    if negate:
        return (
            not matched,
            "NotPrincipal " + ("excludes" if matched else "does not exclude") + " this issuer",
        )
    return matched, why


def _principal_matches(principal: object, ctx: _Context) -> tuple[bool, str]:
    if principal == "*":
        return True, "Principal '*' covers every caller"
    if not isinstance(principal, Mapping):
        return False, "the statement has no Principal"
    if _listify(principal.get("AWS")) == ["*"]:
        return True, "Principal {'AWS': '*'} covers every caller"
    federated = [f for f in _listify(principal.get("Federated")) if isinstance(f, str)]
    want = provider_arn_for(ctx.issuer) if ctx.issuer else "(the token has no iss claim)"
    if not federated:
        kinds = ", ".join(sorted(str(k) for k in principal)) or "nothing"
        return False, f"the Principal names {kinds}, not a Federated OIDC provider (expected {want!r})"
    for entry in federated:
        if _federated_matches(entry, ctx):
            return True, f"Federated {entry!r} is the provider for iss {ctx.issuer!r}"
    notes: list[str] = []
    for entry in federated:
        url = _provider_url(entry)
        if url is not None and ctx.prefix and url.lower() == ctx.prefix.lower():
            notes.append(f"{entry!r} differs from the token's issuer only in letter case")
        elif url is not None and ctx.prefix and url.rstrip("/") == ctx.prefix.rstrip("/"):
            notes.append(f"{entry!r} differs from the token's issuer {ctx.issuer!r} only by a trailing slash")
    trusted = _quote_list(federated)
    extra = ("; " + "; ".join(notes)) if notes else ""
    return False, (
        f"the statement trusts {trusted}, but the token's iss {ctx.issuer!r} needs Federated {want!r}{extra}"
    )


def _provider_url(entry: str) -> str | None:
    match = _PROVIDER_ARN.match(entry)
    if match:
        return match.group("url")
    if entry in (_GOOGLE, _COGNITO):
        return entry
    return None


def _federated_matches(entry: str, ctx: _Context) -> bool:
    if not ctx.prefix:
        return False
    url = _provider_url(entry)
    return url is not None and url == ctx.prefix


def _load_policy(policy: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(policy, str):
        text = policy.strip()
        if text.startswith("%7B") or text.startswith("%7b"):  # the IAM API returns documents URL-encoded
            text = urllib.parse.unquote(text)
        if nesting_depth(text.encode("utf-8", "surrogatepass")) > MAX_DEPTH:
            raise ConfigurationError(f"the trust policy nests JSON deeper than {MAX_DEPTH} levels")
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigurationError(
                f"the trust policy is not valid JSON ({err.msg} at line {err.lineno})"
            ) from None
    else:
        loaded = policy
    if isinstance(loaded, Mapping) and "Statement" not in loaded and "AssumeRolePolicyDocument" in loaded:
        document = loaded["AssumeRolePolicyDocument"]  # `aws iam get-role --query Role` output
        return _load_policy(document)
    if isinstance(loaded, Mapping) and "Role" in loaded and isinstance(loaded["Role"], Mapping):
        return _load_policy(loaded["Role"])
    if not isinstance(loaded, Mapping) or "Statement" not in loaded:
        raise ConfigurationError(
            "the trust policy has no 'Statement' element; give the role's trust policy document "
            "(as `aws iam get-role --query Role.AssumeRolePolicyDocument` prints it)"
        )
    return loaded


def evaluate_trust_policy(
    policy: Mapping[str, Any] | str,
    claims: Mapping[str, Any],
    *,
    action: str = DEFAULT_ACTION,
    context: Mapping[str, Any] | None = None,
) -> TrustVerdict:
    """Judge a role trust policy against a token's claims, as IAM does for ``action``.

    ``context`` adds request keys that do not come from the token (e.g.
    ``{"sts:RoleSessionName": "ci"}``).  Raises :class:`ConfigurationError` for a policy
    that is not JSON or has no ``Statement``.

    Example::

        verdict = evaluate_trust_policy(policy, {"iss": "https://token.actions.githubusercontent.com",
                                                 "aud": "sts.amazonaws.com", "sub": "repo:o/r:pull_request"})
        if not verdict.allowed:
            print(verdict.reason)
    """
    document = _load_policy(policy)
    variables = document.get("Version") == "2012-10-17"
    ctx = _Context(claims, context)
    raw_statements = document.get("Statement")
    statements = raw_statements if isinstance(raw_statements, list) else [raw_statements]
    results: list[StatementResult] = []
    for index, statement in enumerate(statements):
        results.append(_evaluate_statement(index, statement, ctx, action, variables=variables))
    deny = next((r for r in results if r.effect == "Deny" and r.matched), None)
    allow = next((r for r in results if r.effect == "Allow" and r.matched), None)
    allowed = allow is not None and deny is None
    return TrustVerdict(
        allowed=allowed,
        explicit_deny=deny is not None,
        statements=tuple(results),
        reason=_reason(results, deny, allow, ctx, action),
    )


def _evaluate_statement(
    index: int, statement: object, ctx: _Context, action: str, *, variables: bool
) -> StatementResult:
    if not isinstance(statement, Mapping):
        return StatementResult(index, None, "?", False, (), False, "the statement is not a JSON object")
    sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
    effect = str(statement.get("Effect", ""))
    if effect not in ("Allow", "Deny"):
        return StatementResult(
            index, sid, effect, False, (), False, f"Effect {effect!r} is neither 'Allow' nor 'Deny'"
        )
    principal_ok, principal_why = _principal_check(statement, ctx)
    if "NotAction" in statement:
        action_ok = not _action_matches(_listify(statement.get("NotAction")), action)
        action_why = f"NotAction {'excludes' if not action_ok else 'does not exclude'} {action}"
    else:
        patterns = _listify(statement.get("Action"))
        action_ok = _action_matches(patterns, action)
        action_why = f"Action {_quote_list([str(p) for p in patterns]) or '(none)'} does not cover {action}"
    conditions = _evaluate_conditions(statement.get("Condition"), ctx, variables=variables)
    applies = principal_ok and action_ok
    failed = [c for c in conditions if not c.passed]
    matched = applies and not failed
    if not principal_ok:
        explanation = principal_why
    elif not action_ok:
        explanation = action_why
    elif failed:
        explanation = "; ".join(f"{c.operator} on {c.key!r} fails: {c.explanation}" for c in failed)
    else:
        if not conditions:
            explanation = f"{principal_why}, and the statement has no conditions"
        elif len(conditions) == 1:
            explanation = f"{principal_why}, and its condition passes ({conditions[0].explanation})"
        else:
            explanation = f"{principal_why}, and all {len(conditions)} conditions pass"
    return StatementResult(index, sid, effect, applies, tuple(conditions), matched, explanation)


def _evaluate_conditions(block: object, ctx: _Context, *, variables: bool) -> list[ConditionResult]:
    if block is None:
        return []
    if not isinstance(block, Mapping):
        return [
            ConditionResult("Condition", "", (), None, False, "the Condition element is not a JSON object")
        ]
    results: list[ConditionResult] = []
    for op_text, tests in block.items():
        if not isinstance(tests, Mapping):
            results.append(
                ConditionResult(
                    str(op_text), "", (), None, False, f"{op_text!r} must map condition keys to values"
                )
            )
            continue
        for key, expected in tests.items():
            results.append(_evaluate_condition(str(op_text), str(key), expected, ctx, variables=variables))
    return results


def _label(result: StatementResult) -> str:
    sid = f" (Sid {result.sid!r})" if result.sid else ""
    return f"statement {result.index + 1}{sid}"


def _reason(
    results: Sequence[StatementResult],
    deny: StatementResult | None,
    allow: StatementResult | None,
    ctx: _Context,
    action: str,
) -> str:
    if deny is not None:
        conditions = "; ".join(c.explanation for c in deny.conditions) or "it has no conditions"
        also = f" even though {_label(allow)} allows it" if allow is not None else ""
        return (
            f"Denied: {_label(deny)} is an explicit Deny that matches this token ({conditions}), "
            f"and an explicit Deny overrides every Allow{also}. "
            f"STS answers AccessDenied (Not authorized to perform {action})."
        )
    if allow is not None:
        text = f"Allowed by {_label(allow)}: {allow.explanation}."
        pitfalls = [
            c.explanation
            for c in allow.conditions
            if c.passed and c.actual is None and "ForAllValues" in c.operator
        ]
        if pitfalls:
            text += " Warning: " + "; ".join(pitfalls) + "."
        if not any(c.key.lower().endswith(":sub") for c in allow.conditions) and ctx.prefix:
            text += (
                f" Warning: the statement does not check {ctx.prefix}:sub, so any identity of this issuer "
                "that gets the right audience can assume the role."
            )
        return text
    allows = [r for r in results if r.effect == "Allow"]
    if not allows:
        return (
            f"Not allowed: the policy has no Allow statement, so {action} is implicitly denied "
            "(STS answers AccessDenied)."
        )
    parts = []
    for result in allows:
        parts.append(
            f"{_label(result)} does not apply: {result.explanation}"
            if not result.applies
            else f"{_label(result)} fails: {result.explanation}"
        )
    return (
        f"Not allowed: no Allow statement matches this token (iss {ctx.issuer!r}), "
        f"so STS answers AccessDenied (Not authorized to perform {action}). " + ". ".join(parts) + "."
    )


__all__ = [
    "DEFAULT_ACTION",
    "ConditionResult",
    "StatementResult",
    "TrustVerdict",
    "evaluate_trust_policy",
    "issuer_key_prefix",
    "provider_arn_for",
]
