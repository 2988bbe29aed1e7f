"""What to assume and with which token: from the environment, a profile, or arguments.

Environment (claimed only when ``AWS_WEB_IDENTITY_TOKEN`` holds an ``oidc/`` spec):
``AWS_WEB_IDENTITY_TOKEN``, ``AWS_ROLE_ARN``, ``AWS_ROLE_SESSION_NAME``,
``AWS_ROLE_DURATION_SECONDS``; LiteLLM's ``AWS_ROLE_NAME`` and ``AWS_SESSION_NAME`` are
fallbacks for the role ARN and the session name.  Profile keys (our own, so other AWS SDKs reading the same
file are not confused): ``oidc_web_identity_token``, ``oidc_role_arn``,
``oidc_role_session_name``, ``oidc_duration_seconds``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._internal.record import Record
from ..errors import ConfigurationError, OIDCError
from ..lifecycle.fork import ForkSafeLock
from ..providers.registry import parse_spec
from ..spec import Spec, is_spec

ENV_TOKEN = "AWS_WEB_IDENTITY_TOKEN"
ENV_ROLE_ARN = "AWS_ROLE_ARN"
ENV_SESSION_NAME = "AWS_ROLE_SESSION_NAME"
ENV_DURATION = "AWS_ROLE_DURATION_SECONDS"
#: LiteLLM's names (it puts an ARN in AWS_ROLE_NAME), used when ours are unset.
ENV_ROLE_NAME_FALLBACK = "AWS_ROLE_NAME"
ENV_SESSION_NAME_FALLBACK = "AWS_SESSION_NAME"

PROFILE_TOKEN = "oidc_web_identity_token"
PROFILE_ROLE_ARN = "oidc_role_arn"
PROFILE_SESSION_NAME = "oidc_role_session_name"
PROFILE_DURATION = "oidc_duration_seconds"

MIN_DURATION = 900
MAX_DURATION = 43200
DEFAULT_DURATION = 3600

_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<name>[\w+=,.@/-]+)$"
)
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")

_default_session_name: str | None = None
_default_lock = ForkSafeLock()


def default_session_name() -> str:
    """``oidc-credential-chain-<epoch>``, fixed for the life of the process.

    Fixed so that code building a new session per request keeps hitting the exchange cache.
    """
    global _default_session_name
    with _default_lock:
        if _default_session_name is None:
            _default_session_name = f"oidc-credential-chain-{int(time.time())}"
        return _default_session_name


class WebIdentityConfig(Record):
    """One ``AssumeRoleWithWebIdentity`` to make: the token spec, role and session parameters.

    ``source`` says where the settings came from ("the environment", "profile 'ci'"...) for
    messages.  ``region`` and ``sts_endpoint_url`` are explicit choices (``session(...)``,
    ``credential-process --region``); without them the botocore session decides.

    Example::

        WebIdentityConfig.create(
            token="oidc/github/sts.amazonaws.com",
            role_arn="arn:aws:iam::123456789012:role/ci",
        )
    """

    spec: Spec
    role_arn: str
    session_name: str
    duration_seconds: int = DEFAULT_DURATION
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    region: str | None = None
    sts_endpoint_url: str | None = None
    source: str = "arguments"
    #: Share exchanges with the host's other processes through the file cache: True/False, or
    #: None to follow ``OIDC_CREDENTIAL_CHAIN_CACHE`` (off when unset).
    file_cache: bool | None = None

    @classmethod
    def create(
        cls,
        *,
        token: str | Spec,
        role_arn: str | None,
        session_name: str | None = None,
        duration_seconds: int | str | None = None,
        policy: str | None = None,
        policy_arns: Sequence[str] = (),
        region: str | None = None,
        sts_endpoint_url: str | None = None,
        source: str = "arguments",
        names: Mapping[str, str] | None = None,
        file_cache: bool | None = None,
    ) -> WebIdentityConfig:
        """Validate and build; ``names`` maps fields to the variable or key users wrote.

        Raises :class:`ConfigurationError` naming the variable, key or argument at fault.
        """
        label = {
            "token": "web_identity_token",
            "role_arn": "role_arn",
            "session_name": "role_session_name",
            "duration_seconds": "duration_seconds",
            **(names or {}),
        }
        spec = _parse_token(token, label["token"], source)
        if not role_arn or not str(role_arn).strip():
            raise ConfigurationError(
                f"{label['token']} is set to {spec.text} in {source}, but no role to assume is "
                f"configured: set {label['role_arn']} to the role's ARN "
                "(arn:aws:iam::<account>:role/<name>)",
                spec=spec.text,
            )
        arn = validate_role_arn(str(role_arn).strip(), label["role_arn"], source)
        name = session_name.strip() if isinstance(session_name, str) and session_name.strip() else None
        if name is not None and not _SESSION_NAME.match(name):
            raise ConfigurationError(
                f"{label['session_name']} in {source} must be 2-64 characters of letters, digits "
                f"and +=,.@_- (AWS's rule for role session names), got {name!r}",
                spec=spec.text,
            )
        duration = parse_duration(duration_seconds, label["duration_seconds"], source)
        return cls(
            spec=spec,
            role_arn=arn,
            session_name=name or default_session_name(),
            duration_seconds=duration,
            policy=policy or None,
            policy_arns=tuple(policy_arns),
            region=region or None,
            sts_endpoint_url=sts_endpoint_url or None,
            source=source,
            file_cache=file_cache,
        )

    @property
    def partition(self) -> str:
        return partition_of_arn(self.role_arn)

    @property
    def account_id(self) -> str:
        match = _ROLE_ARN.match(self.role_arn)
        return match.group("account") if match else ""

    def describe(self) -> str:
        return f"role {self.role_arn} (session {self.session_name}) with {self.spec.text}"


def _parse_token(token: str | Spec, name: str, source: str) -> Spec:
    if isinstance(token, Spec):
        return token
    if not is_spec(token):
        raise ConfigurationError(
            f"{name} in {source} must be an oidc/... spec such as 'oidc/github/sts.amazonaws.com'; "
            "the value given is not one (it is not shown, in case it is a token)"
        )
    try:
        return parse_spec(token)
    except OIDCError as err:
        raise ConfigurationError(f"{name} in {source}: {err.message}", spec=token.strip()) from None


def validate_role_arn(arn: str, name: str = "role_arn", source: str = "arguments") -> str:
    """The ARN if it names an IAM role, else a configuration error naming ``name``."""
    if not _ROLE_ARN.match(arn):
        raise ConfigurationError(
            f"{name} in {source} is not an IAM role ARN: expected arn:aws:iam::<12-digit account>:"
            f"role/<name> (or the aws-cn / aws-us-gov partition), got {arn!r}"
        )
    return arn


def partition_of_arn(arn: str) -> str:
    """``aws``, ``aws-cn``, ``aws-us-gov``... from ``arn:<partition>:...``."""
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def parse_duration(value: int | str | None, name: str = "duration_seconds", source: str = "arguments") -> int:
    """Seconds between 900 and 43200; ``None`` or empty means 3600."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_DURATION
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} in {source} must be a whole number of seconds, got {value!r}")
    try:
        seconds = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ConfigurationError(
            f"{name} in {source} must be a whole number of seconds, got {value!r}"
        ) from None
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise ConfigurationError(
            f"{name} in {source} must be between {MIN_DURATION} and {MAX_DURATION} seconds "
            f"(STS's limits for AssumeRoleWithWebIdentity), got {seconds}"
        )
    return seconds


