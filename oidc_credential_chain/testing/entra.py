"""Microsoft Entra ID's token endpoint for client assertions, over HTTPS on loopback.

``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials`` and a
``client_assertion`` is judged as Entra judges it: the tenant and app must exist, the
scope must be one ``<resource>/.default``, a federated identity credential of the app
must match the assertion's ``iss``, ``sub`` and ``aud`` exactly
(:func:`oidc_credential_chain.trust.azure_fic.match_federated_credentials`), the
signature must verify against the keys the issuer publishes (discovery document and
JWKS fetched over HTTP), and the assertion must be within its valid time range.
Refusals come in Entra's JSON shape with the real ``AADSTS`` codes.  Accepted requests
get an access token signed with the emulator's own key, whose discovery document and
JWKS the emulator also serves (so relying parties such as the Azure OpenAI and STS
emulators can verify them).

Example::

    with OIDCIssuer("https://token.actions.githubusercontent.com") as github, EntraEmulator() as entra:
        entra.add_federated_credential(github, "repo:octo-org/octo-repo:ref:refs/heads/main")
        os.environ.update(entra.env())
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ._server import EmulatorServer, Request, Response
from .issuer import OIDCIssuer
from .tls import loopback_ca

#: A fixed tenant and app so that tests and docs can name them.
DEFAULT_TENANT_ID = "8e2b0e4c-5b1a-4c3e-9d57-2f1a6b0c9d11"
DEFAULT_CLIENT_ID = "3f9c2a71-64d8-4b0e-a1c5-7d2e9b8f6a40"

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_TENANT = r"[A-Za-z0-9.-]+"
_TOKEN_PATH = re.compile(rf"^/(?P<tenant>{_TENANT})/oauth2/v2\.0/token$")
_DISCOVERY_V2 = re.compile(rf"^/(?P<tenant>{_TENANT})/v2\.0/\.well-known/openid-configuration$")
_DISCOVERY_V1 = re.compile(rf"^/(?P<tenant>{_TENANT})/\.well-known/openid-configuration$")
_KEYS = re.compile(rf"^/(?P<tenant>{_TENANT})/discovery(?:/v2\.0)?/keys$")


@dataclasses.dataclass(frozen=True)
class Cloud:
    """A national cloud: its authority host and the audience its federated credentials use."""

    name: str
    authority_host: str
    exchange_audience: str
    v1_issuer_host: str


CLOUDS: dict[str, Cloud] = {
    "public": Cloud("public", "login.microsoftonline.com", "api://AzureADTokenExchange", "sts.windows.net"),
    "usgov": Cloud(
        "usgov", "login.microsoftonline.us", "api://AzureADTokenExchangeUSGov", "login.microsoftonline.us"
    ),
    "china": Cloud(
        "china", "login.chinacloudapi.cn", "api://AzureADTokenExchangeChina", "sts.chinacloudapi.cn"
    ),
}


@dataclasses.dataclass
class EntraApp:
    """An app registration (with its service principal) in one tenant."""

    tenant_id: str
    client_id: str
    object_id: str
    display_name: str
    federated_credentials: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """An access token the emulator issued (the token itself is kept for assertions in tests)."""

    tenant_id: str
    client_id: str
    scope: str
    audience: str
    expires_on: int
    assertion_claims: Mapping[str, Any]
    access_token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A refused token request: the ``error``, the AADSTS code (``"AADSTS70021"``) and the description."""

    status: int
    error: str
    code: str | None
    description: str
    assertion_claims: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class _KnownError:
    error: str
    status: int
    text: str


