"""pytest fixtures that start the emulators on loopback and stop them afterwards.

Installed as a ``pytest11`` plugin, so any project that installs the ``testing`` extra
gets the fixtures; each starts fresh per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .gcp_metadata import GCPMetadataServer
from .github import GitHubActionsTokenEndpoint
from .issuer import OIDCIssuer


@pytest.fixture
def oidc_issuer() -> Iterator[OIDCIssuer]:
    """A generic OIDC issuer whose ``iss`` is its own loopback URL."""
    with OIDCIssuer() as issuer:
        yield issuer


@pytest.fixture
def github_issuer() -> Iterator[OIDCIssuer]:
    """An issuer whose tokens say ``iss=https://token.actions.githubusercontent.com``."""
    with OIDCIssuer("https://token.actions.githubusercontent.com") as issuer:
        yield issuer


@pytest.fixture
def google_issuer() -> Iterator[OIDCIssuer]:
    """An issuer whose tokens say ``iss=https://accounts.google.com``."""
    with OIDCIssuer("https://accounts.google.com", lifetime=3600) as issuer:
        yield issuer


@pytest.fixture
def github_actions(
    github_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GitHubActionsTokenEndpoint]:
    """The GitHub Actions token endpoint, with its variables set in ``os.environ``."""
    with GitHubActionsTokenEndpoint(github_issuer) as endpoint:
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        yield endpoint


@pytest.fixture
def gcp_metadata(google_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[GCPMetadataServer]:
    """The GCP metadata server, with ``GCE_METADATA_HOST`` pointing at it."""
    with GCPMetadataServer(google_issuer) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server
