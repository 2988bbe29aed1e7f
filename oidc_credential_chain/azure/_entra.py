"""The Entra ID token request for a federated client assertion, and how its answers are read.

``POST {authority}/{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``,
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and the
ID token as ``client_assertion`` (PROTOCOLS §9).  A refusal becomes an
:class:`EntraExchangeError` carrying Entra's ``AADSTS`` code and message and the
assertion's ``iss``/``sub``/``aud``/``exp`` (never the assertion itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._internal.log import get_logger
from .._internal.record import Record
from .._internal.untrusted_json import parse_json
from ..idtoken import IdToken
from ..jwt import claim_audiences, format_claims, redact
from ._errors import AzureConfigurationError, EntraExchangeError
from ._refresh import expiry_margin, refresh_on
from ._settings import TENANT_VAR, Settings

if TYPE_CHECKING:
    from azure.core.credentials import AccessTokenInfo
    from azure.core.rest import HttpRequest

_log = get_logger("azure")

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SERVICE = "Entra ID"

#: AADSTS codes worth retrying (Entra's own "retryable" and throttling errors).
_RETRYABLE_CODES = frozenset(
    {"AADSTS50033", "AADSTS90006", "AADSTS90024", "AADSTS90033", "AADSTS90090", "AADSTS90055"}
)
_CODE = re.compile(r"AADSTS\d+")
_NO_FIC_CODES = frozenset({"AADSTS70021", "AADSTS700211", "AADSTS700212", "AADSTS700213", "AADSTS7002138"})


class AccessGrant(Record):
    """An access token with its expiry (epoch seconds, as azure-core reports it) and the monotonic
    times at which it is renewed (``refresh_mono``) and no longer handed out (``stale_mono``)."""

    token: str
    token_type: str
    expires_on: int
    refresh_on: int
    refresh_mono: float
    stale_mono: float

    def info(self) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(
            self.token, self.expires_on, token_type=self.token_type, refresh_on=self.refresh_on
        )

    def __repr__(self) -> str:
        return f"AccessGrant(expires_on={self.expires_on}, refresh_on={self.refresh_on})"


class Exchange(Record):
    """One token request: who asks, with which assertion, and when it was sent."""

    settings: Settings
    tenant_id: str
    scopes: tuple[str, ...]
    assertion: IdToken
    sent_wall: float
    sent_mono: float

    @property
    def url(self) -> str:
        return token_url(self.settings.authority, self.tenant_id)

    @property
    def who(self) -> str:
        return f"client {self.settings.client_id} in tenant {self.tenant_id}"


def token_url(authority: str, tenant_id: str) -> str:
    return f"{authority}/{tenant_id}/oauth2/v2.0/token"


def merge_claims(claims: str | None, enable_cae: bool) -> str | None:
    """The ``claims`` field: a challenge's claims, plus the CAE capability ``CP1`` when enabled."""
    if not enable_cae:
        return claims or None
    try:
        merged = parse_json(claims) if claims else {}
    except ValueError as err:
        merged = err
    access = merged.setdefault("access_token", {}) if isinstance(merged, dict) else None
    capability = access.setdefault("xms_cc", {"values": []}) if isinstance(access, dict) else None
    values = capability.setdefault("values", []) if isinstance(capability, dict) else None
    if not isinstance(values, list):
        # A resource server's challenge: malformed or deeply nested claims are refused, not echoed.
        why = f" ({merged})" if isinstance(merged, ValueError) else ""
        raise AzureConfigurationError(
            f"the claims challenge passed to get_token is not a JSON object of the CAE form{why}; "
            "its content is not shown"
        )
    if "CP1" not in values:
        values.append("CP1")
    return json.dumps(merged, separators=(",", ":"))


def token_request(exchange: Exchange, claims: str | None) -> HttpRequest:
    """The form POST to Entra's v2.0 token endpoint."""
    from azure.core.rest import HttpRequest

    form = {
        "client_id": exchange.settings.client_id or "",
        "scope": " ".join(exchange.scopes),
        "client_assertion_type": JWT_BEARER,
        "client_assertion": exchange.assertion.value,
        "grant_type": "client_credentials",
    }
    if claims:
        form["claims"] = claims
    return HttpRequest("POST", exchange.url, data=form, headers={"Accept": "application/json"})


