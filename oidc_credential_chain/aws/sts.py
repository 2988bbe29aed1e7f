"""The ``AssumeRoleWithWebIdentity`` exchange, with this library's retry policy.

The STS client is botocore's own (so ``AWS_ENDPOINT_URL_STS``, ``AWS_CA_BUNDLE``, profile
``services`` sections and event hooks behave as users expect) with botocore's retries
turned off: the policy below is the only one.  It sends through the library's transport
(``_sts_transport``), which holds each exchange to its time budget and 1 MiB answers; the
endpoint must be https (plain http only on loopback).

- ``Throttling``, 5xx, transport failures: retried with backoff; the token is reused while
  it is valid (nothing was wrong with it).
- ``IDPCommunicationError`` and ``InvalidIdentityToken`` about fetching the verification
  key: retried with backoff, each time with a freshly fetched token (a new token may carry
  a key ID the issuer now publishes).
- ``ExpiredTokenException``: one retry with a fresh token.
- ``AccessDenied``, ``IDPRejectedClaim``, any other ``InvalidIdentityToken``, validation
  errors: no retry.  The :class:`ExchangeError` carries STS's code and message and the
  token's ``iss``, ``aud``, ``sub`` and ``exp`` (never the token).
"""

from __future__ import annotations

import datetime
import enum
import importlib
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .._api import fetch_id_token
from .._internal import clock
from .._internal.http import HttpConfig, describe_url, is_loopback_host
from .._internal.log import get_logger
from .._internal.record import Record
from ..errors import ConfigurationError, ExchangeError
from ..idtoken import IdToken
from ..jwt import format_claims, redact
from ._sts_transport import exchange_deadline, use_bounded_sender
from .config import WebIdentityConfig

_log = get_logger("aws")

SERVICE = "AWS STS"
OPERATION = "AssumeRoleWithWebIdentity"


class StsCredentials(Record):
    """Temporary credentials from STS.  The repr shows the key ID and expiry, never secrets."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime.datetime  # timezone-aware, UTC
    lifetime: float  # seconds they were valid for when received
    assumed_role_arn: str | None = None
    subject: str | None = None

    def seconds_left(self) -> float:
        return self.expiration.timestamp() - clock.now()

    @property
    def account_id(self) -> str | None:
        # arn:aws:sts::123456789012:assumed-role/role/session
        parts = (self.assumed_role_arn or "").split(":")
        return parts[4] if len(parts) > 5 and parts[4].isdigit() else None

    @property
    def expiration_text(self) -> str:
        """``YYYY-MM-DDTHH:MM:SSZ``."""
        return self.expiration.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def botocore_metadata(self) -> dict[str, Any]:
        """The dict botocore's ``RefreshableCredentials`` refreshes from."""
        metadata: dict[str, Any] = {
            "access_key": self.access_key_id,
            "secret_key": self.secret_access_key,
            "token": self.session_token,
            "expiry_time": self.expiration_text,
        }
        if self.account_id:
            metadata["account_id"] = self.account_id
        return metadata

    def process_output(self) -> dict[str, Any]:
        """The ``credential_process`` JSON document (``Version`` 1, with ``Expiration``)."""
        document: dict[str, Any] = {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration_text,
        }
        if self.account_id:
            document["AccountId"] = self.account_id
        return document

    def __repr__(self) -> str:
        return (
            f"StsCredentials(access_key_id={self.access_key_id!r}, role={self.assumed_role_arn!r}, "
            f"expiration={self.expiration_text!r})"
        )


class RetryDecision(enum.Enum):
    """What the exchange does after a failed attempt."""

    STOP = "stop"
    RETRY = "retry"  # same token, if still valid
    RETRY_FRESH = "retry-fresh"  # force a new token
    RETRY_FRESH_ONCE = "retry-fresh-once"


_THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown"}
)


