"""Which STS region (and so which endpoint) the exchange uses."""

from __future__ import annotations

import boto3
import botocore.session
import pytest

import oidc_credential_chain.aws as aws
from oidc_credential_chain.aws.region import partition_of_region, sts_region
from oidc_credential_chain.aws.sts import create_sts_client
from tests.aws.support import AwsWorld, converse


@pytest.mark.parametrize(
    ("arn", "candidates", "expected"),
    [
        ("arn:aws:iam::123456789012:role/r", (None, None), "us-east-1"),
        ("arn:aws:iam::123456789012:role/r", (None, "eu-west-1"), "eu-west-1"),
        ("arn:aws-cn:iam::123456789012:role/r", (None,), "cn-north-1"),
        ("arn:aws-cn:iam::123456789012:role/r", ("cn-northwest-1",), "cn-northwest-1"),
        ("arn:aws-cn:iam::123456789012:role/r", ("us-east-1",), "cn-north-1"),
        ("arn:aws-us-gov:iam::123456789012:role/r", ("eu-west-1", None), "us-gov-west-1"),
        ("arn:aws-us-gov:iam::123456789012:role/r", ("us-gov-east-1",), "us-gov-east-1"),
        ("arn:aws:iam::123456789012:role/r", ("cn-north-1", "ap-south-1"), "ap-south-1"),
    ],
)
def test_sts_region(arn: str, candidates: tuple[str | None, ...], expected: str) -> None:
    assert sts_region(arn, *candidates) == expected


def test_partition_of_region() -> None:
    assert partition_of_region("us-isob-east-1") == "aws-iso-b"
    assert partition_of_region("us-iso-east-1") == "aws-iso"
    assert partition_of_region("cn-north-1") == "aws-cn"
    assert partition_of_region("us-gov-west-1") == "aws-us-gov"
    assert partition_of_region("us-west-2") == "aws"


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
        ("eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
    ],
)
def test_partition_regions_resolve_to_their_sts(
    region: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    # botocore before 1.36 sends legacy regions to the global endpoint unless told otherwise.
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "regional")
    client = create_sts_client(botocore.session.Session(), region)
    assert client.meta.endpoint_url == endpoint
    assert client.meta.config.retries["total_max_attempts"] == 1


def test_sts_endpoint_override_is_honoured(world: AwsWorld) -> None:
    client = create_sts_client(botocore.session.Session(), "cn-north-1")
    assert client.meta.endpoint_url == world.sts.url


def test_role_in_china_uses_the_china_sts_region(world: AwsWorld, caplog: pytest.LogCaptureFixture) -> None:
    role = world.sts.add_role(
        "arn:aws-cn:iam::123456789012:role/cn-bedrock",
        world.sts.trust_policy(world.issuer, sub="repo:octo-org/octo-repo:*", partition="aws-cn"),
    )
    world.use_env_identity(role=role)
    # The session's region (us-east-1) belongs to another partition: the ARN's decides.
    caplog.set_level("INFO", logger="oidc_credential_chain")
    aws.install()
    converse(boto3.client("bedrock-runtime", region_name="cn-north-1"))
    assert "at STS cn-north-1" in caplog.text
    assert world.bedrock.callers() == [world.sts.issued[-1].arn]
    assert world.sts.issued[-1].arn.startswith("arn:aws-cn:sts::123456789012:assumed-role/cn-bedrock/")


def test_govcloud_role_without_any_region(world: AwsWorld, caplog: pytest.LogCaptureFixture) -> None:
    role = world.sts.add_role(
        "arn:aws-us-gov:iam::123456789012:role/gov",
        world.sts.trust_policy(world.issuer, sub="repo:octo-org/octo-repo:*", partition="aws-us-gov"),
    )
    world.use_env_identity(role=role)
    world.monkeypatch.delenv("AWS_DEFAULT_REGION")
    caplog.set_level("INFO", logger="oidc_credential_chain")
    aws.install()
    session = botocore.session.Session()
    credentials = session.get_credentials()
    assert credentials is not None and credentials.method == "oidc-web-identity"
    assert "at STS us-gov-west-1" in caplog.text


def test_first_clients_region_is_used_without_a_session_region(
    world: AwsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world.use_env_identity()
    world.monkeypatch.delenv("AWS_DEFAULT_REGION")
    caplog.set_level("INFO", logger="oidc_credential_chain")
    aws.install()
    converse(boto3.session.Session().client("bedrock-runtime", region_name="ap-southeast-2"))
    assert "at STS ap-southeast-2" in caplog.text
