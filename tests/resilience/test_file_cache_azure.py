"""The file cache in the Azure credential: ``azure token`` processes and library credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain._internal import clock
from oidc_credential_chain._internal.file_cache import FileCache

SPEC = "oidc/github/api://AzureADTokenExchange"
SCOPE = "https://cognitiveservices.azure.com/.default"


def _cli(cache_dir: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    environ = {**os.environ, "OIDC_CREDENTIAL_CHAIN_CACHE_DIR": str(cache_dir), **(env or {})}
    command = [sys.executable, "-m", "oidc_credential_chain.cli", "azure", "token", "--token", SPEC]
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _tokens(procs: list[subprocess.Popen[bytes]]) -> list[str]:
    tokens = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        tokens.append(json.loads(out)["accessToken"])
    return tokens


def test_processes_started_together_make_one_entra_request(
    azure_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    tokens = _tokens([_cli(tmp_path / "cache") for _ in range(8)])
    assert azure_world.entra_calls == 1
    assert len(set(tokens)) == 1


def test_on_ci_every_process_asks_entra(
    azure_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    tokens = _tokens([_cli(tmp_path / "cache", {"CI": "true"}) for _ in range(3)])
    assert azure_world.entra_calls == 3
    assert len(set(tokens)) == 3


def test_library_credentials_share_only_when_asked(
    azure_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oidc_credential_chain.azure import OIDCCredential

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    # Two credentials stand for two processes: each has its own in-memory cache.
    a = OIDCCredential(SPEC).get_token(SCOPE).token
    b = OIDCCredential(SPEC).get_token(SCOPE).token
    assert a != b and azure_world.entra_calls == 2
    c = OIDCCredential(SPEC, file_cache=True).get_token(SCOPE).token
    d = OIDCCredential(SPEC, file_cache=True).get_token_info(SCOPE)
    assert d.token == c and azure_world.entra_calls == 3
    assert d.refresh_on is not None and d.refresh_on < d.expires_on
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
    assert OIDCCredential(SPEC).get_token(SCOPE).token == c
    assert azure_world.entra_calls == 3


async def test_async_credentials_share_the_file_cache_like_sync_ones(
    azure_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from oidc_credential_chain.azure import OIDCCredential
    from oidc_credential_chain.azure.aio import OIDCCredential as AsyncOIDCCredential

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    # Off unless asked: each async credential (a process of its own) asks Entra.
    async with AsyncOIDCCredential(SPEC) as plain:
        assert (await plain.get_token(SCOPE)).token
    assert azure_world.entra_calls == 1
    # Asked: eight concurrent async credentials make one request and write one entry.
    shared = [AsyncOIDCCredential(SPEC, file_cache=True) for _ in range(8)]
    tokens = await asyncio.gather(*(c.get_token(SCOPE) for c in shared))
    for credential in shared:
        await credential.close()
    assert len({t.token for t in tokens}) == 1 and azure_world.entra_calls == 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    # The sync credential reads the same entry; a claims challenge always goes to Entra.
    assert OIDCCredential(SPEC, file_cache=True).get_token(SCOPE).token == tokens[0].token
    async with AsyncOIDCCredential(SPEC, file_cache=True) as challenged:
        await challenged.get_token(SCOPE, claims='{"access_token":{"nbf":{"essential":true}}}')
    assert azure_world.entra_calls == 3


def test_an_entry_inside_its_advisory_window_is_not_used(
    azure_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oidc_credential_chain._api import fetch_id_token
    from oidc_credential_chain.azure import OIDCCredential
    from oidc_credential_chain.azure._file_cache import grant_key

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    credential = OIDCCredential(SPEC, file_cache=True)
    key = grant_key(credential.settings, azure_world.entra.tenant_id, (SCOPE,), fetch_id_token(SPEC).claims)
    now = clock.now()
    old = {"access_token": "old-token", "token_type": "Bearer"}
    # An hour-long token with 10 minutes left: its advisory window (15 minutes) is open.
    FileCache(str(tmp_path / "cache")).put(key, old, issued_at=now - 3000, expires_at=now + 600)
    token = credential.get_token(SCOPE).token
    assert token != "old-token"
    assert azure_world.entra_calls == 1
