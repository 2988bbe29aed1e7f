"""Which STS region to call: the session's, else the one the role ARN's partition implies.

A role in ``aws-cn`` or ``aws-us-gov`` can only be assumed at that partition's STS, so a
session region from another partition (a default ``us-east-1`` left in the environment,
say) is not used for the exchange.
"""

from __future__ import annotations

from .config import partition_of_arn

#: The STS region used when nothing else chooses one, per partition.
PARTITION_DEFAULT_REGION = {
    "aws": "us-east-1",
    "aws-cn": "cn-north-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
    "aws-iso-e": "eu-isoe-west-1",
    "aws-iso-f": "us-isof-south-1",
    "aws-eusc": "eusc-de-east-1",
}

# Longest prefixes first: "us-isob-" before "us-iso-".
_REGION_PREFIX_PARTITION = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("eusc-", "aws-eusc"),
    ("cn-", "aws-cn"),
)


def partition_of_region(region: str) -> str:
    """``aws-cn`` for ``cn-north-1``, ``aws-us-gov`` for ``us-gov-west-1``, else ``aws``."""
    for prefix, partition in _REGION_PREFIX_PARTITION:
        if region.startswith(prefix):
            return partition
    return "aws"


def sts_region(role_arn: str, *candidates: str | None) -> str:
    """The first candidate region in the role's partition, else that partition's default.

    Example::

        sts_region("arn:aws-cn:iam::123456789012:role/r", None)          # "cn-north-1"
        sts_region("arn:aws:iam::123456789012:role/r", "eu-west-1")     # "eu-west-1"
    """
    partition = partition_of_arn(role_arn)
    for region in candidates:
        if region and partition_of_region(region) == partition:
            return region
    return PARTITION_DEFAULT_REGION.get(partition, "us-east-1")


__all__ = ["PARTITION_DEFAULT_REGION", "partition_of_region", "sts_region"]
