"""The STS client's bounded sender steps aside for answers botocore's own hooks give."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from oidc_credential_chain.aws.sts import create_sts_client
from tests.aws.support import AwsWorld

_ANSWER = b"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAHOOKANSWER</AccessKeyId>
<SecretAccessKey>hook-secret</SecretAccessKey><SessionToken>hook-session</SessionToken>
<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"""


def _call(client: Any, role: str) -> Any:
    return client.assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="hooks", WebIdentityToken="not-a-real-token"
    )


class _Raw:
    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield _ANSWER


def test_a_stubber_on_the_sts_client_answers_first(world: AwsWorld) -> None:
    client = create_sts_client(botocore.session.Session(), "us-east-1")
    expiration = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    credentials = {
        "AccessKeyId": "ASIASTUBBED0000000",
        "SecretAccessKey": "stubbed-secret",
        "SessionToken": "stubbed-session",
        "Expiration": expiration,
    }
    with Stubber(client) as stubber:
        stubber.add_response("assume_role_with_web_identity", {"Credentials": credentials})
        response = _call(client, world.role)
    assert response["Credentials"]["AccessKeyId"] == "ASIASTUBBED0000000"
    assert world.sts.calls() == 0


def test_a_before_send_answer_is_used_and_nothing_is_sent(world: AwsWorld) -> None:
    session = botocore.session.Session()
    answered: list[str] = []

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        answered.append(request.url)
        return AWSResponse(request.url, 200, {}, _Raw())

    session.register("before-send.sts.AssumeRoleWithWebIdentity", answer)
    client = create_sts_client(session, "us-east-1")
    response = _call(client, world.role)
    assert response["Credentials"]["AccessKeyId"] == "ASIAHOOKANSWER"
    assert answered == [world.sts.url + "/"]
    assert world.sts.calls() == 0


def test_without_a_hook_the_request_reaches_sts(world: AwsWorld) -> None:
    client = create_sts_client(botocore.session.Session(), "us-east-1")
    with pytest.raises(ClientError) as caught:  # the token is not a real one: STS refuses it
        _call(client, world.role)
    assert caught.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert world.sts.calls() == 1
