from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oidc_credential_chain.testing import EmulatorServer, OIDCIssuer, Request, Response


@pytest.fixture(scope="session")
def local_issuer() -> Iterator[OIDCIssuer]:
    """Signs tokens that tests put in files and variables (no server needed to mint)."""
    issuer = OIDCIssuer("https://oidc.example.com/org/demo", lifetime=3600)
    yield issuer


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """Write ``text`` to a file under ``tmp_path`` and return its path."""

    def write(text: str | bytes, name: str = "token", mode: int = 0o600) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        path.chmod(mode)
        return path

    return write


class RecordingServer(EmulatorServer):
    """Answers every request with a fixed response and records it (a stand-in for a proxy,
    a redirect target, or something that is not the service the client expects)."""

    name = "recording"

    def __init__(self, response: Response | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.response = response or Response(418, {"message": "recorded"})

    def handle(self, request: Request) -> Response:
        return self.response


@pytest.fixture
def start_recorder() -> Iterator[Callable[..., RecordingServer]]:
    """Start :class:`RecordingServer` instances (``host=``, ``response=``); stopped after the test."""
    started: list[RecordingServer] = []

    def start(response: Response | None = None, host: str = "127.0.0.1") -> RecordingServer:
        server = RecordingServer(response, host=host)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def package_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """WARNING messages of the package's loggers captured so far."""
    caplog.set_level(logging.DEBUG, logger="oidc_credential_chain")

    def messages() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name.startswith("oidc_credential_chain") and r.levelno == logging.WARNING
        ]

    return messages
