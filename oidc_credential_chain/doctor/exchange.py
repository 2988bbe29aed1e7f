"""``doctor --exchange``: perform the real exchange and say what its error code means.

The exchanges themselves are the library's own (``oidc_credential_chain.aws`` for STS,
``oidc_credential_chain.azure`` for Entra ID); this module runs them once, never shows a
credential, and maps STS and Entra error codes to what to change.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ..errors import ExchangeError, OIDCError

#: STS error codes (PROTOCOLS §6) -> what they mean for the person fixing the setup.
STS_EXPLANATIONS: Mapping[str, str] = {
    "AccessDenied": (
        "the role's trust policy refused the token: its Principal must be the IAM OIDC provider of "
        "the token's issuer and every Condition must hold for the token's aud and sub "
        "(pass --aws-trust-policy to see which condition fails)"
    ),
    "InvalidIdentityToken": (
        "STS could not accept the token itself: no IAM OIDC provider exists in the role's account for the "
        "token's issuer, the token's aud is not among that provider's client IDs (audiences), the signature "
        "does not verify, or STS could not fetch the issuer's signing keys"
    ),
    "IDPCommunicationError": (
        "STS could not reach the issuer's discovery document or JWKS (they must be reachable from the "
        "internet over https); often transient, retry later"
    ),
    "ExpiredTokenException": (
        "the token had expired when STS checked it: fetch a fresh one, and check the identity provider's and "
        "this machine's clocks"
    ),
    "IDPRejectedClaim": "the identity provider reported the token's claims as expired or revoked",
    "ValidationError": (
        "a request parameter broke a constraint: the role ARN's form, the session name (2-64 characters of "
        "[\\w+=,.@-]) or a duration above the role's maximum session duration"
    ),
    "RegionDisabledException": (
        "STS is not activated in the region used: activate it under IAM account settings or use another "
        "region (AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_STS)"
    ),
    "MalformedPolicyDocument": "the session policy passed with the request is not valid",
    "PackedPolicyTooLarge": "the session policies and tags are too large once packed; shorten them",
    "Throttling": "STS is rate-limiting the account; retry with backoff",
}

#: AADSTS codes (PROTOCOLS §9) -> meaning.
ENTRA_EXPLANATIONS: Mapping[str, str] = {
    "70021": (
        "no federated identity credential of the app matches the assertion's issuer, subject and audience "
        "exactly (case-sensitive); a credential created in the last few minutes may still be propagating"
    ),
    "700211": "no federated identity credential of the app has the assertion's issuer (iss)",
    "700213": "no federated identity credential of the app has the assertion's subject (sub)",
    "7002138": (
        "a federated identity credential's subject matches only case-insensitively: Entra compares subjects "
        "case-sensitively, so fix the letter case in the credential"
    ),
    "7002131": "no flexible federated identity credential's claimsMatchingExpression accepts the assertion",
    "700024": (
        "the assertion is outside its validity window (expired, or not yet valid): use a fresh token and "
        "check clocks"
    ),
    "700027": "the assertion's signature did not verify against the issuer's published keys",
    "700016": "no application with this client ID exists in the tenant (check AZURE_CLIENT_ID, tenant)",
    "90002": "the tenant was not found: check AZURE_TENANT_ID and that the authority host is the right cloud",
    "7000215": "an invalid client secret was sent",
    "7000218": "the request carried neither client_assertion nor client_secret",
    "700022": "the scope names several resources; ask for one '<resource>/.default'",
    "700023": "the scope names no resource",
    "70011": "the scope is not valid",
    "50033": "a transient Entra failure; retry",
    "90006": "a transient Entra failure; retry",
    "90024": "Entra's request budget was exceeded; retry later",
    "90033": "a transient Entra directory failure; retry",
    "90090": "a transient Entra failure; retry",
    "90055": "the tenant is being throttled; back off and retry",
}

_ENTRA_ERRORS: Mapping[str, str] = {
    "invalid_client": "Entra did not accept the client assertion for this app",
    "invalid_request": "Entra found the request malformed or matched no federated credential",
    "unauthorized_client": "the application is not known in the tenant or may not use this grant",
    "invalid_scope": "the requested scope is not valid",
    "invalid_tenant": "the tenant was not found",
    "temporarily_unavailable": "Entra is temporarily unavailable; retry",
}

_AADSTS = re.compile(r"AADSTS(\d+)")


def explain_sts_error(code: str | None) -> str:
    """What an STS error code means, or ``""`` when unknown.

    Example: ``explain_sts_error("AccessDenied")`` names the trust policy.
    """
    return STS_EXPLANATIONS.get(code or "", "")


def explain_entra_error(code: str | None, message: str = "") -> str:
    """What an Entra answer means, from its ``AADSTSnnnn`` number (in ``code`` or ``message``) or ``error``.

    Example: ``explain_entra_error("AADSTS7002138")`` says the subject differs in case.
    """
    for text in (code or "", message):
        match = _AADSTS.search(text)
        if match and match.group(1) in ENTRA_EXPLANATIONS:
            return ENTRA_EXPLANATIONS[match.group(1)]
    return _ENTRA_ERRORS.get(code or "", "")


@dataclasses.dataclass(frozen=True)
class ExchangeOutcome:
    """One exchange attempt: success details (never a credential) or the refusal explained."""

    service: str
    target: str
    ok: bool
    detail: str
    code: str | None = None
    explanation: str = ""
    retryable: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def outcome_from_error(service: str, target: str, err: OIDCError) -> ExchangeOutcome:
    """Turn a failed exchange into an outcome with the code's explanation."""
    code = err.code if isinstance(err, ExchangeError) else None
    if "entra" in service.lower() or "azure" in service.lower():
        explanation = explain_entra_error(code, err.message)
    else:
        explanation = explain_sts_error(code)
    retryable = bool(getattr(err, "retryable", False))
    return ExchangeOutcome(service, target, False, err.message, code, explanation, retryable)


