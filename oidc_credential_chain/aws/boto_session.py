"""``session(...)``: a ``boto3.Session`` whose credentials come from one ``oidc/...`` identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigurationError
from .config import WebIdentityConfig


def _one(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    if value is not None and alias_value is not None and value != alias_value:
        raise ConfigurationError(
            f"{name} and {alias} name the same setting but differ ({value!r} vs {alias_value!r}); pass one"
        )
    return value if value is not None else alias_value


def session(
    role_arn: str | None = None,
    web_identity_token: str | None = None,
    role_session_name: str | None = None,
    region_name: str | None = None,
    duration_seconds: int | None = None,
    *,
    policy: str | None = None,
    policy_arns: Sequence[str] = (),
    sts_endpoint_url: str | None = None,
    botocore_session: Any = None,
    aws_role_name: str | None = None,
    aws_session_name: str | None = None,
    aws_web_identity_token: str | None = None,
    aws_region_name: str | None = None,
    aws_sts_endpoint: str | None = None,
    file_cache: bool | None = None,
) -> Any:
    """A ``boto3.Session`` that assumes ``role_arn`` with the token ``web_identity_token`` names.

    LiteLLM-style names are accepted too: ``aws_role_name`` (the role ARN),
    ``aws_session_name``, ``aws_web_identity_token``, ``aws_region_name``,
    ``aws_sts_endpoint``.  Exchanges are cached per process, so building one session per
    request still calls STS once per credential lifetime; ``file_cache=True`` also shares them
    with the host's other processes (default: ``OIDC_CREDENTIAL_CHAIN_CACHE``, off when unset).
    The environment's static keys and profiles do not apply to this session: it uses exactly
    this identity.

    Example::

        bedrock = oidc_credential_chain.aws.session(
            role_arn="arn:aws:iam::123456789012:role/bedrock",
            web_identity_token="oidc/github/sts.amazonaws.com",
            region_name="us-east-1",
        ).client("bedrock-runtime")
    """
    try:
        import boto3
        import botocore.session
    except ImportError:
        raise ConfigurationError(
            "oidc_credential_chain.aws.session() needs boto3: pip install 'oidc-credential-chain[aws]'"
        ) from None

    from .installer import attach_config

    role = _one("role_arn", role_arn, "aws_role_name", aws_role_name)
    token = _one("web_identity_token", web_identity_token, "aws_web_identity_token", aws_web_identity_token)
    name = _one("role_session_name", role_session_name, "aws_session_name", aws_session_name)
    region = _one("region_name", region_name, "aws_region_name", aws_region_name)
    endpoint = _one("sts_endpoint_url", sts_endpoint_url, "aws_sts_endpoint", aws_sts_endpoint)
    if token is None:
        raise ConfigurationError(
            "session() needs web_identity_token (or aws_web_identity_token): an oidc/... spec such as "
            "'oidc/github/sts.amazonaws.com'"
        )
    config = WebIdentityConfig.create(
        token=token,
        role_arn=role,
        session_name=name,
        duration_seconds=duration_seconds,
        policy=policy,
        policy_arns=policy_arns,
        region=region,
        sts_endpoint_url=endpoint,
        source="session()",
        file_cache=file_cache,
    )
    core = botocore_session if botocore_session is not None else botocore.session.Session()
    attach_config(core, config)
    return boto3.Session(botocore_session=core, region_name=region)


__all__ = ["session"]
