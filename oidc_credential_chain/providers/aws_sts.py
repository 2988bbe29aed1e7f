"""AWS: STS ``GetWebIdentityToken`` (outbound identity federation) signed with the ambient AWS credentials.

An AWS workload (EC2, ECS, Lambda, EKS...) mints a JWT whose ``sub`` is its role ARN and
whose ``aud`` is the spec's argument, then hands it to Entra ID or Google STS.  The call is
not available on the STS global endpoint, so a region is required.

A loop is refused: when the ambient AWS credentials would themselves come from this
library with an ``oidc/aws/...`` token (``AWS_WEB_IDENTITY_TOKEN``, the profile keys, or a
``credential_process`` that runs ``oidc-credential-chain ... oidc/aws/...``), fetching the
token would need the token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigurationError, CredentialLoopError, OIDCError, TokenFetchError
from ..spec import Spec, is_spec, split_spec
from .base import Argument, FetchContext, Provider

SIGNING_ALGORITHM = "RS256"
#: STS's default token lifetime (60 to 3600 s allowed).
DURATION_SECONDS = 300

_HINTS: dict[str, str] = {
    "OutboundWebIdentityFederationDisabledException": (
        "outbound identity federation is turned off for this AWS account; an administrator turns it "
        "on in IAM (account settings) before STS will mint tokens"
    ),
    "AccessDenied": "the ambient AWS identity needs permission for sts:GetWebIdentityToken",
    "AccessDeniedException": "the ambient AWS identity needs permission for sts:GetWebIdentityToken",
    "SessionDurationEscalationException": (
        "the token may not outlive the session of the credentials that request it"
    ),
    "JWTPayloadSizeExceededException": "the token would be too large; send fewer audiences or tags",
}

_state = threading.local()


@contextmanager
def _fetching(spec: Spec) -> Iterator[None]:
    active: list[str] = getattr(_state, "active", [])
    if active:
        raise CredentialLoopError(
            f"{spec.text}: fetching {active[0]} asked for AWS credentials, and those credentials asked "
            f"for {spec.text}; {_LOOP_ADVICE}",
            spec=spec.text,
        )
    _state.active = [*active, spec.text]
    try:
        yield
    finally:
        _state.active = active


_LOOP_ADVICE = (
    "oidc/aws signs STS GetWebIdentityToken with the ambient AWS credentials, so those must come from "
    "somewhere else (an instance or task role, static keys, or a web identity from another provider such "
    "as oidc/github/sts.amazonaws.com)"
)


def _aws_spec(value: str | None) -> bool:
    if not value or not is_spec(value):
        return False
    try:
        return split_spec(value).provider == "aws"
    except ConfigurationError:
        return False


def self_sourced(
    environ: Mapping[str, str],
    profile_config: Mapping[str, Any],
    profiles: Mapping[str, Mapping[str, Any]] | None = None,
) -> str | None:
    """Where the ambient AWS credentials would come from an ``oidc/aws`` spec, or None.

    ``profile_config`` is the active profile's section of ``~/.aws/config``; ``profiles``
    (all sections) lets ``source_profile`` chains be followed.
    """
    if environ.get("AWS_ACCESS_KEY_ID", "").strip() and environ.get("AWS_SECRET_ACCESS_KEY", "").strip():
        return None  # static keys win over everything below
    token = environ.get("AWS_WEB_IDENTITY_TOKEN", "")
    # Our botocore provider prefers the variable over the profile unless a session names a
    # profile explicitly, which the session made here never does.
    if _aws_spec(token):
        return f"AWS_WEB_IDENTITY_TOKEN={token.strip()}"
    config: Mapping[str, Any] | None = profile_config
    seen: set[str] = set()
    where = "the profile"
    while config is not None:
        profile_token = config.get("oidc_web_identity_token")
        if isinstance(profile_token, str) and _aws_spec(profile_token):
            return f"{where} key oidc_web_identity_token = {profile_token.strip()}"
        process = config.get("credential_process")
        if isinstance(process, str) and "oidc/aws" in process and "oidc-credential-chain" in process:
            return f"{where}'s credential_process, which runs oidc-credential-chain with an oidc/aws token"
        # A credential_process behind source_profile would start this process again, endlessly.
        source = config.get("source_profile")
        if not isinstance(source, str) or profiles is None or source in seen:
            return None
        seen.add(source)
        config = profiles.get(source)
        where = f"the source profile '{source}'"
    return None


class AWSProvider(Provider):
    name = "aws"
    argument = Argument.REQUIRED
    argument_name = "audience"
    description = (
        "AWS STS GetWebIdentityToken with the ambient AWS credentials (outbound identity federation)"
    )
    remote = True

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        assert spec.argument is not None
        try:
            import botocore.exceptions
            import botocore.session
        except ImportError:
            raise ConfigurationError(
                f"{spec.text} needs botocore: pip install 'oidc-credential-chain[aws]'", spec=spec.text
            ) from None
        with _fetching(spec):
            session = botocore.session.Session()
            try:
                profile_config = session.get_scoped_config()
            except botocore.exceptions.ProfileNotFound as err:
                raise ConfigurationError(f"{spec.text}: {err}", spec=spec.text) from None
            loop = self_sourced(ctx.environ, profile_config, session.full_config.get("profiles", {}))
            if loop is not None:
                raise CredentialLoopError(
                    f"{spec.text}: the ambient AWS credentials come from {loop}, so fetching this token "
                    f"would need the token itself; {_LOOP_ADVICE}",
                    spec=spec.text,
                )
            region = session.get_config_variable("region")
            if not region:
                raise ConfigurationError(
                    f"{spec.text}: STS GetWebIdentityToken is not available on the global endpoint; set "
                    "AWS_REGION (or AWS_DEFAULT_REGION, or the profile's region)",
                    spec=spec.text,
                )
            try:
                client = session.create_client("sts", region_name=region)
                answer = client.get_web_identity_token(
                    Audience=[spec.argument],
                    SigningAlgorithm=SIGNING_ALGORITHM,
                    DurationSeconds=DURATION_SECONDS,
                )
            except botocore.exceptions.NoCredentialsError:
                raise ConfigurationError(
                    f"{spec.text}: no AWS credentials were found to sign STS GetWebIdentityToken; run on an "
                    "AWS workload with a role, or configure credentials",
                    spec=spec.text,
                ) from None
            except botocore.exceptions.ClientError as err:
                raise _refusal(spec, err) from None
            except Exception as err:
                loop_error = _find(err, CredentialLoopError)
                if loop_error is not None:
                    raise CredentialLoopError(
                        f"{spec.text}: the ambient AWS credentials are themselves being fetched from an "
                        f"oidc/aws token; {_LOOP_ADVICE}",
                        spec=spec.text,
                    ) from None
                ours = _find(err, OIDCError)
                if ours is not None:
                    message = (
                        f"{spec.text}: the ambient AWS credentials could not be obtained: {ours.message}"
                    )
                    if isinstance(ours, ConfigurationError):
                        raise ConfigurationError(message, spec=spec.text) from None
                    raise TokenFetchError(
                        message, spec=spec.text, retryable=bool(getattr(ours, "retryable", False))
                    ) from None
                if isinstance(err, botocore.exceptions.BotoCoreError):
                    raise TokenFetchError(
                        f"{spec.text}: STS GetWebIdentityToken failed: {err}", spec=spec.text, retryable=True
                    ) from None
                raise
        token = answer.get("WebIdentityToken") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenFetchError(
                f"{spec.text}: STS GetWebIdentityToken answered without a WebIdentityToken", spec=spec.text
            )
        return token

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return "AWS STS GetWebIdentityToken"


def _find(err: BaseException, kind: type[OIDCError]) -> OIDCError | None:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _refusal(spec: Spec, err: Any) -> TokenFetchError:
    error = err.response.get("Error", {}) if isinstance(getattr(err, "response", None), dict) else {}
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or "").strip()
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    hint = _HINTS.get(code)
    return TokenFetchError(
        f"{spec.text}: STS GetWebIdentityToken refused ({code}"
        + (f": {message}" if message else "")
        + ")"
        + (f"; {hint}" if hint else ""),
        spec=spec.text,
        status=status if isinstance(status, int) else None,
        retryable=code in ("Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure"),
    )