#: The AADSTS codes this emulator answers with, their ``error`` value and HTTP status.
KNOWN_ERRORS: dict[int, _KnownError] = {
    70003: _KnownError(
        "unsupported_grant_type", 400, "The app requested an unsupported grant type '{grant}'."
    ),
    70011: _KnownError(
        "invalid_scope", 400, "The provided value for the input parameter 'scope' is not valid."
    ),
    70021: _KnownError(
        "invalid_request",
        400,
        "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. "
        "Assertion Subject: '{sub}'. Assertion Audience: '{aud}'. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    700211: _KnownError(
        "invalid_client",
        401,
        "No matching federated identity record found for presented assertion issuer '{iss}'. "
        "Please check your federated identity credential Subject, Audience and Issuer against the "
        "presented assertion. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    700213: _KnownError(
        "invalid_client",
        401,
        "No matching federated identity record found for presented assertion subject '{sub}'. "
        "Please check your federated identity credential Subject, Audience and Issuer against the "
        "presented assertion. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    7002138: _KnownError(
        "invalid_client",
        401,
        "No matching federated identity record found for presented assertion subject '{sub}'. The subject "
        "matches with case-insensitive comparison, but not with case-sensitive comparison. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    7002131: _KnownError(
        "invalid_client",
        401,
        "No matching federated identity record found for presented assertion. None of the claims matching "
        "expressions of the federated identity credentials matched the presented assertion (issuer '{iss}', "
        "subject '{sub}'). https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    700016: _KnownError(
        "unauthorized_client",
        400,
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the tenant or "
        "consented to by any user in the tenant. You may have sent your authentication request to the "
        "wrong tenant.",
    ),
    700024: _KnownError(
        "invalid_client",
        401,
        "Client assertion is not within its valid time range. Current time: {now}, "
        "assertion valid from {nbf}, expiry time of assertion {exp}. Review the documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
    ),
    700027: _KnownError(
        "invalid_client",
        401,
        "Client assertion failed signature validation. Review the documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
    ),
    50027: _KnownError("invalid_request", 400, "JWT token is invalid or malformed."),
    50166: _KnownError(
        "invalid_client", 401, "Request to External OIDC endpoint failed. Issuer '{iss}': {detail}"
    ),
    90002: _KnownError(
        "invalid_tenant",
        400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may happen if "
        "there are no active subscriptions for the tenant.",
    ),
    900144: _KnownError(
        "invalid_request", 400, "The request body must contain the following parameter: '{parameter}'."
    ),
    1002012: _KnownError(
        "invalid_scope",
        400,
        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
        "with /.default suffixed to the resource identifier (application ID URI).",
    ),
    7000218: _KnownError(
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    90033: _KnownError(
        "temporarily_unavailable",
        503,
        "A transient error has occurred. Please try again.",
    ),
}

#: ``inject_error("temporarily_unavailable")`` answers this code.
_NAMED_CODES = {"temporarily_unavailable": 90033}


def entra_error(
    code: int, description: str, *, status: int | None = None, error: str | None = None
) -> Response:
    """A refusal in Entra's JSON shape: ``error``, ``error_description`` with trace lines, ``error_codes``."""
    known = KNOWN_ERRORS.get(code)
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    stamp = datetime.datetime.now(datetime.timezone.utc)
    body = {
        "error": error or (known.error if known else "invalid_request"),
        "error_description": (
            f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\n"
            f"Timestamp: {stamp.strftime('%Y-%m-%d %H:%M:%S')}Z"
        ),
        "error_codes": [code],
        "timestamp": stamp.strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    headers = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache"}
    return Response(status or (known.status if known else 400), body, headers)


def _iso(epoch: float | None) -> str:
    if epoch is None:
        return "(none)"
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%m/%d/%Y %H:%M:%S")


class _Refused(Exception):
    def __init__(self, code: int, status: int | None = None, **fields: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.fields = fields


class EntraEmulator(EmulatorServer):
    """Entra ID's v2.0 token endpoint for federated client assertions (HTTPS on loopback).

    A tenant (``tenant_id``) with one app (``client_id``) exists from the start; add
    federated credentials with :meth:`add_federated_credential` (an :class:`OIDCIssuer`
    given as issuer is trusted through its loopback discovery URL).  ``expires_in`` sets
    the lifetime of issued access tokens; ``clock`` is the emulator's notion of now.
    Point clients at it with :meth:`env` (``AZURE_AUTHORITY_HOST``, ``AZURE_TENANT_ID``,
    ``AZURE_CLIENT_ID``) and trust its certificate with ``loopback_ca().env()``.

    Example::

        with EntraEmulator(expires_in=120) as entra:
            entra.add_federated_credential("https://accounts.google.com", "112233445566778899000")
            token = requests.post(entra.token_url(), data={...}, verify=entra.ca_path).json()
    """

    name = "entra"

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        cloud: str = "public",
        expires_in: int = 3599,
        token_version: int = 1,
        leeway: float = 0.0,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        if cloud not in CLOUDS:
            raise ValueError(f"cloud must be one of {', '.join(CLOUDS)}, not {cloud!r}")
        ca = loopback_ca()
        kwargs.setdefault("ssl_context", ca.server_context())
        super().__init__(**kwargs)
        self.cloud = CLOUDS[cloud]
        #: Lifetime in seconds of the access tokens issued from now on.
        self.expires_in = expires_in
        #: 1: ``iss=https://sts.windows.net/<tenant>/`` (Entra's default for resources); 2: the v2.0 issuer.
        self.token_version = token_version
        #: Seconds of clock skew tolerated on an assertion's ``nbf``/``exp`` (0: strict).
        self.leeway = leeway
        #: The emulator's clock (epoch seconds); tests replace it to move time.
        self.clock = clock
        #: CA bundle used to fetch issuers' discovery documents over https.
        self.ca_path = ca.bundle_path
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._tenants: dict[str, set[str]] = {}  # tenant ID -> domain names
        self._apps: dict[tuple[str, str], EntraApp] = {}
        self._trusted: dict[str, str] = {}  # issuer -> discovery URL
        self._jwks_cache: dict[str, dict[str, Any]] = {}
        self._own_keys: dict[str, Any] = {}
        self._injected: list[tuple[int, int | None, str | None, list[int]]] = []
        self._lock = threading.Lock()
        self._signer = _shared_signer()
        #: Every token issued and every request refused, in order.
        self.issued: list[IssuedToken] = []
        self.refusals: list[Refusal] = []
        self.add_tenant(tenant_id)
        self.add_app(client_id, tenant_id=tenant_id, display_name="oidc-credential-chain")

    # configuration ---------------------------------------------------------------------
    @property
    def authority(self) -> str:
        """The authority host URL clients use (``AZURE_AUTHORITY_HOST``)."""
        return self.url

    def add_tenant(self, tenant_id: str | None = None, *, domains: Iterable[str] = ()) -> str:
        """Create a tenant (a new GUID unless given); returns its ID."""
        tenant = tenant_id or str(uuid.uuid4())
        with self._lock:
            self._tenants.setdefault(tenant, set()).update(domains)
        return tenant

    def add_app(
        self,
        client_id: str | None = None,
        *,
        tenant_id: str | None = None,
        display_name: str = "app",
    ) -> EntraApp:
        """Register an app (and its service principal) in a tenant; returns it."""
        tenant = tenant_id or self.tenant_id
        if tenant not in self._tenants:
            self.add_tenant(tenant)
        app = EntraApp(
            tenant_id=tenant,
            client_id=client_id or str(uuid.uuid4()),
            object_id=str(uuid.uuid4()),
            display_name=display_name,
        )
        with self._lock:
            self._apps[(tenant, app.client_id)] = app
        return app

    def app(self, client_id: str | None = None, *, tenant_id: str | None = None) -> EntraApp:
        """The registered app (the default one without arguments)."""
        return self._apps[(tenant_id or self.tenant_id, client_id or self.client_id)]

    def trust_issuer(self, issuer: OIDCIssuer | str, discovery_url: str | None = None) -> None:
        """Fetch keys for tokens from ``issuer`` at ``discovery_url`` (the loopback stand-in for
        ``<issuer>/.well-known/openid-configuration``)."""
        if isinstance(issuer, OIDCIssuer):
            self._trusted[issuer.issuer] = discovery_url or issuer.discovery_url
        else:
            self._trusted[issuer] = discovery_url or issuer.rstrip("/") + "/.well-known/openid-configuration"

    def add_federated_credential(
        self,
        issuer: OIDCIssuer | str,
        subject: str | None = None,
        *,
        audiences: Iterable[str] | None = None,
        name: str | None = None,
        claims_matching_expression: str | None = None,
        description: str = "",
        client_id: str | None = None,
        tenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Add a federated identity credential (Graph shape) to an app; returns the record.

        ``issuer`` may be an :class:`OIDCIssuer` (its ``issuer`` string is recorded and its
        loopback discovery URL trusted).  ``audiences`` defaults to the cloud's
        ``api://AzureADTokenExchange[USGov|China]``.  Give ``subject`` or
        ``claims_matching_expression`` (``"claims['sub'] matches 'repo:o/r:*'"``).
        """
        if (subject is None) == (claims_matching_expression is None):
            raise ValueError("give exactly one of subject and claims_matching_expression")
        if isinstance(issuer, OIDCIssuer):
            self.trust_issuer(issuer)
            issuer_text = issuer.issuer
        else:
            issuer_text = issuer
        app = self.app(client_id, tenant_id=tenant_id)
        record: dict[str, Any] = {
            "name": name or f"fic-{len(app.federated_credentials) + 1}",
            "issuer": issuer_text,
            "audiences": list(audiences) if audiences is not None else [self.cloud.exchange_audience],
            "description": description,
        }
        if subject is not None:
            record["subject"] = subject
        else:
            record["claimsMatchingExpression"] = {"value": claims_matching_expression, "languageVersion": 1}
        with self._lock:
            app.federated_credentials.append(record)
        return record

    def inject_error(
        self,
        code: int | str,
        *,
        times: int = 1,
        status: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` token requests with an Entra error.

        ``code`` is an AADSTS number (``70021``, ``"AADSTS700024"``) or
        ``"temporarily_unavailable"``; ``message`` replaces the standard text.
        """
        if isinstance(code, str):
            number = _NAMED_CODES.get(code)
            if number is None:
                number = int(code.upper().removeprefix("AADSTS"))
        else:
            number = code
        with self._lock:
            self._injected.append((number, status, message, [times]))

    def env(self, *, client_id: str | None = None, tenant_id: str | None = None) -> dict[str, str]:
        """``AZURE_AUTHORITY_HOST``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` of the default or given app."""
        return {
            "AZURE_AUTHORITY_HOST": self.authority,
            "AZURE_TENANT_ID": tenant_id or self.tenant_id,
            "AZURE_CLIENT_ID": client_id or self.client_id,
        }

    # addresses -------------------------------------------------------------------------
    def token_url(self, tenant_id: str | None = None) -> str:
        return f"{self.url}/{tenant_id or self.tenant_id}/oauth2/v2.0/token"

    def token_issuer(self, tenant_id: str | None = None) -> str:
        """The ``iss`` of access tokens issued for ``tenant_id`` (v1: ``https://sts.windows.net/<tid>/``)."""
        tenant = tenant_id or self.tenant_id
        if self.token_version == 2:
            return f"https://{self.cloud.authority_host}/{tenant}/v2.0"
        return f"https://{self.cloud.v1_issuer_host}/{tenant}/"

    def discovery_url(self, tenant_id: str | None = None) -> str:
        """Where the discovery document for :meth:`token_issuer` is served on loopback."""
        tenant = tenant_id or self.tenant_id
        if self.token_version == 2:
            return f"{self.url}/{tenant}/v2.0/.well-known/openid-configuration"
        return f"{self.url}/{tenant}/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/common/discovery/keys"

    # inspection ------------------------------------------------------------------------
    @property
    def token_requests(self) -> int:
        """How many token requests arrived (accepted or refused)."""
        return self.count("/oauth2/v2.0/token", method="POST")

    def verify_access_token(self, token: str, *, audience: str | None = None) -> dict[str, Any]:
        """Verify an access token this emulator issued (signature, ``iss``, ``exp`` by :attr:`clock`).

        Raises ``jwt.InvalidTokenError`` subclasses; returns the claims.
        """
        import jwt

        header = jwt.get_unverified_header(token)
        key = self._own_key(header.get("kid"))
        if key is None:
            raise jwt.InvalidSignatureError("the token was not signed by a key of this emulator")
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            options={
                "verify_aud": audience is not None,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or claims.get("iss") != self.token_issuer(tenant):
            raise jwt.InvalidIssuerError("the token's issuer is not this emulator's")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= self.clock():
            raise jwt.ExpiredSignatureError("the token has expired")
        return claims

    # serving ---------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path
        match = _TOKEN_PATH.match(path)
        if match:
            if request.method != "POST":
                return Response(405, {"error": "invalid_request"}, {"Allow": "POST"})
            return self._token(request, match.group("tenant"))
        if request.method != "GET":
            return Response(404, {"error": "not_found"})
        for pattern, version in ((_DISCOVERY_V2, 2), (_DISCOVERY_V1, 1)):
            match = pattern.match(path)
            if match:
                return self._discovery(match.group("tenant"), version)
        if _KEYS.match(path):
            return Response(200, self._signer.jwks())
        return Response(404, {"error": "not_found"})

    def _resolve_tenant(self, tenant: str) -> str | None:
        if tenant in self._tenants:
            return tenant
        for tenant_id, domains in self._tenants.items():
            if tenant.lower() in {d.lower() for d in domains}:
                return tenant_id
        return None

    def _discovery(self, tenant: str, version: int) -> Response:
        tenant_id = self._resolve_tenant(tenant)
        if tenant_id is None:
            return self._refuse(90002, tenant=tenant)
        if version == 2:
            issuer = f"https://{self.cloud.authority_host}/{tenant_id}/v2.0"
            keys = f"{self.url}/{tenant_id}/discovery/v2.0/keys"
        else:
            issuer = f"https://{self.cloud.v1_issuer_host}/{tenant_id}/"
            keys = f"{self.url}/common/discovery/keys"
        return Response(
            200,
            {
                "issuer": issuer,
                "jwks_uri": keys,
                "token_endpoint": self.token_url(tenant_id),
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "token id_token"],
                "subject_types_supported": ["pairwise"],
                "tenant_region_scope": "NA",
            },
        )

    def _take_injected(self) -> tuple[int, int | None, str | None] | None:
        with self._lock:
            for entry in self._injected:
                remaining = entry[3]
                remaining[0] -= 1
                if remaining[0] <= 0:
                    self._injected.remove(entry)
                return entry[0], entry[1], entry[2]
        return None

    def _refuse(
        self,
        code: int,
        *,
        status: int | None = None,
        message: str | None = None,
        assertion_claims: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Response:
        known = KNOWN_ERRORS.get(code)
        template = known.text if known else "The request was refused."
        text = message or template.format_map(_Fields(fields))
        response = entra_error(code, text, status=status)
        assert isinstance(response.body, Mapping)
        with self._lock:
            self.refusals.append(
                Refusal(
                    status=response.status,
                    error=str(response.body["error"]),
                    code=f"AADSTS{code}",
                    description=text,
                    assertion_claims=dict(assertion_claims) if assertion_claims is not None else None,
                )
            )
        return response

    def _token(self, request: Request, tenant: str) -> Response:
        injected = self._take_injected()
        if injected is not None:
            code, status, message = injected
            fields = {"tenant": tenant, "iss": "", "sub": "", "aud": "", "client_id": "", "grant": ""}
            try:
                presented = self._unverified(request.form().get("client_assertion", ""))
                fields.update({k: presented.get(k, "") for k in ("iss", "sub", "aud")})
            except _Refused:
                presented = {}
            return self._refuse(code, status=status, message=message, assertion_claims=presented, **fields)
        tenant_id = self._resolve_tenant(tenant)
        if tenant_id is None:
            return self._refuse(90002, tenant=tenant)
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return self._refuse(900144, parameter="grant_type")
        form = request.form()
        claims: dict[str, Any] | None = None
        try:
            grant = form.get("grant_type")
            if not grant:
                raise _Refused(900144, parameter="grant_type")
            if grant != "client_credentials":
                raise _Refused(70003, grant=grant)
            client_id = form.get("client_id")
            if not client_id:
                raise _Refused(900144, parameter="client_id")
            app = self._apps.get((tenant_id, client_id))
            if app is None:
                raise _Refused(700016, client_id=client_id, tenant=tenant)
            resource = self._resource(form.get("scope"))
            if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
                raise _Refused(7000218)
            assertion = form["client_assertion"]
            claims = self._unverified(assertion)
            self._require_matching_credential(app, claims)
            self._verify_signature(assertion, claims)
            self._check_time(claims)
        except _Refused as refused:
            return self._refuse(
                refused.code, status=refused.status, assertion_claims=claims, **refused.fields
            )
        assert claims is not None
        return self._issue(app, resource, form["scope"], claims)

    @staticmethod
    def _resource(scope: str | None) -> str:
        if not scope:
            raise _Refused(900144, parameter="scope")
        scopes = scope.split()
        if len(scopes) != 1:
            raise _Refused(70011)
        if not scopes[0].endswith("/.default"):
            raise _Refused(1002012, scope=scopes[0])
        return scopes[0][: -len("/.default")]

    @staticmethod
    def _unverified(assertion: str) -> dict[str, Any]:
        import jwt

        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise _Refused(50027) from None
        if not isinstance(claims, dict):
            raise _Refused(50027)
        return claims

    def _require_matching_credential(self, app: EntraApp, claims: Mapping[str, Any]) -> None:
        from ..trust.azure_fic import match_federated_credentials

        with self._lock:
            records = list(app.federated_credentials)
        verdict = match_federated_credentials(records, claims)
        if verdict.matched is not None:
            return
        code = int((verdict.code or "AADSTS70021").removeprefix("AADSTS"))
        aud = claims.get("aud")
        raise _Refused(
            code,
            iss=claims.get("iss", ""),
            sub=claims.get("sub", ""),
            aud=aud if isinstance(aud, str) else ",".join(str(a) for a in aud or []),
        )

    def _verify_signature(self, assertion: str, claims: Mapping[str, Any]) -> None:
        import jwt

        issuer = str(claims.get("iss", ""))
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            raise _Refused(50027) from None
        if header.get("alg") != "RS256":
            raise _Refused(700027)
        key = self._issuer_key(issuer, header.get("kid"))
        try:
            jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            raise _Refused(700027) from None

    def _issuer_key(self, issuer: str, kid: object) -> Any:
        import jwt

        own_tenant = self._own_issuer_tenant(issuer)
        if own_tenant is not None:
            key = self._own_key(kid)
            if key is None:
                raise _Refused(700027)
            return key
        keys = self._jwks_cache.get(issuer)
        if keys is None or kid not in keys:
            keys = self._fetch_jwks(issuer)
            self._jwks_cache[issuer] = keys
        jwk = keys.get(kid) if isinstance(kid, str) else None
        if jwk is None:
            raise _Refused(700027)
        return jwt.PyJWK(jwk, algorithm="RS256").key

    def _own_key(self, kid: object) -> Any:
        """The public key of this emulator's signing key ``kid``, or None."""
        import jwt

        if not isinstance(kid, str):
            return None
        key = self._own_keys.get(kid)
        if key is None:
            for jwk in self._signer.jwks()["keys"]:
                if jwk.get("kid") == kid:
                    key = self._own_keys[kid] = jwt.PyJWK(jwk, algorithm="RS256").key
        return key

    def _own_issuer_tenant(self, issuer: str) -> str | None:
        for tenant in self._tenants:
            v1 = f"https://{self.cloud.v1_issuer_host}/{tenant}/"
            v2 = f"https://{self.cloud.authority_host}/{tenant}/v2.0"
            if issuer in (v1, v2):
                return tenant
        return None

    def _fetch_jwks(self, issuer: str) -> dict[str, dict[str, Any]]:
        import requests

        discovery_url = self._trusted.get(issuer)
        if discovery_url is None:
            host = urlsplit(issuer).hostname or ""
            if host not in ("127.0.0.1", "localhost", "::1"):
                raise _Refused(50166, iss=issuer, detail="the issuer is not reachable from this emulator")
            discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            discovery = requests.get(discovery_url, timeout=5, verify=self.ca_path).json()
            if discovery.get("issuer") != issuer:
                raise _Refused(50166, iss=issuer, detail="the discovery document names another issuer")
            jwks = requests.get(discovery["jwks_uri"], timeout=5, verify=self.ca_path).json()
        except (requests.RequestException, ValueError, KeyError, AttributeError) as err:
            raise _Refused(50166, iss=issuer, detail=type(err).__name__) from None
        return {k["kid"]: k for k in jwks.get("keys", []) if isinstance(k, dict) and "kid" in k}

    def _check_time(self, claims: Mapping[str, Any]) -> None:
        now = self.clock()
        exp = claims.get("exp")
        nbf = claims.get("nbf", claims.get("iat"))
        exp_value = float(exp) if isinstance(exp, (int, float)) else None
        nbf_value = float(nbf) if isinstance(nbf, (int, float)) else None
        if (
            exp_value is None
            or now > exp_value + self.leeway
            or (nbf_value is not None and nbf_value > now + self.leeway)
        ):
            raise _Refused(700024, now=_iso(now), nbf=_iso(nbf_value), exp=_iso(exp_value))

    def _issue(self, app: EntraApp, resource: str, scope: str, assertion: Mapping[str, Any]) -> Response:
        now = int(self.clock())
        expires_in = int(self.expires_in)
        issuer = self.token_issuer(app.tenant_id)
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "oid": app.object_id,
            "sub": app.object_id,
            "tid": app.tenant_id,
            "idtyp": "app",
            "uti": uuid.uuid4().hex[:22],
            "rh": "0.emulated.",
        }
        if self.token_version == 2:
            claims.update({"azp": app.client_id, "azpacr": "2", "ver": "2.0"})
        else:
            claims.update({"appid": app.client_id, "appidacr": "2", "idp": issuer, "ver": "1.0"})
        token = self._signer.mint(claims)
        with self._lock:
            self.issued.append(
                IssuedToken(
                    tenant_id=app.tenant_id,
                    client_id=app.client_id,
                    scope=scope,
                    audience=resource,
                    expires_on=now + expires_in,
                    assertion_claims=dict(assertion),
                    access_token=token,
                )
            )
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": expires_in,
                "ext_expires_in": expires_in,
                "access_token": token,
            },
            {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache"},
        )


_signer: OIDCIssuer | None = None
_signer_lock = threading.Lock()


def _shared_signer() -> OIDCIssuer:
    """One signing key for every Entra emulator in the process (as Entra's keys are long-lived);
    generating an RSA key per emulator would dominate test start-up."""
    global _signer
    with _signer_lock:
        if _signer is None:
            _signer = OIDCIssuer(issuer="entra-emulator")
        return _signer


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


__all__ = [
    "CLOUDS",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_TENANT_ID",
    "KNOWN_ERRORS",
    "Cloud",
    "EntraApp",
    "EntraEmulator",
    "IssuedToken",
    "Refusal",
    "entra_error",
]
