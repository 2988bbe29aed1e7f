from __future__ import annotations

import pytest

from oidc_credential_chain._internal import clock
from oidc_credential_chain.testing import EntraEmulator, GitHubActionsTokenEndpoint, OIDCIssuer
from tests.azure.support import GITHUB_SUBJECT, FakeClock


@pytest.fixture
def trusted_github(
    entra: EntraEmulator, github_actions: GitHubActionsTokenEndpoint, github_issuer: OIDCIssuer
) -> EntraEmulator:
    """Entra whose default app trusts the GitHub Actions workflow on main."""
    entra.add_federated_credential(github_issuer, GITHUB_SUBJECT, name="github-main")
    return entra


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch, entra: EntraEmulator, github_issuer: OIDCIssuer) -> FakeClock:
    fake = FakeClock(github_issuer)
    monkeypatch.setattr(clock, "wall", fake.wall)
    monkeypatch.setattr(clock, "monotonic", fake.mono)
    entra.clock = fake.wall
    return fake
