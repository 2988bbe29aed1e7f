"""Constants and helpers shared by the Azure tests."""

from __future__ import annotations

import time

from oidc_credential_chain.testing import OIDCIssuer

SCOPE = "https://cognitiveservices.azure.com/.default"
GITHUB_SPEC = "oidc/github/api://AzureADTokenExchange"
GITHUB_SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"


class FakeClock:
    """Real time plus an offset that tests advance; moves the library, the emulators and the issuers."""

    def __init__(self, *issuers: OIDCIssuer) -> None:
        self.offset = 0.0
        self.issuers = list(issuers)

    def wall(self) -> float:
        return time.time() + self.offset

    def mono(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        for issuer in self.issuers:
            issuer.clock_offset = self.offset
