"""oidc/aws before any request: loops, region, credentials (no STS needed)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, TokenFetchError, get_id_token, parse_spec
from oidc_credential_chain.errors import CredentialLoopError
from oidc_credential_chain.providers import registry
from oidc_credential_chain.providers.aws_sts import self_sourced
from oidc_credential_chain.providers.base import Argument, FetchContext, Provider
from oidc_credential_chain.spec import Spec

SPEC = "oidc/aws/api://AzureADTokenExchange"
ADVICE = (
    "oidc/aws signs STS GetWebIdentityToken with the ambient AWS credentials, so those must come from "
    "somewhere else (an instance or task role, static keys, or a web identity from another provider such "
    "as oidc/github/sts.amazonaws.com)"
)


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_audience_is_required() -> None:
    with pytest.raises(ConfigurationError, match="'oidc/aws' needs an audience: write 'oidc/aws/<audience>'"):
        parse_spec("oidc/aws")


def test_loop_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "oidc/aws/sts.amazonaws.com")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/loop")
    with pytest.raises(CredentialLoopError) as caught:
        get_id_token(SPEC)
    assert str(caught.value) == (
        f"{SPEC}: the ambient AWS credentials come from AWS_WEB_IDENTITY_TOKEN=oidc/aws/sts.amazonaws.com, "
        f"so fetching this token would need the token itself; {ADVICE}"
    )


@pytest.mark.parametrize(
    ("profile_line", "where"),
    [
        (
            "oidc_web_identity_token = oidc/aws/sts.amazonaws.com",
            "the profile key oidc_web_identity_token = oidc/aws/sts.amazonaws.com",
        ),
        (
            "credential_process = oidc-credential-chain aws credential-process --role-arn "
            "arn:aws:iam::111122223333:role/x --token oidc/aws/sts.amazonaws.com",
            "the profile's credential_process, which runs oidc-credential-chain with an oidc/aws token",
        ),
    ],
)
def test_loop_through_the_profile(
    profile_line: str, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text(f"[profile ci]\noidc_role_arn = arn:aws:iam::111122223333:role/x\n{profile_line}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "ci")
    with pytest.raises(CredentialLoopError) as caught:
        get_id_token(SPEC)
    assert str(caught.value) == (
        f"{SPEC}: the ambient AWS credentials come from {where}, so fetching this token would need the token "
        f"itself; {ADVICE}"
    )


def test_static_keys_are_no_loop() -> None:
    environ = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_WEB_IDENTITY_TOKEN": "oidc/aws/x",
    }
    assert self_sourced(environ, {}) is None
    assert self_sourced({"AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com"}, {}) is None
    assert self_sourced({}, {"credential_process": "aws-vault exec x --json"}) is None


def test_region_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with pytest.raises(ConfigurationError) as caught:
        get_id_token(SPEC)
    assert str(caught.value) == (
        f"{SPEC}: STS GetWebIdentityToken is not available on the global endpoint; set AWS_REGION "
        "(or AWS_DEFAULT_REGION, or the profile's region)"
    )


def test_no_credentials() -> None:
    with pytest.raises(ConfigurationError) as caught:
        get_id_token(SPEC)
    assert str(caught.value) == (
        f"{SPEC}: no AWS credentials were found to sign STS GetWebIdentityToken; run on an AWS workload "
        "with a role, or configure credentials"
    )


def test_missing_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(ConfigurationError, match=r"The config profile \(nope\) could not be found"):
        get_id_token(SPEC)


def test_sts_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-value-xyz")
    with pytest.raises(TokenFetchError) as caught:
        get_id_token(SPEC)
    assert str(caught.value).startswith(
        f"{SPEC}: STS GetWebIdentityToken failed: Could not connect to the endpoint URL"
    )
    assert caught.value.retryable
    assert "secret-value-xyz" not in str(caught.value)


class _SelfReferring(Provider):
    """A provider whose token source is configured with its own spec (a loop)."""

    name = "selfref"
    argument = Argument.OPTIONAL

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        return get_id_token("oidc/selfref/x")


def test_any_loop_fails_instead_of_waiting_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.BUILTINS, "selfref", f"{__name__}:_SelfReferring")
    with pytest.raises(CredentialLoopError) as caught:
        get_id_token("oidc/selfref/x")
    assert str(caught.value) == (
        "oidc/selfref/x: fetching this token needs the token itself (the credentials its provider uses are "
        "configured with the same spec); give that provider an identity of its own"
    )
