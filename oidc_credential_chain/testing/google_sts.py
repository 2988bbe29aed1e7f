"""Google STS ``/v1/token`` (RFC 8693 token exchange) with workload identity pool providers.

The emulator checks a subject token the way a workload identity pool provider does: the
issuer must be the provider's, the signature must verify against the keys published at
the issuer's discovery document and JWKS (fetched over HTTP for every exchange), ``iat``
and ``exp`` must be sane, ``aud`` must be one of the allowed audiences (by default the
provider's own name, with ``//`` or ``https://``), the attribute mapping must yield a
``google.subject`` and the attribute condition (CEL) must hold.  Accepted exchanges return
an opaque federated access token that :mod:`.iam_credentials` and :mod:`.vertex` accept.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from ._cel import CelError, condition_holds, evaluate
from ._server import EmulatorServer, Request, Response
from .issuer import OIDCIssuer

TOKEN_PATH = "/v1/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TOKEN_TYPES = ("urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token")
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
#: A subject token may not claim a longer life than this (``exp - iat``).
MAX_SUBJECT_LIFETIME = 48 * 3600
#: How far in the future ``iat`` may be before the token is refused.
CLOCK_SKEW = 60


@dataclasses.dataclass
class WorkloadIdentityPoolProvider:
    """One OIDC provider in a workload identity pool, as configured in Google Cloud."""

    project_number: str
    pool_id: str
    provider_id: str
    issuer_uri: str
    #: Where the emulator fetches the issuer's discovery document (loopback for test issuers).
    discovery_url: str
    allowed_audiences: tuple[str, ...] = ()
    attribute_mapping: dict[str, str] = dataclasses.field(
        default_factory=lambda: {"google.subject": "assertion.sub"}
    )
    attribute_condition: str | None = None
    disabled: bool = False

    @property
    def pool_name(self) -> str:
        return f"projects/{self.project_number}/locations/global/workloadIdentityPools/{self.pool_id}"

    @property
    def name(self) -> str:
        return f"{self.pool_name}/providers/{self.provider_id}"

    @property
    def audience(self) -> str:
        """The STS ``audience`` (and ``gcp.credentials(audience=...)``): ``//iam.googleapis.com/...``."""
        return f"//iam.googleapis.com/{self.name}"

    def accepted_audiences(self) -> tuple[str, ...]:
        if self.allowed_audiences:
            return self.allowed_audiences
        return (self.audience, f"https://iam.googleapis.com/{self.name}")

    def principal(self, subject: str) -> str:
        """The IAM member for one identity: ``principal://.../subject/<google.subject>``."""
        return f"principal://iam.googleapis.com/{self.pool_name}/subject/{subject}"

    def principal_set(self, attribute: str, value: str) -> str:
        """The IAM member for every identity whose ``attribute.<name>`` has a value."""
        return f"principalSet://iam.googleapis.com/{self.pool_name}/attribute.{attribute}/{value}"

    @property
    def all_identities(self) -> str:
        return f"principalSet://iam.googleapis.com/{self.pool_name}/*"


@dataclasses.dataclass(frozen=True)
class AccessTokenRecord:
    """What an emulator knows about an access token it issued."""

    token: str = dataclasses.field(repr=False)
    principal: str
    scopes: tuple[str, ...]
    expires_at: float
    issued_by: str
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    pool_name: str | None = None

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or CLOUD_PLATFORM in self.scopes


def member_matches(record: AccessTokenRecord, member: str) -> bool:
    """Whether an IAM member (``principal://``, ``principalSet://``, ``serviceAccount:``) covers the token."""
    if member in ("allUsers", "allAuthenticatedUsers"):
        return True
    if member.startswith("serviceAccount:"):
        return record.principal == member
    if member == record.principal:
        return True
    prefix = f"principalSet://iam.googleapis.com/{record.pool_name}/"
    if record.pool_name is None or not member.startswith(prefix):
        return False
    rest = member[len(prefix) :]
    if rest == "*":
        return True
    if rest.startswith("attribute."):
        name, _, value = rest[len("attribute.") :].partition("/")
        actual = record.attributes.get(f"attribute.{name}")
        return actual == value or (isinstance(actual, list) and value in actual)
    if rest.startswith("group/"):
        groups = record.attributes.get("google.groups")
        return isinstance(groups, list) and rest[len("group/") :] in groups
    return False


def google_error(status: int, code: str, message: str) -> Response:
    """Google's API error envelope."""
    return Response(status, {"error": {"code": status, "message": message, "status": code}})


