"""gunicorn --preload with sync workers, forked while the master renews its credentials.

Every request succeeds, and STS and Entra see at most one exchange per credential lifetime
per process (with the file cache: per host).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    BedrockRuntimeEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    STSEmulator,
)
from oidc_credential_chain.testing._server import Fault, Request

APPS = Path(__file__).parent / "apps"
WORKERS = 3
LIFETIME = 4.0
SLOW = 2.0
REQUESTS = 24


@dataclasses.dataclass
class SlowAfterFirst(Fault):
    """Delays the second request only: the master's renewal, in flight when the workers fork."""

    seen: int = 0

    def applies_to(self, request: Request) -> bool:
        self.seen += 1
        return self.seen >= 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body[-500:]
        return dict(json.loads(body))
    finally:
        connection.close()


@pytest.fixture
def gunicorn(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    role: str,
    sts: STSEmulator,
    trusting_entra: EntraEmulator,
) -> Iterator[Any]:
    def start() -> tuple[int, float]:
        port = _free_port()
        env = {
            **os.environ,
            "GATEWAY_ROLE_ARN": role,
            "GATEWAY_LIFETIME": str(LIFETIME),
            "OIDC_CREDENTIAL_CHAIN_AUTOLOAD": "0",
            "PYTHONPATH": os.pathsep.join([str(APPS), os.environ.get("PYTHONPATH", "")]),
        }
        started = time.monotonic()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--preload",
                "-w",
                str(WORKERS),
                "-k",
                "sync",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "gateway:application",
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        servers.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port, started
            except OSError:
                time.sleep(0.05)
        raise AssertionError("gunicorn did not start")

    servers: list[subprocess.Popen[bytes]] = []
    yield start
    for server in servers:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.parametrize("file_cache", [False, True], ids=["per-process", "file-cache"])
def test_gunicorn_preload_workers_forked_during_a_refresh(
    gunicorn: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    github: GitHubActionsTokenEndpoint,
    sts: STSEmulator,
    trusting_entra: EntraEmulator,
    bedrock: BedrockRuntimeEmulator,
    azure_openai: AzureOpenAIEmulator,
    file_cache: bool,
) -> None:
    if file_cache:
        monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
        monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    sts.credential_lifetime = LIFETIME
    trusting_entra.expires_in = int(LIFETIME)
    sts.faults.add(SlowAfterFirst(delay=SLOW))
    trusting_entra.faults.add(SlowAfterFirst(delay=SLOW))

    port, started = gunicorn()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _get(port), range(REQUESTS)))
    elapsed = time.monotonic() - started

    assert all(a["bedrock"] and a["openai"] for a in answers)
    assert bedrock.count() == len(bedrock.calls) == REQUESTS  # Bedrock refused none
    assert azure_openai.unauthorized == 0
    # One exchange per credential lifetime (at most 1 / 0.7 refreshes per lifetime) per process:
    # the master and each worker; with the file cache, per host.
    lifetimes = 1 + math.ceil(elapsed / (0.7 * LIFETIME))
    processes = 1 if file_cache else 1 + WORKERS
    assert sts.calls() <= processes * lifetimes + (1 if file_cache else 0)
    assert trusting_entra.token_requests <= processes * lifetimes + (1 if file_cache else 0)
    assert github.count() == 2  # the master's ID tokens (one per audience) served every exchange