def _first_set(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def environ_has_role(environ: Mapping[str, str]) -> bool:
    """Whether ``AWS_ROLE_ARN`` (or LiteLLM's ``AWS_ROLE_NAME``) is set."""
    return _first_set(environ, ENV_ROLE_ARN, ENV_ROLE_NAME_FALLBACK) is not None


def from_environ(environ: Mapping[str, str]) -> WebIdentityConfig | None:
    """The environment's configuration, or None when ``AWS_WEB_IDENTITY_TOKEN`` holds no spec.

    A literal token in ``AWS_WEB_IDENTITY_TOKEN`` is left alone (it is not ours).
    ``AWS_ROLE_NAME`` / ``AWS_SESSION_NAME`` (LiteLLM's) stand in for ``AWS_ROLE_ARN`` /
    ``AWS_ROLE_SESSION_NAME`` when those are unset.

    Example: ``from_environ({"AWS_WEB_IDENTITY_TOKEN": "oidc/github", "AWS_ROLE_NAME": arn})``.
    """
    token = environ.get(ENV_TOKEN, "")
    if not is_spec(token):
        return None
    return WebIdentityConfig.create(
        token=token,
        role_arn=_first_set(environ, ENV_ROLE_ARN, ENV_ROLE_NAME_FALLBACK),
        session_name=_first_set(environ, ENV_SESSION_NAME, ENV_SESSION_NAME_FALLBACK),
        duration_seconds=environ.get(ENV_DURATION),
        source="the environment",
        names={
            "token": ENV_TOKEN,
            "role_arn": ENV_ROLE_ARN,
            "session_name": ENV_SESSION_NAME,
            "duration_seconds": ENV_DURATION,
        },
    )


def from_profile(profile_name: str, profile: Mapping[str, Any]) -> WebIdentityConfig | None:
    """A profile's configuration, or None when it has no ``oidc_web_identity_token``."""
    token = profile.get(PROFILE_TOKEN)
    if not isinstance(token, str) or not token.strip():
        return None
    role_arn = profile.get(PROFILE_ROLE_ARN)
    session_name = profile.get(PROFILE_SESSION_NAME)
    duration = profile.get(PROFILE_DURATION)
    return WebIdentityConfig.create(
        token=token,
        role_arn=role_arn if isinstance(role_arn, str) else None,
        session_name=session_name if isinstance(session_name, str) else None,
        duration_seconds=duration if isinstance(duration, (str, int)) else None,
        source=f"profile {profile_name!r}",
        names={
            "token": PROFILE_TOKEN,
            "role_arn": PROFILE_ROLE_ARN,
            "session_name": PROFILE_SESSION_NAME,
            "duration_seconds": PROFILE_DURATION,
        },
    )


__all__ = [
    "WebIdentityConfig",
    "default_session_name",
    "environ_has_role",
    "from_environ",
    "from_profile",
    "parse_duration",
    "partition_of_arn",
    "validate_role_arn",
]
