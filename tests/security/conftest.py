"""Fixtures for the attack tests: a hostile server on loopback and a canary environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from oidc_credential_chain.testing import EmulatorServer, OIDCIssuer, Request, Response

#: A GitHub-shaped request token: it must never appear in any message.
REQUEST_TOKEN = "ghs_SECURITYcanaryREQUESTtoken0123456789XYZ"


class HostileServer(EmulatorServer):
    """Answers every request with one fixed response, whatever was asked."""

    name = "hostile"

    def __init__(self, response: Response, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.response = response

    def handle(self, request: Request) -> Response:
        return self.response


@pytest.fixture
def hostile() -> Iterator[Callable[[Response], HostileServer]]:
    """Start a :class:`HostileServer` answering ``response``; stopped after the test."""
    started: list[HostileServer] = []

    def start(response: Response) -> HostileServer:
        server = HostileServer(response)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def canary_jwt() -> str:
    """A real signed JWT (several hundred characters: longer than a file name may be)."""
    issuer = OIDCIssuer("https://canary.example.com/security", lifetime=3600)
    token = issuer.mint({"sub": "canary-subject", "aud": "canary-aud", "pad": "x" * 200})
    assert len(token) > 255
    return token


def signature(token: str) -> str:
    """The part of a JWT whose appearance anywhere means the token leaked."""
    return token.rsplit(".", 1)[1]
