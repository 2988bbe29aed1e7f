from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    STSEmulator,
)
from tests.process_models.support import SUBJECT


@pytest.fixture
def github(github_actions: GitHubActionsTokenEndpoint) -> GitHubActionsTokenEndpoint:
    """The GitHub Actions token endpoint of the emulators' pytest plugin, its variables set."""
    return github_actions


@pytest.fixture
def sts(github: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[STSEmulator]:
    with STSEmulator() as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        emulator.register_provider(github.issuer)
        yield emulator


@pytest.fixture
def role(sts: STSEmulator, github: GitHubActionsTokenEndpoint) -> str:
    return sts.allow("bedrock", github.issuer, sub="repo:octo-org/octo-repo:*")


@pytest.fixture
def bedrock(sts: STSEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockRuntimeEmulator]:
    with BedrockRuntimeEmulator(sts) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


@pytest.fixture
def trusting_entra(entra: EntraEmulator, github: GitHubActionsTokenEndpoint) -> EntraEmulator:
    entra.add_federated_credential(github.issuer, SUBJECT)
    return entra


@pytest.fixture
def fork_while() -> Iterator[Callable[..., None]]:
    """``fork_while(fn)``: start ``fn`` in a thread and return once it is in flight (0.5 s later).

    The threads are joined when the test ends, so none of them outlives its test.
    """
    threads: list[threading.Thread] = []

    def start(fn: Callable[[], Any], after: float = 0.5) -> None:
        thread = threading.Thread(target=fn, daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(after)

    yield start
    for thread in threads:
        thread.join(timeout=30)
