"""AWS STS on loopback: ``AssumeRoleWithWebIdentity``, ``AssumeRole``, ``GetWebIdentityToken``,
``GetCallerIdentity``.

It speaks the query protocol (form-encoded ``POST /``, XML answers and ``ErrorResponse``
bodies with STS's codes and statuses) and checks a web identity token as STS does: the
issuer must be a registered OIDC provider, the audience one of its client IDs, the
signature must verify against the keys the issuer publishes (discovery document and JWKS
fetched over HTTP on every exchange, so an issuer that is down gives
``IDPCommunicationError``), ``exp`` must be in the future, and the role's trust policy
must allow the token (evaluated by :func:`oidc_credential_chain.trust.evaluate_trust_policy`).
Issued credentials are remembered so :class:`~.bedrock.BedrockRuntimeEmulator` and the
signed STS actions can verify SigV4 with their secrets.  ``AssumeRole`` (role chaining) is
signed: the caller's credentials must verify, and the role must trust the caller's role or
user ARN (:meth:`STSEmulator.allow_chain`).

Example::

    with OIDCIssuer("https://token.actions.githubusercontent.com") as issuer, STSEmulator() as sts:
        sts.register_provider(issuer)
        role = sts.allow("bedrock", issuer, sub="repo:octo-org/octo-repo:*")
        os.environ.update(sts.env())
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ._server import EmulatorServer, Fault, Request, Response
from .issuer import OIDCIssuer
from .sigv4 import SigV4Error, verify

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
VERSION = "2011-06-15"
DEFAULT_ACCOUNT = "123456789012"
ASSUME_ROLE_WITH_WEB_IDENTITY = "AssumeRoleWithWebIdentity"
ASSUME_ROLE = "AssumeRole"
GET_WEB_IDENTITY_TOKEN = "GetWebIdentityToken"
GET_CALLER_IDENTITY = "GetCallerIdentity"

VERIFICATION_KEY_MESSAGE = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
IDP_UNREACHABLE_MESSAGE = (
    "The identity provider could not be reached to verify the web identity token. "
    "This is often transient; retry a limited number of times with backoff."
)
ACCESS_DENIED_MESSAGE = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
CHAIN_DENIED_MESSAGE = "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}"
#: The JOSE algorithms IAM OIDC providers verify; anything else (``none``, ``HS256``) is refused
#: before a key is looked up, so a header cannot choose how the token is checked.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")

#: Status and default message of the error codes :meth:`STSEmulator.fail_with` knows.
ERRORS: dict[str, tuple[int, str]] = {
    "IDPCommunicationError": (400, IDP_UNREACHABLE_MESSAGE),
    "InvalidIdentityToken": (400, VERIFICATION_KEY_MESSAGE),
    "ExpiredTokenException": (400, "Token expired: the web identity token has expired"),
    "IDPRejectedClaim": (403, "The identity provider rejected the claim: it expired or was revoked"),
    "AccessDenied": (403, ACCESS_DENIED_MESSAGE),
    "Throttling": (400, "Rate exceeded"),
    "InternalFailure": (500, "An internal error occurred. Try again."),
    "ServiceUnavailable": (503, "Service Unavailable"),
    "RegionDisabledException": (403, "STS is not activated in this region for this account."),
    "ValidationError": (400, "1 validation error detected"),
    "MalformedPolicyDocument": (400, "The policy is not in the valid JSON format."),
    "PackedPolicyTooLarge": (400, "The session policy and tags exceed the allowed size."),
    "OutboundWebIdentityFederationDisabledException": (
        403,
        "Outbound web identity federation is not enabled for this account.",
    ),
}

_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<path>.+)$")
_KEY_ALPHABET = string.ascii_uppercase + "234567"


@dataclasses.dataclass(frozen=True)
class IssuedCredentials:
    """Credentials this emulator issued (or was given): what SigV4 verification needs, and who they are."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: float | None  # epoch seconds; None for long-term keys
    arn: str  # the caller: assumed-role ARN, or the user ARN of long-term keys
    account: str
    role_arn: str | None = None
    session_name: str | None = None
    claims: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def expired(self, now: float | None = None) -> bool:
        return self.expiration is not None and (time.time() if now is None else now) >= self.expiration

    def __repr__(self) -> str:
        return f"IssuedCredentials(access_key_id={self.access_key_id!r}, arn={self.arn!r})"