def bearer(request: Request) -> str | None:
    scheme, _, value = (request.header("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class GoogleSTSEmulator(EmulatorServer):
    """Google STS on loopback.

    Example::

        with OIDCIssuer("https://token.actions.githubusercontent.com") as gh, GoogleSTSEmulator() as sts:
            provider = sts.add_provider(gh, attribute_condition="assertion.repository_owner == 'octo-org'")
            creds = gcp.credentials(token="oidc/github", audience=provider.audience, token_url=sts.token_url)
    """

    name = "google-sts"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.providers: dict[str, WorkloadIdentityPoolProvider] = {}
        #: Lifetime of issued federated tokens (``expires_in``).
        self.token_lifetime: int = 3600
        #: The last rejection's ``error_description``, for assertions.
        self.last_error: str | None = None
        self._tokens: dict[str, AccessTokenRecord] = {}
        self._lock = threading.Lock()
        self.exchanges = 0
        #: ``iss``/``sub``/``aud``/``jti``/``exp`` of every subject token accepted, in order.
        self.accepted: list[dict[str, Any]] = []

    @property
    def token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    def add_provider(
        self,
        issuer: OIDCIssuer | str,
        *,
        project_number: str = "123456789012",
        pool_id: str = "ci-pool",
        provider_id: str = "ci-provider",
        discovery_url: str | None = None,
        allowed_audiences: Iterable[str] = (),
        attribute_mapping: Mapping[str, str] | None = None,
        attribute_condition: str | None = None,
    ) -> WorkloadIdentityPoolProvider:
        """Configure a pool provider trusting ``issuer``; returns it (``.audience`` is what clients send)."""
        if isinstance(issuer, OIDCIssuer):
            issuer_uri, discovery = issuer.issuer, discovery_url or issuer.discovery_url
        else:
            issuer_uri = issuer
            discovery = discovery_url or issuer.rstrip("/") + "/.well-known/openid-configuration"
        provider = WorkloadIdentityPoolProvider(
            project_number=project_number,
            pool_id=pool_id,
            provider_id=provider_id,
            issuer_uri=issuer_uri,
            discovery_url=discovery,
            allowed_audiences=tuple(allowed_audiences),
            attribute_mapping=dict(attribute_mapping or {"google.subject": "assertion.sub"}),
            attribute_condition=attribute_condition,
        )
        self.providers[provider.audience] = provider
        return provider

    def lookup_token(self, token: str) -> AccessTokenRecord | None:
        with self._lock:
            return self._tokens.get(token)

    # protocol ----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path != TOKEN_PATH:
            return google_error(404, "NOT_FOUND", f"no such method {request.path}")
        if request.method != "POST":
            return google_error(405, "METHOD_NOT_ALLOWED", "use POST")
        if request.header("authorization"):
            return self._oauth_error(
                "invalid_request", "Token exchange requests must not carry an Authorization header."
            )
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return self._oauth_error(
                "invalid_request", "Content-Type must be application/x-www-form-urlencoded."
            )
        form = request.form()
        if form.get("grant_type") != GRANT_TYPE:
            return self._oauth_error(
                "unsupported_grant_type", f'Invalid value for "grant_type": {form.get("grant_type")!r}.'
            )
        if form.get("requested_token_type") != ACCESS_TOKEN_TYPE:
            return self._oauth_error("invalid_request", 'Invalid value for "requested_token_type".')
        if form.get("subject_token_type") not in SUBJECT_TOKEN_TYPES:
            return self._oauth_error(
                "invalid_request",
                f'Invalid value for "subject_token_type": {form.get("subject_token_type")!r}; this '
                "emulator's providers are OIDC providers.",
            )
        audience = form.get("audience", "")
        provider = self.providers.get(audience)
        if provider is None:
            return self._oauth_error(
                "invalid_request",
                'Invalid value for "audience". This value should be the full resource name of the '
                "Identity Provider. See "
                "https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token "
                "for the list of possible formats.",
            )
        if provider.disabled:
            return self._oauth_error(
                "invalid_grant", f"The identity pool provider {provider.name} is disabled."
            )
        scopes = tuple(form.get("scope", "").split())
        if not scopes:
            return self._oauth_error("invalid_scope", "Scope(s) must be provided.")
        options = form.get("options")
        if options:
            try:
                json.loads(options)
            except ValueError:
                return self._oauth_error("invalid_request", 'Invalid value for "options": not JSON.')
        subject_token = form.get("subject_token", "")
        if not subject_token:
            return self._oauth_error("invalid_request", 'Missing required parameter "subject_token".')
        outcome = self._verify(provider, subject_token)
        if isinstance(outcome, Response):
            return outcome
        attributes, claims = outcome
        access_token = "ya29.d." + secrets.token_urlsafe(48)
        record = AccessTokenRecord(
            token=access_token,
            principal=provider.principal(str(attributes["google.subject"])),
            scopes=scopes,
            expires_at=time.time() + self.token_lifetime,
            issued_by="sts",
            attributes=attributes,
            pool_name=provider.pool_name,
        )
        with self._lock:
            self._tokens[access_token] = record
            self.exchanges += 1
            self.accepted.append({k: claims.get(k) for k in ("iss", "sub", "aud", "jti", "exp")})
        return Response(
            200,
            {
                "access_token": access_token,
                "issued_token_type": ACCESS_TOKEN_TYPE,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
            },
        )

    def _oauth_error(self, code: str, description: str, status: int = 400) -> Response:
        self.last_error = description
        return Response(status, {"error": code, "error_description": description})

    def _verify(
        self, provider: WorkloadIdentityPoolProvider, token: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | Response:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return self._oauth_error("invalid_grant", "Unable to parse the ID Token.")
        algorithm = header.get("alg")
        if algorithm not in ("RS256", "ES256"):
            return self._oauth_error(
                "invalid_grant", f"The ID Token is signed with {algorithm!r}; RS256 or ES256 required."
            )
        if not header.get("kid"):
            return self._oauth_error("invalid_grant", "The ID Token header has no kid.")
        if unverified.get("iss") != provider.issuer_uri:
            return self._oauth_error(
                "invalid_grant",
                f"The issuer in ID Token {unverified.get('iss')} does not match the expected ones: "
                f"{provider.issuer_uri}.",
            )
        key = self._signing_key(provider, str(header["kid"]), str(algorithm))
        if isinstance(key, Response):
            return key
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                # iat/nbf are checked below, with an allowance for clock skew.
                options={
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "iat", "exp"],
                },
            )
        except jwt.ExpiredSignatureError:
            return self._oauth_error("invalid_grant", "ID Token has expired.")
        except jwt.InvalidSignatureError:
            return self._oauth_error("invalid_grant", "Invalid ID Token signature.")
        except jwt.PyJWTError as err:
            return self._oauth_error("invalid_grant", f"Invalid ID Token: {err}.")
        now = time.time()
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, (int, float)) or iat > now + CLOCK_SKEW:
            return self._oauth_error("invalid_grant", "The ID Token was issued in the future (iat).")
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > now + CLOCK_SKEW:
            return self._oauth_error("invalid_grant", "The ID Token is not valid yet (nbf).")
        if not isinstance(exp, (int, float)) or exp - iat > MAX_SUBJECT_LIFETIME:
            return self._oauth_error("invalid_grant", "The ID Token lifetime (exp - iat) exceeds 48 hours.")
        audiences = claims.get("aud")
        presented = audiences if isinstance(audiences, list) else [audiences]
        accepted = provider.accepted_audiences()
        if not any(aud in accepted for aud in presented):
            return self._oauth_error(
                "invalid_grant",
                f"The audience in ID Token {presented} does not match the expected audience "
                f"{' or '.join(accepted)}.",
            )
        attributes: dict[str, Any] = {}
        for target, expression in provider.attribute_mapping.items():
            try:
                attributes[target] = evaluate(expression, {"assertion": claims})
            except CelError as err:
                return self._oauth_error(
                    "invalid_grant", f"The attribute mapping for {target} ({expression}) failed: {err}."
                )
        subject = attributes.get("google.subject")
        if not isinstance(subject, str) or not subject:
            return self._oauth_error("invalid_grant", "The mapped google.subject is missing or not a string.")
        if len(subject.encode("utf-8")) > 127:
            return self._oauth_error("invalid_grant", "The mapped google.subject is longer than 127 bytes.")
        if provider.attribute_condition:
            env = {
                "assertion": claims,
                "attribute": _attribute_view(attributes),
                "google": _google_view(attributes),
            }
            try:
                holds = condition_holds(provider.attribute_condition, env)
            except CelError:
                holds = False
            if not holds:
                return self._oauth_error(
                    "invalid_grant", "The given credential is rejected by the attribute condition."
                )
        return attributes, claims

    def _signing_key(self, provider: WorkloadIdentityPoolProvider, kid: str, algorithm: str) -> Any:
        from jwt import PyJWK, PyJWKError

        try:
            discovery = _get_json(provider.discovery_url)
            if discovery.get("issuer") != provider.issuer_uri:
                return self._oauth_error(
                    "invalid_grant",
                    f"The discovery document's issuer {discovery.get('issuer')!r} does not match "
                    f"{provider.issuer_uri}.",
                )
            jwks = _get_json(str(discovery["jwks_uri"]))
        except (OSError, ValueError, KeyError) as err:
            return self._oauth_error(
                "invalid_grant", f"Unable to fetch the JWKS of {provider.issuer_uri}: {type(err).__name__}."
            )
        for entry in jwks.get("keys", []):
            if isinstance(entry, dict) and entry.get("kid") == kid:
                try:
                    return PyJWK(entry, algorithm).key
                except PyJWKError:
                    break
        return self._oauth_error("invalid_grant", f"The kid {kid!r} is not in the issuer's JWKS.")


def _attribute_view(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k[len("attribute.") :]: v for k, v in attributes.items() if k.startswith("attribute.")}


def _google_view(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k[len("google.") :]: v for k, v in attributes.items() if k.startswith("google.")}


def _get_json(url: str) -> dict[str, Any]:
    # Direct, never through a proxy: the issuers are on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as answer:
        data = json.loads(answer.read(1024 * 1024))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


__all__ = [
    "AccessTokenRecord",
    "GoogleSTSEmulator",
    "WorkloadIdentityPoolProvider",
    "bearer",
    "google_error",
    "member_matches",
]
