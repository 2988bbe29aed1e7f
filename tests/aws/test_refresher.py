"""The refresh decision (:class:`Refresher`) on its own, and the provider's names."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from oidc_credential_chain import ExchangeError
from oidc_credential_chain._internal import clock
from oidc_credential_chain.aws.config import WebIdentityConfig
from oidc_credential_chain.aws.core import (
    CANONICAL_NAME,
    METHOD,
    RefreshDecision,
    Refresher,
    clear_entry,
    mark_entry,
)
from oidc_credential_chain.aws.sts import StsCredentials

CONFIG = WebIdentityConfig.create(
    token="oidc/github/sts.amazonaws.com", role_arn="arn:aws:iam::123456789012:role/r"
)


def credentials(seconds_left: float, lifetime: float = 3600.0, key: str = "ASIAOLD") -> StsCredentials:
    expiration = datetime.datetime.fromtimestamp(clock.now() + seconds_left, datetime.timezone.utc)
    return StsCredentials(key, "secret", "token", expiration, lifetime)


class Exchange:
    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[bool] = []

    def __call__(self, config: WebIdentityConfig, *, force_refresh: bool = False) -> StsCredentials:
        self.calls.append(force_refresh)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]


def test_names_follow_botocores_rules() -> None:
    assert METHOD == "oidc-web-identity"
    # botocore: providers not implemented in botocore prefix their canonical names with "custom".
    assert CANONICAL_NAME.startswith("custom")


def test_windows_scale_with_the_lifetime() -> None:
    refresher = Refresher(CONFIG, credentials(900, lifetime=900), exchange=Exchange())
    assert 0 < refresher.windows.mandatory < refresher.windows.advisory <= 900 * 0.3


def test_advisory_failure_keeps_the_current_credentials_and_backs_off() -> None:
    exchange = Exchange(ExchangeError("down"))
    refresher = Refresher(CONFIG, credentials(700), exchange=exchange)
    assert refresher.decide() == (RefreshDecision.RENEW, None)
    with pytest.raises(ExchangeError):
        refresher.renew()
    assert refresher.failed(ExchangeError("down"))["access_key"] == "ASIAOLD"
    assert refresher.decide() == (RefreshDecision.KEEP, None)  # backing off


def test_mandatory_failure_raises_botocore_typed_and_is_shared_with_those_queued() -> None:
    from botocore.exceptions import CredentialRetrievalError

    refresher = Refresher(CONFIG, credentials(60), exchange=Exchange())
    entry = mark_entry()  # this caller entered botocore's refresh before the failure
    with pytest.raises(CredentialRetrievalError) as info:
        refresher.failed(ExchangeError("STS refused"))
    assert isinstance(info.value, ExchangeError) and str(info.value) == "STS refused"
    decision, shared = refresher.decide()
    assert decision is RefreshDecision.SHARE_FAILURE and str(shared) == "STS refused"
    clear_entry(entry)


def test_success_replaces_the_credentials() -> None:
    fresh = credentials(3600, key="ASIANEW")
    refresher = Refresher(CONFIG, credentials(700), exchange=Exchange(fresh))
    assert refresher.succeeded(refresher.renew())["access_key"] == "ASIANEW"
    assert refresher.current is fresh


def test_a_renewal_inside_the_window_forces_a_new_exchange() -> None:
    # Only when the wall clock jumped ahead of the exchange cache's monotonic one.
    stale, fresh = credentials(100), credentials(3600, key="ASIANEW")
    exchange = Exchange(stale, fresh)
    refresher = Refresher(CONFIG, credentials(700), exchange=exchange)
    assert refresher.renew() is fresh
    assert exchange.calls == [False, True]