@dataclasses.dataclass
class OIDCProviderRecord:
    """An IAM OIDC identity provider: issuer, where its keys are, and its client IDs."""

    issuer: str
    discovery_url: str
    audiences: tuple[str, ...] | None  # None: any audience (the trust policy decides)
    arn: str


@dataclasses.dataclass
class RoleRecord:
    arn: str
    trust_policy: Mapping[str, Any] | str
    max_session_duration: int = 3600
    role_id: str = ""


@dataclasses.dataclass
class _ActionFault(Fault):
    """A fault that applies only to one STS action (every request goes to ``POST /``)."""

    action: str | None = None

    def applies_to(self, request: Request) -> bool:
        if not super().applies_to(request):
            return False
        return self.action is None or _action_of(request) == self.action


def _action_of(request: Request) -> str | None:
    if request.method == "POST":
        values = parse_qs(request.body.decode("utf-8", "replace")).get("Action")
        if values:
            return values[0]
    return request.arg("Action")


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def sts_error(code: str, message: str, status: int | None = None) -> Response:
    """An STS ``ErrorResponse`` (XML) with the code's usual status."""
    http_status = status if status is not None else ERRORS.get(code, (400, ""))[0]
    request_id = str(uuid.uuid4())
    kind = "Receiver" if http_status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(http_status, body, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id})


def _credentials_xml(credentials: IssuedCredentials) -> str:
    assert credentials.expiration is not None  # session credentials always expire
    return (
        "<Credentials>"
        f"<AccessKeyId>{credentials.access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(credentials.session_token or '')}</SessionToken>"
        f"<Expiration>{_iso(credentials.expiration)}</Expiration>"
        "</Credentials>"
    )


def _assumed_role_user_xml(credentials: IssuedCredentials, role: RoleRecord) -> str:
    return (
        "<AssumedRoleUser>"
        f"<Arn>{escape(credentials.arn)}</Arn>"
        f"<AssumedRoleId>{role.role_id}:{escape(credentials.session_name or '')}</AssumedRoleId>"
        "</AssumedRoleUser>"
    )


def _result(action: str, inner: str) -> Response:
    request_id = str(uuid.uuid4())
    body = (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{inner}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
    return Response(200, body, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id})


def _members(fields: Mapping[str, list[str]], prefix: str) -> list[str]:
    found: list[tuple[int, str]] = []
    pattern = re.compile(rf"^{re.escape(prefix)}\.member\.(\d+)$")
    for key, values in fields.items():
        match = pattern.match(key)
        if match and values:
            found.append((int(match.group(1)), values[0]))
    return [value for _, value in sorted(found)]


