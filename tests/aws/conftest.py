from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain.aws import uninstall
from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)
from tests.aws.support import AwsWorld


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aio: needs aiobotocore (the [aio] extra)")
    config.addinivalue_line("markers", "aioboto3: needs aioboto3 (installed in .ci/run's botocore-1.34 job)")
    config.addinivalue_line(
        "markers", "sts_outbound: needs a botocore that knows STS GetWebIdentityToken (oidc/aws)"
    )
    config.addinivalue_line(
        "markers", "bedrock_bearer: needs a botocore with bearer auth for Bedrock (AWS_BEARER_TOKEN_BEDROCK)"
    )


def _botocore_lacks() -> dict[str, str]:
    """Markers whose feature this botocore predates, with the reason to give."""
    import botocore.session

    session = botocore.session.get_session()
    lacking = {}
    if "GetWebIdentityToken" not in session.get_service_model("sts").operation_names:
        lacking["sts_outbound"] = "this botocore has no STS GetWebIdentityToken (added in 2025)"
    if "smithy.api#httpBearerAuth" not in (
        session.get_service_model("bedrock-runtime").metadata.get("auth") or []
    ):
        lacking["bedrock_bearer"] = "this botocore has no bearer auth for Bedrock (added in 2025)"
    return lacking


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The oldest botocore job (.ci/run) predates these features: only the tests that need them step aside.
    lacking = _botocore_lacks()
    for item in items:
        for marker, reason in lacking.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _aws_isolation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import boto3

    saved_default = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None
    # Three attempts is the documented default; fixed here so the call counts below hold.
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "3")
    yield
    uninstall()
    boto3.DEFAULT_SESSION = saved_default


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsWorld]:
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
        STSEmulator() as sts,
        BedrockRuntimeEmulator(sts) as bedrock,
    ):
        sts.register_provider(issuer)
        role = sts.allow("bedrock", issuer, sub="repo:octo-org/octo-repo:*")
        for env in (github.env(), sts.env(), bedrock.env()):
            for name, value in env.items():
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield AwsWorld(issuer, github, sts, bedrock, role, monkeypatch, Path(os.environ["HOME"]))