def classify(code: str | None, message: str, status: int | None) -> RetryDecision:
    """What to do after STS answered ``code`` (None: no answer at all)."""
    if code is None:
        return RetryDecision.RETRY
    if code == "IDPCommunicationError":
        return RetryDecision.RETRY_FRESH
    if code == "InvalidIdentityToken":
        return RetryDecision.RETRY_FRESH if "verification key" in message.lower() else RetryDecision.STOP
    if code == "ExpiredTokenException":
        return RetryDecision.RETRY_FRESH_ONCE
    if code in _THROTTLING or status == 429:
        return RetryDecision.RETRY
    if status is not None and status >= 500:
        return RetryDecision.RETRY
    return RetryDecision.STOP


def botocore_package(session: Any) -> str:
    """The name botocore is imported under for this session (``botocore`` almost always)."""
    for cls in type(session).__mro__:
        module = cls.__module__
        if cls.__name__ == "Session" and module.endswith(".session") and "botocore" in module:
            return module.rsplit(".", 1)[0]
    return "botocore"


def create_sts_client(
    session: Any,
    region: str,
    *,
    endpoint_url: str | None = None,
    http_config: HttpConfig | None = None,
) -> Any:
    """An unsigned STS client from ``session`` with botocore's retries off."""
    package = botocore_package(session)
    config_module = importlib.import_module(f"{package}.config")
    unsigned = importlib.import_module(package).UNSIGNED
    http = http_config or HttpConfig.from_env()
    client_config = config_module.Config(
        signature_version=unsigned,
        retries={"total_max_attempts": 1},
        connect_timeout=http.connect_timeout,
        read_timeout=http.read_timeout,
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": client_config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    utils = importlib.import_module(f"{package}.utils")
    # create_nested_client keeps botocore plugins from recursing into credential lookups.
    create_nested = getattr(utils, "create_nested_client", None)
    if create_nested is not None:
        client = create_nested(session, "sts", **kwargs)
    else:
        client = session.create_client("sts", **kwargs)
    require_https_endpoint(client.meta.endpoint_url)
    use_bounded_sender(client, package, http, session.get_config_variable("ca_bundle"))
    return client


def require_https_endpoint(endpoint_url: str) -> None:
    """Refuse an STS endpoint the web identity token would reach in clear text.

    Example: ``require_https_endpoint("http://sts.example.com")`` raises ConfigurationError;
    ``https://`` anywhere and ``http://127.0.0.1:8080`` pass.
    """
    parts = urlsplit(endpoint_url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or "")):
        return
    raise ConfigurationError(
        f"refusing the STS endpoint {describe_url(endpoint_url)}: https is required (plain http only "
        "on loopback), or the web identity token would cross the network in clear text; fix "
        "AWS_ENDPOINT_URL_STS or the sts endpoint_url setting"
    )


def _names(err: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(err).__mro__}


def _is_transport_error(err: BaseException) -> bool:
    return bool(_names(err) & {"HTTPClientError", "ConnectionError", "ResponseParserError"})


def _where(client: Any) -> str:
    meta = getattr(client, "meta", None)
    region = getattr(meta, "region_name", None) or "?"
    endpoint = getattr(meta, "endpoint_url", None) or ""
    host = urlsplit(endpoint).netloc or endpoint
    return f"{region} ({host})" if host else region


