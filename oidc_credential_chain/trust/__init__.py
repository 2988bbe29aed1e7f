"""Trust checks that relying parties make, reproduced locally to explain refusals.

- :func:`evaluate_trust_policy` judges an IAM role trust policy against a token's claims
  (what STS AssumeRoleWithWebIdentity does), naming the condition that fails.
- :func:`match_federated_credentials` finds the Entra ID federated identity credential that
  accepts a token, or the nearest one and the field that differs.

Both are pure Python and import nothing beyond the standard library.

Example::

    from oidc_credential_chain.trust import evaluate_trust_policy
    verdict = evaluate_trust_policy(policy_json, claims)
    print(verdict.allowed, verdict.reason)
"""

from __future__ import annotations

from .aws_policy import ConditionResult, StatementResult, TrustVerdict, evaluate_trust_policy
from .azure_fic import FicVerdict, match_federated_credentials

__all__ = [
    "ConditionResult",
    "FicVerdict",
    "StatementResult",
    "TrustVerdict",
    "evaluate_trust_policy",
    "match_federated_credentials",
]
