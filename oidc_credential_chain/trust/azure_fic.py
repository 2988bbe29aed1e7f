"""Match a token against Entra ID federated identity credentials, as Entra does.

Records have the shape Microsoft Graph and ``az ad app federated-credential list`` use:
``{"name", "issuer", "subject", "audiences": [...], "description"}``, or, for flexible
credentials, ``claimsMatchingExpression: {"value": "claims['sub'] matches 'repo:o/r:*'",
"languageVersion": 1}`` instead of ``subject``.  Matching is exact and case-sensitive on
``iss``, ``sub`` and ``aud``, with no wildcards outside flexible expressions (whose
``matches`` knows ``*`` and ``?``, and ``eq`` compares exactly, joined by ``and``).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError
from ..jwt import claim_audiences
from ._hints import audience_hints, subject_hints
from ._wildcard import matches_wildcard

#: Entra's codes for "no record matches", by what differs.
CODE_NO_MATCH = "AADSTS70021"
CODE_ISSUER = "AADSTS700211"
CODE_SUBJECT = "AADSTS700213"
CODE_SUBJECT_CASE = "AADSTS7002138"
CODE_EXPRESSION = "AADSTS7002131"


@dataclasses.dataclass(frozen=True)
class FicVerdict:
    """Which record matches, or the nearest one and what differs from it.

    ``code`` is the AADSTS code Entra answers with when nothing matches (None on a match).
    """

    matched: Mapping[str, Any] | None
    nearest: Mapping[str, Any] | None
    differences: tuple[str, ...]
    reason: str
    code: str | None = None


_TERM = re.compile(
    r"^claims\[\s*'(?P<claim>[^']+)'\s*\]\s+(?P<op>matches|eq)\s+'(?P<value>(?:[^'\\]|\\.)*)'$"
)


@dataclasses.dataclass(frozen=True)
class _Term:
    claim: str
    op: str
    value: str


def parse_claims_expression(text: str) -> list[_Term]:
    """Parse ``claims['sub'] matches 'x*' and claims['job_workflow_ref'] eq 'y'``.

    Raises :class:`ConfigurationError` for anything else (Entra rejects such a record).
    """
    terms: list[_Term] = []
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _TERM.match(part.strip())
        if not match:
            raise ConfigurationError(
                f"the claimsMatchingExpression {text!r} is not of the form "
                "\"claims['sub'] matches 'pattern'\" (terms joined by 'and', operators 'matches' or 'eq')"
            )
        value = re.sub(r"\\(.)", r"\1", match.group("value"))
        terms.append(_Term(match.group("claim"), match.group("op"), value))
    return terms


def _equals(value: str, pattern: str) -> bool:
    return value == pattern


def _record_audiences(record: Mapping[str, Any]) -> list[str]:
    value = record.get("audiences")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [a for a in value if isinstance(a, str)]
    return []


def _expression(record: Mapping[str, Any]) -> str | None:
    expr = record.get("claimsMatchingExpression")
    if isinstance(expr, Mapping):
        value = expr.get("value")
        return value if isinstance(value, str) else None
    return expr if isinstance(expr, str) else None


@dataclasses.dataclass
class _Comparison:
    record: Mapping[str, Any]
    issuer: str  # "exact" | "case" | "differs"
    subject: str
    audience: str
    subject_detail: list[str]
    expression_error: str | None = None
    similarity: float = 0.0  # 0..1, how close the subject is; breaks ties between near misses

    @property
    def matched(self) -> bool:
        return self.issuer == self.subject == self.audience == "exact"

    @property
    def score(self) -> float:
        weight = {"exact": 1.0, "case": 0.75, "differs": 0.0}
        return (
            4 * weight[self.issuer] + 2 * weight[self.subject] + weight[self.audience] + 0.2 * self.similarity
        )

    @property
    def differences(self) -> tuple[str, ...]:
        fields = (("issuer", self.issuer), ("subject", self.subject), ("audience", self.audience))
        return tuple(name for name, state in fields if state != "exact")


def _closeness(value: str | None, configured: str) -> str:
    if value is None:
        return "differs"
    if value == configured:
        return "exact"
    if value.lower() == configured.lower():
        return "case"
    return "differs"


def _compare(record: Mapping[str, Any], claims: Mapping[str, Any]) -> _Comparison:
    iss = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    issuer = _closeness(iss, str(record.get("issuer", "")))
    audience = _audience_state(_record_audiences(record), claim_audiences(claims))
    expression = _expression(record)
    if expression is None:
        return _compare_subject(record, claims, issuer, audience)
    try:
        terms = parse_claims_expression(expression)
    except ConfigurationError as err:
        return _Comparison(record, issuer, "differs", audience, [], expression_error=err.message)
    if all(_term_holds(term, claims) for term in terms):
        return _Comparison(record, issuer, "exact", audience, [])
    return _Comparison(record, issuer, "differs", audience, _expression_mismatches(terms, claims))


def _audience_state(record_auds: Sequence[str], token_auds: Sequence[str]) -> str:
    if any(a in record_auds for a in token_auds):
        return "exact"
    if any(a.lower() == r.lower() for a in token_auds for r in record_auds):
        return "case"
    return "differs"


def _compare_subject(
    record: Mapping[str, Any], claims: Mapping[str, Any], issuer: str, audience: str
) -> _Comparison:
    sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    configured = str(record.get("subject", ""))
    subject = _closeness(sub, configured)
    if subject == "exact" or sub is None:
        return _Comparison(record, issuer, subject, audience, [])
    detail = subject_hints(sub, configured, matches=_equals)
    similarity = difflib.SequenceMatcher(None, sub, configured).ratio()
    return _Comparison(record, issuer, subject, audience, detail, similarity=similarity)


def _term_test(term: _Term) -> Callable[[str, str], bool]:
    return matches_wildcard if term.op == "matches" else _equals


def _term_holds(term: _Term, claims: Mapping[str, Any]) -> bool:
    value = claims.get(term.claim)
    return isinstance(value, str) and _term_test(term)(value, term.value)


def _expression_mismatches(terms: Sequence[_Term], claims: Mapping[str, Any]) -> list[str]:
    """Why each failing term of a claims-matching expression fails, with subject hints."""
    sentences: list[str] = []
    for term in terms:
        value = claims.get(term.claim)
        if not isinstance(value, str):
            sentences.append(f"the token has no string claim {term.claim!r}")
        elif not _term_holds(term, claims):
            sentences.append(f"{term.claim} {value!r} does not satisfy {term.op} {term.value!r}")
            if term.claim == "sub":
                sentences.extend(subject_hints(value, term.value, matches=_term_test(term)))
    return sentences


def match_federated_credentials(
    records: Sequence[Mapping[str, Any]], claims: Mapping[str, Any]
) -> FicVerdict:
    """Find the federated identity credential that accepts a token, as Entra ID does.

    Example::

        verdict = match_federated_credentials(records, {"iss": "https://token.actions.githubusercontent.com",
                                                        "sub": "repo:o/r:environment:prod",
                                                        "aud": "api://AzureADTokenExchange"})
        print(verdict.matched["name"] if verdict.matched else verdict.reason)
    """
    if isinstance(records, Mapping):
        records = [records]
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise ConfigurationError(
                f"federated credential #{index + 1} is not a JSON object; give records as "
                "`az ad app federated-credential list` prints them"
            )
    if not records:
        return FicVerdict(
            None, None, (), "No federated identity credential records were given.", CODE_NO_MATCH
        )
    comparisons = [_compare(record, claims) for record in records]
    for comparison in comparisons:
        if comparison.matched:
            return FicVerdict(
                matched=comparison.record,
                nearest=None,
                differences=(),
                reason=(
                    f"Federated credential {_name(comparison.record)} matches: issuer, "
                    + ("claims expression" if _expression(comparison.record) else "subject")
                    + " and audience equal the token's (case-sensitive)."
                ),
            )
    nearest = max(comparisons, key=lambda c: c.score)  # max keeps the first of equals
    code = _code(comparisons)
    return FicVerdict(
        matched=None,
        nearest=nearest.record,
        differences=nearest.differences,
        reason=_reason(nearest, claims, len(records), code),
        code=code,
    )


def _code(comparisons: Sequence[_Comparison]) -> str:
    same_issuer = [c for c in comparisons if c.issuer == "exact"]
    if not same_issuer:
        return CODE_ISSUER
    if not any(c.subject == "exact" for c in same_issuer):
        best = max(same_issuer, key=lambda c: c.score)
        if _expression(best.record) is not None:
            return CODE_EXPRESSION
        return CODE_SUBJECT_CASE if any(c.subject == "case" for c in same_issuer) else CODE_SUBJECT
    return CODE_NO_MATCH


def _name(record: Mapping[str, Any]) -> str:
    name = record.get("name")
    return repr(name) if isinstance(name, str) else "(unnamed)"


_CODE_WORDS = {
    CODE_NO_MATCH: "no matching federated identity record",
    CODE_ISSUER: "no record for the presented issuer",
    CODE_SUBJECT: "no record for the presented subject",
    CODE_SUBJECT_CASE: "the subject matches a record only case-insensitively",
    CODE_EXPRESSION: "no claims-matching expression accepts the token",
}


def _reason(nearest: _Comparison, claims: Mapping[str, Any], count: int, code: str) -> str:
    record = nearest.record
    parts: list[str] = []
    iss = claims.get("iss")
    configured_iss = str(record.get("issuer", ""))
    if nearest.issuer != "exact":
        text = f"issuer: the token presents {iss!r}, the record has {configured_iss!r}"
        if nearest.issuer == "case":
            text += " (they differ only in letter case; Entra compares case-sensitively)"
        elif isinstance(iss, str) and configured_iss.strip() == iss:
            text += " (the record's issuer has leading or trailing whitespace, which blocks the exchange)"
        elif isinstance(iss, str) and configured_iss.rstrip("/") == iss.rstrip("/"):
            text += " (they differ only by a trailing slash)"
        parts.append(text)
    if nearest.subject != "exact":
        expression = _expression(record)
        if nearest.expression_error:
            parts.append(f"claims expression: {nearest.expression_error}")
        elif expression is not None:
            parts.append(
                f"claims expression {expression!r} does not match: " + "; ".join(nearest.subject_detail)
            )
        else:
            text = (
                f"subject: the token presents {claims.get('sub')!r}, the record has {record.get('subject')!r}"
            )
            if nearest.subject_detail:
                text += " (" + "; ".join(nearest.subject_detail) + ")"
            parts.append(text)
    if nearest.audience != "exact":
        token_auds = claim_audiences(claims)
        record_auds = _record_audiences(record)
        text = f"audience: the token presents {_show(token_auds)}, the record accepts {_show(record_auds)}"
        hints = [h for a in token_auds[:3] for r in record_auds[:3] for h in audience_hints(a, r)]
        if hints:
            text += " (" + "; ".join(dict.fromkeys(hints)) + ")"
        parts.append(text)
    of = f" of {count}" if count > 1 else ""
    return (
        f"No federated identity credential matches this token, so Entra ID refuses it "
        f"({code}: {_CODE_WORDS[code]}). The nearest{of} record, {_name(record)}, differs in "
        + "; and in ".join(parts)
        + ". Entra compares issuer, subject and audience exactly and case-sensitively, without wildcards."
    )


def _show(values: Sequence[str]) -> str:
    if not values:
        return "none"
    return ", ".join(repr(v) for v in values)


__all__ = ["FicVerdict", "match_federated_credentials", "parse_claims_expression"]
