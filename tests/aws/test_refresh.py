"""Short-lived credentials are refreshed before they expire; requests keep succeeding."""

from __future__ import annotations

import time

import boto3
import botocore.session

import oidc_credential_chain.aws as aws
from oidc_credential_chain.lifecycle.policy import cache_keep_seconds, refresh_windows
from tests.aws.support import AwsWorld, converse

LIFETIME = 2.0


def run_for(seconds: float, action: object) -> int:
    """Repeat ``action`` every 50 ms for ``seconds`` after the first one, which makes the first exchange.

    The time is counted from the first credentials, and the last action starts after it is up: on a
    loaded machine building a client can take longer than a refresh window, and the requests must
    still span the credentials' lifetimes or the refreshes they are there to trigger never happen.
    """
    action()  # type: ignore[operator]
    count = 1
    deadline = time.monotonic() + seconds
    while True:
        time.sleep(0.05)
        started = time.monotonic()
        action()  # type: ignore[operator]
        count += 1
        if started >= deadline:
            return count


def test_short_lived_credentials_are_refreshed(world: AwsWorld) -> None:
    world.sts.credential_lifetime = LIFETIME
    world.use_env_identity()
    aws.install()
    client = boto3.client("bedrock-runtime")
    requests = run_for(2.5 * LIFETIME, lambda: converse(client))
    keys = {call.access_key_id for call in world.bedrock.calls}
    assert len(world.bedrock.calls) == requests  # none refused, none failed
    # One exchange per lifetime (at most 1.5 per lifetime by the windows), never one per request.
    assert 3 <= world.sts.calls() <= 5
    assert len(keys) == world.sts.calls()
    assert world.token_fetches() == 1  # the 5-minute ID token outlives every refresh


def test_sessions_built_per_request_share_the_refreshed_credentials(world: AwsWorld) -> None:
    world.sts.credential_lifetime = LIFETIME
    world.use_env_identity()
    aws.install()
    requests = run_for(1.5 * LIFETIME, lambda: converse(boto3.session.Session().client("bedrock-runtime")))
    assert len(world.bedrock.calls) == requests
    assert 2 <= world.sts.calls() <= 3


def test_windows_are_set_on_the_credentials(world: AwsWorld) -> None:
    world.use_env_identity()
    aws.install()
    credentials = botocore.session.Session().get_credentials()
    assert credentials.method == "oidc-web-identity"
    advisory, mandatory = credentials._advisory_refresh_timeout, credentials._mandatory_refresh_timeout
    assert mandatory < advisory <= 900
    assert mandatory <= 600
    # The exchange cache lets go before the widest advisory window opens.
    assert cache_keep_seconds(3600, 3600) < 3600 - advisory


def test_refresh_windows_scale_with_short_lifetimes() -> None:
    windows = refresh_windows(900)
    advisory, mandatory = windows.advisory, windows.mandatory
    assert advisory < 900 / 2 and mandatory < advisory
    windows = refresh_windows(3600)
    advisory, mandatory = windows.advisory, windows.mandatory
    assert 600 <= advisory <= 900 and mandatory <= 600