def assume_role_with_web_identity(
    client: Any,
    config: WebIdentityConfig,
    *,
    http_config: HttpConfig | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> StsCredentials:
    """Exchange the spec's token at STS for the role's credentials, under the retry policy.

    Example::

        client = create_sts_client(botocore_session, "us-east-1")
        creds = assume_role_with_web_identity(client, config)
    """
    http = http_config or HttpConfig.from_env()
    deadline = clock.mono() + http.total_timeout
    scope = exchange_deadline.set(deadline)
    try:
        return _exchange(client, config, http, deadline, sleep)
    finally:
        exchange_deadline.reset(scope)


def _exchange(
    client: Any,
    config: WebIdentityConfig,
    http: HttpConfig,
    deadline: float,
    sleep: Callable[[float], None],
) -> StsCredentials:
    attempts = max(1, http.attempts)
    force_fresh = False
    fresh_once_used = False
    attempt = 0
    while True:
        attempt += 1
        token = fetch_id_token(config.spec, force_refresh=force_fresh)
        try:
            response = client.assume_role_with_web_identity(**_params(config, token))
        except Exception as err:
            code, message, status = _error_parts(err, token)
            if code is None and not _is_transport_error(err):
                if "ParamValidationError" in _names(err):
                    raise ConfigurationError(
                        f"the STS request for {config.describe()} is invalid: {_clean(str(err), token)}",
                        spec=config.spec.text,
                    ) from None
                raise
            decision = classify(code, message, status)
            if decision is RetryDecision.RETRY_FRESH_ONCE:
                decision = RetryDecision.STOP if fresh_once_used else RetryDecision.RETRY_FRESH
                fresh_once_used = True
                retry_allowed = decision is not RetryDecision.STOP
            else:
                retry_allowed = decision is not RetryDecision.STOP and attempt < attempts
            delay = 0.0 if code == "ExpiredTokenException" else http.backoff(attempt)
            if retry_allowed and clock.mono() + delay < deadline:
                _log.debug(
                    "STS %s for %s failed on attempt %d (%s); retrying in %.2f s%s",
                    OPERATION,
                    config.role_arn,
                    attempt,
                    code or message,
                    delay,
                    " with a fresh token" if decision is RetryDecision.RETRY_FRESH else "",
                )
                if delay:
                    sleep(delay)
                force_fresh = decision is RetryDecision.RETRY_FRESH
                continue
            raise _exchange_error(client, config, token, code, message, status, attempt, decision) from None
        credentials = _credentials_from(response, config)
        _log.info(
            "assumed %s at STS %s with %s (%s); credentials expire at %s (in %.0f s)",
            config.role_arn,
            _where(client),
            config.spec.text,
            token.describe(),
            credentials.expiration_text,
            credentials.seconds_left(),
        )
        return credentials


def _params(config: WebIdentityConfig, token: IdToken) -> dict[str, Any]:
    params: dict[str, Any] = {
        "RoleArn": config.role_arn,
        "RoleSessionName": config.session_name,
        "WebIdentityToken": token.value,
        "DurationSeconds": config.duration_seconds,
    }
    if config.policy:
        params["Policy"] = config.policy
    if config.policy_arns:
        params["PolicyArns"] = [{"arn": arn} for arn in config.policy_arns]
    return params


def _clean(text: str, token: IdToken) -> str:
    return " ".join(redact(text, token.value).split())


def _error_parts(err: BaseException, token: IdToken) -> tuple[str | None, str, int | None]:
    response = getattr(err, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error") or {}
        metadata = response.get("ResponseMetadata") or {}
        code = error.get("Code") or None
        message = _clean(str(error.get("Message") or ""), token)
        status = metadata.get("HTTPStatusCode")
        return code, message, status if isinstance(status, int) else None
    return None, _clean(str(err), token), None


def _credentials_from(response: Mapping[str, Any], config: WebIdentityConfig) -> StsCredentials:
    raw = response["Credentials"]
    expiration = raw["Expiration"]
    if isinstance(expiration, str):
        expiration = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=datetime.timezone.utc)
    now = clock.now()
    seconds_left = expiration.timestamp() - now
    if seconds_left > config.duration_seconds:
        # This machine's clock runs behind STS's: botocore compares the expiry with the local
        # clock, so count the granted duration from now, or it would use expired credentials.
        expiration = datetime.datetime.fromtimestamp(now + config.duration_seconds, datetime.timezone.utc)
    user = response.get("AssumedRoleUser") or {}
    return StsCredentials(
        access_key_id=raw["AccessKeyId"],
        secret_access_key=raw["SecretAccessKey"],
        session_token=raw["SessionToken"],
        expiration=expiration,
        # A local clock running behind would make the credentials look longer-lived than asked.
        lifetime=max(0.0, min(float(config.duration_seconds), seconds_left)),
        assumed_role_arn=user.get("Arn"),
        subject=response.get("SubjectFromWebIdentityToken"),
    )


def _issuer_host(token: IdToken) -> str:
    issuer = token.issuer or ""
    return issuer.removeprefix("https://").rstrip("/") or "<issuer>"


def _hint(code: str | None, message: str, config: WebIdentityConfig, token: IdToken, where: str) -> str:
    host = _issuer_host(token)
    lowered = message.lower()
    if code == "AccessDenied":
        from ..trust.aws_policy import provider_arn_for

        principal = provider_arn_for(token.issuer or host, config.account_id, config.partition)
        return (
            f"The role's trust policy did not accept this token: compare its Principal "
            f"({principal}) and its conditions on "
            f"{host}:sub and {host}:aud with the sub and aud above; "
            f"`oidc-credential-chain doctor {config.spec.text} --role-arn {config.role_arn} "
            "--aws-trust-policy policy.json` names the condition that fails."
        )
    if code == "InvalidIdentityToken" and "openidconnect provider" in lowered:
        return (
            f"Create an IAM OIDC identity provider for {token.issuer} in account {config.account_id}, "
            "with the token's audience among its client IDs."
        )
    if code == "InvalidIdentityToken" and "audience" in lowered:
        return (
            f"Add the token's aud to the client IDs of the IAM OIDC provider for {host}, or request "
            "a token for an audience the provider lists (the spec's argument)."
        )
    if code == "IDPCommunicationError" or (code == "InvalidIdentityToken" and "verification key" in lowered):
        return (
            f"STS could not fetch the signing keys of {token.issuer} (its discovery document and JWKS "
            "must be reachable from the internet over https); this is often transient."
        )
    if code == "ExpiredTokenException":
        return (
            "STS considered the token expired even after a fresh one was fetched: check the identity "
            "provider's clock and the token's lifetime."
        )
    if code == "IDPRejectedClaim":
        return "The identity provider reported this token as expired or revoked."
    if code == "ValidationError":
        return (
            f"Check the role ARN, the session name and the duration ({config.duration_seconds} s; "
            "the role's maximum session duration may be lower)."
        )
    if code == "RegionDisabledException":
        return (
            "STS is not activated in this region: activate it in IAM, or choose another region "
            "(AWS_DEFAULT_REGION or AWS_ENDPOINT_URL_STS)."
        )
    if code in ("MalformedPolicyDocument", "PackedPolicyTooLarge"):
        return "Fix or shorten the session policy passed with the request."
    return ""


def _exchange_error(
    client: Any,
    config: WebIdentityConfig,
    token: IdToken,
    code: str | None,
    message: str,
    status: int | None,
    attempts: int,
    decision: RetryDecision,
) -> ExchangeError:
    where = _where(client)
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if code is None:
        text = (
            f"could not reach {SERVICE} at {where} for {OPERATION} of {config.role_arn}{tries}: {message}. "
            f"Check the network path to STS (proxy, AWS_ENDPOINT_URL_STS) (spec {config.spec.text})"
        )
    else:
        status_text = f" (HTTP {status})" if status else ""
        text = (
            f"{SERVICE} at {where} refused {OPERATION} for {config.role_arn} (session "
            f"{config.session_name}){tries}: {code}{status_text}: {message or '(no message)'}. "
            f"The token from {config.spec.text}: {format_claims(token.claims)}."
        )
        hint = _hint(code, message, config, token, where)
        if hint:
            text = f"{text} {hint}"
    return ExchangeError(
        text,
        spec=config.spec.text,
        service=SERVICE,
        code=code,
        status=status,
        claims=token.summary(),
        retryable=decision is not RetryDecision.STOP,
    )


__all__ = [
    "RetryDecision",
    "StsCredentials",
    "assume_role_with_web_identity",
    "botocore_package",
    "classify",
    "create_sts_client",
    "require_https_endpoint",
]