def exchange_aws(spec: str, role_arn: str, *, region: str | None = None) -> ExchangeOutcome:
    """``AssumeRoleWithWebIdentity`` for ``role_arn`` with the spec's token, as the library does it.

    Uses botocore's session for region, proxies and ``AWS_ENDPOINT_URL_STS``.  Raises
    :class:`~oidc_credential_chain.errors.ConfigurationError` for a bad role ARN.
    """
    import botocore.session

    from ..aws.config import WebIdentityConfig
    from ..aws.region import sts_region
    from ..aws.sts import SERVICE, assume_role_with_web_identity, create_sts_client

    config = WebIdentityConfig.create(
        token=spec,
        role_arn=role_arn,
        session_name="oidc-credential-chain-doctor",
        names={"role_arn": "--role-arn"},
    )
    session = botocore.session.get_session()
    sts_at = sts_region(config.role_arn, region, session.get_config_variable("region"))
    client = create_sts_client(session, sts_at)
    try:
        credentials = assume_role_with_web_identity(client, config)
    except OIDCError as err:
        return outcome_from_error(SERVICE, role_arn, err)
    assumed = credentials.assumed_role_arn or role_arn
    return ExchangeOutcome(
        SERVICE,
        role_arn,
        True,
        f"assumed {assumed}; the credentials expire at {credentials.expiration_text} "
        f"(in {credentials.seconds_left():.0f} s)",
    )


def exchange_azure(
    spec: str,
    *,
    tenant_id: str,
    client_id: str,
    authority: str | None = None,
    scope: str = "https://management.azure.com/.default",
) -> ExchangeOutcome:
    """A client-credentials request to Entra ID with the spec's token as the client assertion."""
    from ..azure import OIDCCredential

    target = f"tenant {tenant_id}, client {client_id}"
    credential = OIDCCredential(token=spec, tenant_id=tenant_id, client_id=client_id, authority=authority)
    service = "Entra ID"
    try:
        access = credential.get_token_info(scope)
    except OIDCError as err:
        return outcome_from_error(service, target, err)
    except Exception as err:  # noqa: BLE001 - azure-core's own error types: report, never crash
        inner = getattr(err, "__cause__", None) or getattr(err, "__context__", None)
        if isinstance(inner, OIDCError):
            return outcome_from_error(service, target, inner)
        message = str(err)
        code_match = _AADSTS.search(message)
        code = f"AADSTS{code_match.group(1)}" if code_match else type(err).__name__
        return ExchangeOutcome(service, target, False, message, code, explain_entra_error(code, message))
    finally:
        close = getattr(credential, "close", None)
        if callable(close):
            close()
    return ExchangeOutcome(
        service,
        target,
        True,
        f"Entra ID issued an access token for {scope} (expires at epoch {access.expires_on})",
    )


__all__ = [
    "ENTRA_EXPLANATIONS",
    "STS_EXPLANATIONS",
    "ExchangeOutcome",
    "exchange_aws",
    "exchange_azure",
    "explain_entra_error",
    "explain_sts_error",
    "outcome_from_error",
]
