"""900-second STS sessions through the provider and botocore's RefreshableCredentials on an injected clock."""

from __future__ import annotations

from typing import Any

import pytest

from oidc_credential_chain._internal import clock

SPEC = "oidc/github/sts.amazonaws.com"
SESSION = 900.0


class VirtualClock:
    def __init__(self) -> None:
        import time

        self._wall, self._mono = time.time, time.monotonic
        self.offset = 0.0

    def wall(self) -> float:
        return self._wall() + self.offset

    def mono(self) -> float:
        return self._mono() + self.offset


def test_900_second_sessions_cost_at_most_two_sts_calls_per_lifetime(
    aws_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oidc_credential_chain.aws as ocaws

    virtual = VirtualClock()
    monkeypatch.setattr(clock, "wall", virtual.wall)
    monkeypatch.setattr(clock, "monotonic", virtual.mono)
    aws_world.github.issuer.lifetime = 3600
    session = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC, duration_seconds=900)
    credentials = session.get_credentials()
    hours, step = 3.0, 10.0
    requests = 0
    while virtual.offset < hours * 3600:
        # Everyone's clock moves together: the emulators' and this library's (botocore reads the latter).
        aws_world.sts.clock_offset = aws_world.github.issuer.clock_offset = virtual.offset
        frozen = credentials.get_frozen_credentials()  # what the signer does before each request
        issued = aws_world.sts.lookup(frozen.access_key)
        assert issued is not None and not issued.expired(virtual.wall()), "expired credentials handed out"
        requests += 1
        virtual.offset += step
    lifetimes = hours * 3600 / SESSION
    calls = aws_world.sts_calls
    assert calls / lifetimes <= 2.0
    # Refreshed often enough: never fewer calls than lifetimes elapsed.
    assert calls >= lifetimes
    assert requests == int(hours * 3600 / step)