class STSEmulator(EmulatorServer):
    """AWS STS (query protocol) on loopback.  See the module docstring.

    ``credential_lifetime`` (seconds) overrides the lifetime of issued credentials (STS's
    minimum is 900 s; tests of refreshing want a few seconds).  ``outbound_issuer`` signs
    ``GetWebIdentityToken`` tokens; without one, one is created on first use and
    stopped with this server.
    """

    name = "aws-sts"

    def __init__(
        self,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        credential_lifetime: float | None = None,
        outbound_issuer: OIDCIssuer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.credential_lifetime = credential_lifetime
        self._own_outbound = outbound_issuer is None
        self._outbound_issuer = outbound_issuer
        #: ``GetWebIdentityToken`` answers OutboundWebIdentityFederationDisabledException when False.
        self.outbound_enabled = True
        #: Seconds added to this server's clock (token expiry, credential expiry, SigV4 skew).
        self.clock_offset = 0.0
        #: Trust-policy verdicts of refused exchanges, newest last (``.reason`` names the condition).
        self.denials: list[Any] = []
        self.providers: dict[str, OIDCProviderRecord] = {}
        self.roles: dict[str, RoleRecord] = {}
        self._issued: dict[str, IssuedCredentials] = {}
        self._lock = threading.Lock()

    # lifecycle -------------------------------------------------------------------------
    @property
    def outbound_issuer(self) -> OIDCIssuer:
        """Signs ``GetWebIdentityToken`` tokens; created (and started) on first use."""
        with self._lock:
            if self._outbound_issuer is None:
                self._outbound_issuer = OIDCIssuer(
                    f"https://{uuid.uuid4()}.tokens.sts.global.api.aws", lifetime=300
                )
                if self.running:
                    self._outbound_issuer.start()
            return self._outbound_issuer

    def start(self) -> STSEmulator:
        if self._own_outbound and self._outbound_issuer is not None:
            self._outbound_issuer.start()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        if self._own_outbound and self._outbound_issuer is not None:
            self._outbound_issuer.stop()

    def env(self) -> dict[str, str]:
        """``AWS_ENDPOINT_URL_STS``: point botocore's STS clients here."""
        return {"AWS_ENDPOINT_URL_STS": self.url}

    def now(self) -> float:
        return time.time() + self.clock_offset

    # configuration -------------------------------------------------------------------
    def register_provider(
        self,
        issuer: OIDCIssuer | str,
        audiences: Iterable[str] | None = ("sts.amazonaws.com",),
        *,
        discovery_url: str | None = None,
    ) -> str:
        """Create the IAM OIDC provider for ``issuer``; returns its ARN (or ``accounts.google.com``).

        ``audiences`` are its client IDs; None accepts any audience and leaves the check to
        the trust policy (as for Google's built-in provider).
        """
        from ..trust.aws_policy import provider_arn_for

        if isinstance(issuer, OIDCIssuer):
            iss, where = issuer.issuer, discovery_url or issuer.discovery_url
        else:
            iss = issuer
            where = discovery_url or f"{issuer.rstrip('/')}/.well-known/openid-configuration"
        arn = provider_arn_for(iss, self.account_id)
        self.providers[iss] = OIDCProviderRecord(iss, where, tuple(audiences) if audiences else None, arn)
        return arn

    def add_role(
        self,
        role: str,
        trust_policy: Mapping[str, Any] | str,
        *,
        max_session_duration: int = 3600,
    ) -> str:
        """Create a role (a name, or a full ARN in any partition); returns its ARN."""
        arn = role if role.startswith("arn:") else f"arn:aws:iam::{self.account_id}:role/{role}"
        if not _ROLE_ARN.match(arn):
            raise ValueError(f"not an IAM role ARN: {arn!r}")
        role_id = "AROA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
        self.roles[arn] = RoleRecord(arn, trust_policy, max_session_duration, role_id)
        return arn

    def trust_policy(
        self,
        issuer: OIDCIssuer | str,
        *,
        sub: str | Sequence[str] | None = None,
        aud: str | Sequence[str] | None = "sts.amazonaws.com",
        sub_operator: str = "StringLike",
        partition: str = "aws",
    ) -> dict[str, Any]:
        """A typical role trust policy for tokens from ``issuer``.

        Conditions: ``StringEquals`` on ``<issuer>:aud`` (for ``accounts.google.com`` that key
        is the token's ``azp``) and ``sub_operator`` on ``<issuer>:sub``; None leaves one out.
        """
        from ..trust.aws_policy import issuer_key_prefix, provider_arn_for

        iss = issuer.issuer if isinstance(issuer, OIDCIssuer) else issuer
        prefix = issuer_key_prefix(iss)
        condition: dict[str, dict[str, Any]] = {}
        if aud is not None:
            condition["StringEquals"] = {f"{prefix}:aud": aud if isinstance(aud, str) else list(aud)}
        if sub is not None:
            condition.setdefault(sub_operator, {})[f"{prefix}:sub"] = (
                sub if isinstance(sub, str) else list(sub)
            )
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn_for(iss, self.account_id, partition)},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
        if condition:
            statement["Condition"] = condition
        return {"Version": "2012-10-17", "Statement": [statement]}

    def allow(
        self,
        role: str,
        issuer: OIDCIssuer | str,
        *,
        sub: str | Sequence[str] | None = None,
        aud: str | Sequence[str] | None = "sts.amazonaws.com",
        sub_operator: str = "StringLike",
        max_session_duration: int = 3600,
    ) -> str:
        """``add_role(role, trust_policy(issuer, sub=..., aud=...))``; returns the role ARN."""
        partition = role.split(":")[1] if role.startswith("arn:") else "aws"
        policy = self.trust_policy(issuer, sub=sub, aud=aud, sub_operator=sub_operator, partition=partition)
        return self.add_role(role, policy, max_session_duration=max_session_duration)

    def allow_chain(self, role: str, *callers: str, max_session_duration: int = 3600) -> str:
        """A role that ``callers`` (role or user ARNs) may ``AssumeRole`` into; returns its ARN.

        Example: ``sts.allow_chain("deploy", sts.allow("ci", issuer))``.
        """
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": list(callers)}, "Action": "sts:AssumeRole"}
            ],
        }
        return self.add_role(role, policy, max_session_duration=max_session_duration)

    def add_access_key(
        self,
        access_key_id: str,
        secret_access_key: str,
        *,
        arn: str | None = None,
        session_token: str | None = None,
    ) -> IssuedCredentials:
        """Accept these (long-term, or given session) keys for signed requests."""
        record = IssuedCredentials(
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
            expiration=None,
            arn=arn or f"arn:aws:iam::{self.account_id}:user/static",
            account=self.account_id,
        )
        with self._lock:
            self._issued[access_key_id] = record
        return record

    def lookup(self, access_key_id: str) -> IssuedCredentials | None:
        """The credentials behind an access key ID (None if unknown)."""
        with self._lock:
            return self._issued.get(access_key_id)

    @property
    def issued(self) -> list[IssuedCredentials]:
        """Every credential set issued or added, oldest first."""
        with self._lock:
            return list(self._issued.values())

    # faults and counting -------------------------------------------------------------
    def fail_with(
        self,
        code: str,
        *,
        message: str | None = None,
        status: int | None = None,
        times: int = 1,
        action: str | None = ASSUME_ROLE_WITH_WEB_IDENTITY,
    ) -> Fault:
        """Answer the next ``times`` requests of ``action`` with STS error ``code``.

        Status and message default to STS's (:data:`ERRORS`); ``InvalidIdentityToken``
        defaults to the retryable "Couldn't retrieve verification key" message.
        """
        default_status, default_message = ERRORS.get(code, (400, code))
        response = sts_error(code, message or default_message, status or default_status)
        body, headers = response.encoded()
        fault = _ActionFault(status=response.status, body=body, headers=headers, times=times, action=action)
        self.faults.add(fault)
        return fault

    def calls(self, action: str | None = ASSUME_ROLE_WITH_WEB_IDENTITY) -> int:
        """Requests received for ``action`` (None: all requests)."""
        with self._requests_lock:
            received = list(self.requests)
        return sum(1 for r in received if action is None or _action_of(r) == action)

    @property
    def last_denial(self) -> Any:
        """The trust-policy verdict of the most recent refusal, or None."""
        return self.denials[-1] if self.denials else None

    # protocol ------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/":
            return sts_error("InvalidAction", f"{request.method} {request.path} is not an STS request")
        fields = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        form = {k: v[0] for k, v in fields.items()}
        if form.get("Version") != VERSION:
            return sts_error("InvalidParameterValue", f"Version must be {VERSION}")
        action = form.get("Action", "")
        if action == ASSUME_ROLE_WITH_WEB_IDENTITY:
            return self._assume_role_with_web_identity(request, form)
        if action in (GET_WEB_IDENTITY_TOKEN, GET_CALLER_IDENTITY, ASSUME_ROLE):
            caller = self._signed_caller(request)
            if isinstance(caller, Response):
                return caller
            if action == GET_CALLER_IDENTITY:
                return self._get_caller_identity(caller)
            if action == ASSUME_ROLE:
                return self._assume_role(caller, form)
            return self._get_web_identity_token(caller, form, fields)
        return sts_error("InvalidAction", f"Could not find operation {action} for version {VERSION}")

    def _assume_role_with_web_identity(self, request: Request, form: Mapping[str, str]) -> Response:
        for field in ("RoleArn", "RoleSessionName", "WebIdentityToken"):
            if not form.get(field):
                member = field[0].lower() + field[1:]
                return sts_error(
                    "ValidationError",
                    f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
                    "Member must not be null",
                )
        role_arn, session_name, token = form["RoleArn"], form["RoleSessionName"], form["WebIdentityToken"]
        if not _SESSION_NAME.match(session_name):
            return sts_error(
                "ValidationError",
                f"1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy "
                r"constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*",
            )
        duration_text = form.get("DurationSeconds") or "3600"
        if not duration_text.isdigit():
            return sts_error(
                "ValidationError", f"Value '{duration_text}' at 'durationSeconds' is not a number"
            )
        duration = int(duration_text)
        if duration < 900 or duration > 43200:
            bound = "greater than or equal to 900" if duration < 900 else "less than or equal to 43200"
            return sts_error(
                "ValidationError",
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy "
                f"constraint: Member must have value {bound}",
            )
        policy = form.get("Policy")
        if policy:
            try:
                json.loads(policy)
            except ValueError:
                return sts_error("MalformedPolicyDocument", ERRORS["MalformedPolicyDocument"][1])
        claims = self._verify_token(token)
        if isinstance(claims, Response):
            return claims
        provider = self.providers[claims["iss"]]
        role = self.roles.get(role_arn)
        if role is None:
            return sts_error("AccessDenied", ACCESS_DENIED_MESSAGE)
        from ..trust.aws_policy import evaluate_trust_policy

        verdict = evaluate_trust_policy(
            role.trust_policy, claims, context={"sts:RoleSessionName": session_name}
        )
        if not verdict.allowed:
            with self._lock:
                self.denials.append(verdict)
            return sts_error("AccessDenied", ACCESS_DENIED_MESSAGE)
        if duration > role.max_session_duration:
            return sts_error(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        credentials = self._issue(role_arn, session_name, duration, dict(claims))
        audience = claims.get("aud")
        audience_text = audience if isinstance(audience, str) else ",".join(map(str, audience or []))
        subject = escape(str(claims.get("sub", "")))
        inner = (
            _credentials_xml(credentials)
            + f"<SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>"
            + _assumed_role_user_xml(credentials, role)
            + f"<Audience>{escape(audience_text)}</Audience>"
            f"<Provider>{escape(provider.arn)}</Provider>"
        )
        if policy or form.get("PolicyArns.member.1.arn"):
            # Sent when session policies were passed: their packed size as a percentage of the limit.
            packed = min(100, max(1, len(policy or "") * 100 // 2048))
            inner += f"<PackedPolicySize>{packed}</PackedPolicySize>"
        return _result(ASSUME_ROLE_WITH_WEB_IDENTITY, inner)

    # role chaining ------------------------------------------------------------------------
    def _assume_role(self, caller: IssuedCredentials, form: Mapping[str, str]) -> Response:
        role_arn, session_name = form.get("RoleArn", ""), form.get("RoleSessionName", "")
        if not role_arn or not _SESSION_NAME.match(session_name):
            return sts_error("ValidationError", "1 validation error detected: RoleArn and RoleSessionName")
        duration_text = form.get("DurationSeconds") or "3600"
        duration = int(duration_text) if duration_text.isdigit() else -1
        if not 900 <= duration <= 43200:
            return sts_error(
                "ValidationError", f"Value '{duration_text}' at 'durationSeconds' is out of range"
            )
        role = self.roles.get(role_arn)
        if role is None or not _trusts(role.trust_policy, caller):
            return sts_error(
                "AccessDenied", CHAIN_DENIED_MESSAGE.format(caller=caller.arn, role=role_arn), 403
            )
        if duration > role.max_session_duration:
            return sts_error(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        credentials = self._issue(role_arn, session_name, duration, {"source": caller.arn})
        inner = _credentials_xml(credentials) + _assumed_role_user_xml(credentials, role)
        return _result(ASSUME_ROLE, inner)

    def _issue(
        self, role_arn: str, session_name: str, duration: int, claims: dict[str, Any]
    ) -> IssuedCredentials:
        """New session credentials for ``role_arn``, remembered so that SigV4 requests can be verified."""
        match = _ROLE_ARN.match(role_arn)
        assert match is not None
        partition, account = match.group("partition"), match.group("account")
        role_name = match.group("path").rsplit("/", 1)[-1]
        lifetime = self.credential_lifetime if self.credential_lifetime is not None else float(duration)
        credentials = IssuedCredentials(
            access_key_id=_random_key("ASIA"),
            secret_access_key=secrets.token_urlsafe(30)[:40],
            session_token="IQoJb3JpZ2luX2Vj" + secrets.token_urlsafe(180),
            expiration=float(math.ceil(self.now() + lifetime)),  # whole seconds, as STS sends
            arn=f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}",
            account=account,
            role_arn=role_arn,
            session_name=session_name,
            claims=claims,
        )
        with self._lock:
            self._issued[credentials.access_key_id] = credentials
        return credentials

    def _verify_token(self, token: str) -> dict[str, Any] | Response:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return sts_error("InvalidIdentityToken", "The web identity token is not a valid JWT.")
        algorithm = header.get("alg")
        if algorithm not in SIGNING_ALGORITHMS:
            return sts_error(
                "InvalidIdentityToken",
                "The web identity token is not signed with a supported algorithm "
                f"({', '.join(SIGNING_ALGORITHMS)}).",
            )
        issuer = unverified.get("iss")
        provider = self.providers.get(issuer) if isinstance(issuer, str) else None
        if provider is None:
            return sts_error(
                "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}"
            )
        audience = unverified.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if provider.audiences is not None and not set(audiences) & set(provider.audiences):
            return sts_error("InvalidIdentityToken", "Incorrect token audience")
        key = self._signing_key(provider, header)
        if isinstance(key, Response):
            return key
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError:
            return sts_error("InvalidIdentityToken", "The web identity token's signature is invalid.")
        except jwt.PyJWTError as err:
            return sts_error("InvalidIdentityToken", f"The web identity token is not valid: {err}")
        now = self.now()
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)):
            return sts_error("InvalidIdentityToken", "The web identity token has no exp claim.")
        if now >= exp:
            return sts_error(
                "ExpiredTokenException",
                f"Token expired: current date/time {int(now)} must be before the expiration "
                f"date/time{int(exp)}",
            )
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > now + 300:
            return sts_error("InvalidIdentityToken", "The web identity token is not yet valid (nbf).")
        return claims

    def _signing_key(self, provider: OIDCProviderRecord, header: Mapping[str, Any]) -> Any:
        from jwt import PyJWK, PyJWTError

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(provider.discovery_url, timeout=5) as answer:
                discovery = json.loads(answer.read(1024 * 1024))
            with opener.open(str(discovery["jwks_uri"]), timeout=5) as answer:
                jwks = json.loads(answer.read(1024 * 1024))
        except urllib.error.HTTPError:
            return sts_error("InvalidIdentityToken", VERIFICATION_KEY_MESSAGE)
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            return sts_error("IDPCommunicationError", IDP_UNREACHABLE_MESSAGE)
        except (OSError, ValueError, KeyError, TypeError):
            return sts_error("InvalidIdentityToken", VERIFICATION_KEY_MESSAGE)
        kid = header.get("kid")
        keys = jwks.get("keys", []) if isinstance(jwks, dict) else []
        for entry in keys:
            if isinstance(entry, dict) and (kid is None or entry.get("kid") == kid):
                try:
                    return PyJWK(entry, str(header["alg"])).key
                except PyJWTError:  # the key's type does not fit the header's algorithm (RS256 vs EC)
                    break
        return sts_error("InvalidIdentityToken", VERIFICATION_KEY_MESSAGE)

    # signed actions ----------------------------------------------------------------------
    def _signed_caller(self, request: Request) -> IssuedCredentials | Response:
        try:
            result = verify(request, self.lookup, service="sts", now=self.now())
        except SigV4Error as err:
            code = {
                "missing": "MissingAuthenticationToken",
                "unknown_key": "InvalidClientTokenId",
                "expired": "ExpiredToken",
            }.get(err.kind, "IncompleteSignature" if err.status == 400 else "SignatureDoesNotMatch")
            return sts_error(code, err.message, err.status)
        caller = self.lookup(result.access_key_id)
        assert caller is not None
        return caller

    def _get_caller_identity(self, caller: IssuedCredentials) -> Response:
        role = self.roles.get(caller.role_arn or "")
        user_id = f"{role.role_id}:{caller.session_name}" if role is not None else caller.access_key_id
        inner = (
            f"<UserId>{escape(user_id)}</UserId><Account>{caller.account}</Account>"
            f"<Arn>{escape(caller.arn)}</Arn>"
        )
        return _result(GET_CALLER_IDENTITY, inner)

    def _get_web_identity_token(
        self, caller: IssuedCredentials, form: Mapping[str, str], fields: Mapping[str, list[str]]
    ) -> Response:
        if not self.outbound_enabled:
            return sts_error(
                "OutboundWebIdentityFederationDisabledException",
                ERRORS["OutboundWebIdentityFederationDisabledException"][1],
            )
        audiences = _members(fields, "Audience")
        if not 1 <= len(audiences) <= 10 or any(not 1 <= len(a) <= 1000 for a in audiences):
            return sts_error(
                "ValidationError",
                "1 validation error detected: Value at 'audience' failed to satisfy constraint: Member must "
                "have length between 1 and 10, each 1 to 1000 characters",
            )
        algorithm = form.get("SigningAlgorithm")
        if algorithm not in ("RS256", "ES384"):
            return sts_error(
                "ValidationError",
                f"1 validation error detected: Value '{algorithm}' at 'signingAlgorithm' failed to satisfy "
                "constraint: Member must satisfy enum value set: [RS256, ES384]",
            )
        if algorithm != "RS256":
            return sts_error("ValidationError", "This emulator signs web identity tokens with RS256 only.")
        duration_text = form.get("DurationSeconds") or "300"
        duration = int(duration_text) if duration_text.isdigit() else -1
        if not 60 <= duration <= 3600:
            return sts_error(
                "ValidationError",
                f"1 validation error detected: Value '{duration_text}' at 'durationSeconds' failed to "
                "satisfy constraint: Member must have value between 60 and 3600",
            )
        tags: dict[str, str] = {}
        index = 1
        while f"Tags.member.{index}.Key" in fields:
            tags[fields[f"Tags.member.{index}.Key"][0]] = (fields.get(f"Tags.member.{index}.Value") or [""])[
                0
            ]
            index += 1
        namespace: dict[str, Any] = {"principal_id": caller.arn, "aws_account": caller.account}
        if tags:
            namespace["request_tags"] = tags
        claims: dict[str, Any] = {
            "sub": caller.arn,
            "aud": audiences[0] if len(audiences) == 1 else audiences,
            "https://sts.amazonaws.com/": namespace,
        }
        token = self.outbound_issuer.mint(claims, lifetime=duration)
        expiration = self.outbound_issuer.now() + duration
        inner = f"<WebIdentityToken>{token}</WebIdentityToken><Expiration>{_iso(expiration)}</Expiration>"
        return _result(GET_WEB_IDENTITY_TOKEN, inner)


def _trusts(policy: Mapping[str, Any] | str, caller: IssuedCredentials) -> bool:
    """Whether a role's trust policy lets ``caller`` (its role, or its user ARN) ``sts:AssumeRole``."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        principals = (statement.get("Principal") or {}).get("AWS", [])
        actions = [actions] if isinstance(actions, str) else actions
        principals = [principals] if isinstance(principals, str) else principals
        allowed = statement.get("Effect") == "Allow" and "sts:AssumeRole" in actions
        if allowed and (caller.arn in principals or caller.role_arn in principals):
            return True
    return False


__all__ = [
    "ACCESS_DENIED_MESSAGE",
    "CHAIN_DENIED_MESSAGE",
    "ERRORS",
    "IDP_UNREACHABLE_MESSAGE",
    "VERIFICATION_KEY_MESSAGE",
    "IssuedCredentials",
    "OIDCProviderRecord",
    "RoleRecord",
    "STSEmulator",
    "sts_error",
]