def read_token_response(exchange: Exchange, status: int, text: str) -> AccessGrant:
    """The grant from a 200 answer; raises :class:`EntraExchangeError` for anything else."""
    try:
        body = parse_json(text) if text else None
    except ValueError:
        body = None
    if status == 200 and not isinstance(body, Mapping):
        # Not JSON (or nested too deeply): nothing in it is worth quoting.
        raise EntraExchangeError(
            f"{SERVICE} at {exchange.url} answered HTTP 200 with a body that is not a JSON object "
            f"(for {exchange.who}); the body is not shown; the endpoint may not be Entra ID "
            f"(check {exchange.settings.authority})",
            spec=exchange.assertion.spec,
            service=SERVICE,
            status=status,
            claims=exchange.assertion.summary(),
            retryable=True,
        )
    if status != 200 or not isinstance(body, Mapping) or "error" in body:
        raise refusal_error(exchange, status, body, text)
    token = body.get("access_token")
    expires_in = _seconds(body.get("expires_in"))
    if expires_in is None and _seconds(body.get("expires_on")) is not None:
        expires_in = _seconds(body.get("expires_on"))
        if expires_in is not None:
            expires_in -= exchange.sent_wall
    if not isinstance(token, str) or not token or expires_in is None:
        raise EntraExchangeError(
            f"{SERVICE} at {exchange.url} answered HTTP 200 without an access token and its lifetime "
            f"(for {exchange.who}); the endpoint may not be Entra ID (check {exchange.settings.authority})",
            spec=exchange.assertion.spec,
            service=SERVICE,
            status=status,
            claims=exchange.assertion.summary(),
        )
    grant = make_grant(
        token,
        str(body.get("token_type") or "Bearer"),
        expires_in,
        _seconds(body.get("refresh_in")),
        sent_wall=exchange.sent_wall,
        sent_mono=exchange.sent_mono,
    )
    _log.info(
        "exchanged the token from %s at %s for %s, scope %s: %s; the access token expires in %.0f s",
        exchange.assertion.spec,
        SERVICE,
        exchange.who,
        " ".join(exchange.scopes),
        exchange.assertion.describe(),
        expires_in,
    )
    return grant


def make_grant(
    token: str,
    token_type: str,
    expires_in: float,
    refresh_in: float | None,
    *,
    sent_wall: float,
    sent_mono: float,
) -> AccessGrant:
    """Times are counted from when the request was sent, so the grant never outlives the token."""
    expires_in = max(0.0, expires_in)
    refresh_mono = refresh_on(expires_in, sent_mono)
    if refresh_in is not None:
        refresh_mono = min(refresh_mono, sent_mono + max(0.0, refresh_in))
    return AccessGrant(
        token=token,
        token_type=token_type,
        expires_on=int(sent_wall + expires_in),
        refresh_on=int(sent_wall + (refresh_mono - sent_mono)),
        refresh_mono=refresh_mono,
        stale_mono=sent_mono + expires_in - expiry_margin(expires_in),
    )


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def refusal_error(exchange: Exchange, status: int, body: object, text: str) -> EntraExchangeError:
    """Entra's refusal as an error naming the code, Entra's message, and the assertion's claims."""
    assertion = exchange.assertion
    error: str | None = None
    description = ""
    code: str | None = None
    trace = ""
    if isinstance(body, Mapping):
        error = body.get("error") if isinstance(body.get("error"), str) else None
        raw = body.get("error_description")
        description = raw.strip() if isinstance(raw, str) else ""
        codes = body.get("error_codes")
        if isinstance(codes, list) and codes and isinstance(codes[0], int):
            code = f"AADSTS{codes[0]}"
        trace_id, correlation_id = body.get("trace_id"), body.get("correlation_id")
        if isinstance(trace_id, str) and isinstance(correlation_id, str):
            trace = f" (trace ID {trace_id}, correlation ID {correlation_id})"
    if code is None:
        found = _CODE.search(description)
        code = found.group(0) if found else error
    # Entra's description ends with Trace ID, Correlation ID and Timestamp lines; the first is the message.
    message = description.splitlines()[0].strip() if description else _excerpt(text)
    if code and message.startswith(f"{code}:"):
        message = message[len(code) + 1 :].strip()
    message = redact(message, assertion.value)
    retryable = (
        status >= 500 or status == 429 or error == "temporarily_unavailable" or code in _RETRYABLE_CODES
    )
    label = ", ".join(part for part in (error, code if code != error else None) if part)
    text_out = (
        f"{SERVICE} refused the client assertion for {exchange.who} (HTTP {status}"
        + (f", {label}" if label else "")
        + f"): {message}{trace}. The assertion from {assertion.spec} has {format_claims(assertion.claims)}."
    )
    hint = _hint(exchange, code, error)
    if hint:
        text_out += " " + hint
    return EntraExchangeError(
        text_out,
        spec=assertion.spec,
        service=SERVICE,
        code=code,
        error=error,
        status=status,
        claims=assertion.summary(),
        retryable=retryable,
    )


def _excerpt(text: str, limit: int = 300) -> str:
    squeezed = " ".join(text.split())
    return squeezed[:limit] if squeezed else "(empty body)"


def _hint(exchange: Exchange, code: str | None, error: str | None) -> str:
    settings = exchange.settings
    spec = exchange.assertion.spec
    if code in _NO_FIC_CODES or code == "AADSTS7002131":
        hint = (
            f"Add or fix a federated identity credential on app {settings.client_id} whose issuer, subject "
            "and audience equal the token's exactly (Entra compares them case-sensitively); "
            f"`oidc-credential-chain doctor {spec} --azure-federated-credential FILE` shows which field "
            "differs."
        )
        expected = settings.expected_exchange_audience()
        if expected and expected not in claim_audiences(exchange.assertion.claims):
            hint += (
                f" Federated credentials in this cloud ({settings.authority}) normally use the audience "
                f"{expected!r}, which the token does not carry."
            )
        if code == "AADSTS70021":
            hint += " A credential created in the last few minutes may still be propagating."
        return hint
    if code == "AADSTS700024":
        return (
            "The assertion was outside its valid time range when Entra checked it, even after a fresh one "
            "was fetched: check this machine's clock and the identity provider's token lifetime."
        )
    if code == "AADSTS700016" or error == "unauthorized_client":
        return (
            f"Check the client ID ({settings.client_id}) and that the app is registered in tenant "
            f"{exchange.tenant_id}."
        )
    if code == "AADSTS90002" or error == "invalid_tenant":
        return (
            f"Check the tenant ID ({TENANT_VAR}) and that the authority {settings.authority} is the tenant's "
            "cloud (login.microsoftonline.us for US Government, login.chinacloudapi.cn for China)."
        )
    if code == "AADSTS700027":
        return "Entra could not verify the assertion's signature against the keys its issuer publishes."
    if error == "invalid_scope":
        return (
            "A client-credential scope is one resource followed by '/.default', "
            "e.g. 'https://cognitiveservices.azure.com/.default'."
        )
    return ""


def unreachable_error(exchange: Exchange, err: BaseException, budget: float) -> EntraExchangeError:
    """Entra could not be reached or did not answer in time (no AADSTS code)."""
    reason = redact(" ".join(str(getattr(err, "message", err)).split()), exchange.assertion.value)[:200]
    reason = reason or "no detail"
    return EntraExchangeError(
        f"{SERVICE} at {exchange.url} did not answer for {exchange.who} ({type(err).__name__}: {reason}) "
        f"within the {budget:g} s budget; check the network path and proxy to {exchange.settings.authority}",
        spec=exchange.assertion.spec,
        service=SERVICE,
        claims=exchange.assertion.summary(),
        retryable=True,
    )
