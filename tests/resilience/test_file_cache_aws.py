"""The file cache in the AWS exchange: ``credential-process`` processes and library sessions."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain import lifecycle
from oidc_credential_chain._internal import clock
from oidc_credential_chain._internal.file_cache import FileCache

SPEC = "oidc/github/sts.amazonaws.com"
AUD = "sts.amazonaws.com"


def _cli(
    world: Any, cache_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "OIDC_CREDENTIAL_CHAIN_CACHE_DIR": str(cache_dir),
        **(env or {}),
    }
    command = [sys.executable, "-m", "oidc_credential_chain.cli", "aws", "credential-process"]
    command += ["--role-arn", world.role_arn, "--token", SPEC, *extra]
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _cli_key(world: Any) -> str:
    """The key ``credential-process`` files its entry under (source identity, STS endpoint and region)."""
    from oidc_credential_chain.aws.config import WebIdentityConfig
    from oidc_credential_chain.aws.exchange_cache import source_identity
    from oidc_credential_chain.aws.file_cache import entry_key

    config = WebIdentityConfig.create(token=SPEC, role_arn=world.role_arn)
    issuer = (os.environ["AWS_ENDPOINT_URL_STS"], "us-east-1")
    return entry_key(config, {}, issuer=issuer, source=source_identity(config))


def _outputs(procs: list[subprocess.Popen[bytes]]) -> list[dict[str, Any]]:
    documents = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        documents.append(json.loads(out))
    return documents


def test_sixteen_credential_processes_started_together_make_one_sts_call(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    cache_dir = tmp_path / "cache"
    documents = _outputs([_cli(aws_world, cache_dir) for _ in range(16)])
    assert aws_world.sts_calls == 1
    # Keyed by the token's source (request URL and request token), so only the first fetched a token.
    assert aws_world.idp_calls == 1
    assert len({d["AccessKeyId"] for d in documents}) == 1
    assert all(d["Version"] == 1 and d["Expiration"] for d in documents)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    entries = list(cache_dir.glob("*.json"))
    assert len(entries) == 1 and stat.S_IMODE(entries[0].stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "env",
    [{"CI": "true"}, {"OIDC_CREDENTIAL_CHAIN_CACHE": "0"}],
    ids=["CI", "switched-off"],
)
def test_credential_process_without_the_cache(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    cache_dir = tmp_path / "cache"
    documents = _outputs([_cli(aws_world, cache_dir, env=env) for _ in range(3)])
    assert aws_world.sts_calls == 3
    assert len({d["AccessKeyId"] for d in documents}) == 3
    assert not cache_dir.exists() or not list(cache_dir.glob("*.json"))


def test_credential_process_never_hands_out_cached_credentials_with_under_15_minutes_left(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    cache_dir = tmp_path / "cache"
    key = _cli_key(aws_world)
    now = clock.now()
    stale = {
        "AccessKeyId": "ASIASTALEKEY0000000",
        "SecretAccessKey": "stale-secret",
        "SessionToken": "stale-token",
    }
    FileCache(str(cache_dir)).put(key, stale, issued_at=now - 3000, expires_at=now + 600)
    (document,) = _outputs([_cli(aws_world, cache_dir)])
    assert document["AccessKeyId"] != stale["AccessKeyId"]
    assert aws_world.sts_calls == 1
    # The fresh credentials replaced the entry: the next run uses them without calling STS.
    (again,) = _outputs([_cli(aws_world, cache_dir)])
    assert again["AccessKeyId"] == document["AccessKeyId"]
    assert aws_world.sts_calls == 1


def test_corrupt_entry_is_replaced_not_trusted(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    cache_dir = tmp_path / "cache"
    key = _cli_key(aws_world)
    now = clock.now()
    # Well-formed as an entry, but its data is not credentials.
    FileCache(str(cache_dir)).put(key, {"AccessKeyId": 42}, issued_at=now, expires_at=now + 3600)
    (document,) = _outputs([_cli(aws_world, cache_dir)])
    assert document["AccessKeyId"].startswith("ASIA")
    assert aws_world.sts_calls == 1


def test_library_is_opt_in(aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import oidc_credential_chain.aws as ocaws

    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(cache_dir))
    # Off by default: nothing is written.
    aws_world.call()
    assert not cache_dir.exists()
    # An argument turns it on for one session; another process (here: a new lifecycle owner) reuses it.
    lifecycle.install(lifecycle.Lifecycle())
    session = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC, file_cache=True)
    first = session.get_credentials().get_frozen_credentials().access_key
    assert len(list(cache_dir.glob("*.json"))) == 1
    lifecycle.install(lifecycle.Lifecycle())
    calls = aws_world.sts_calls
    again = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC, file_cache=True)
    assert again.get_credentials().get_frozen_credentials().access_key == first
    assert aws_world.sts_calls == calls
    # So does the environment variable.
    lifecycle.install(lifecycle.Lifecycle())
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
    env_session = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC)
    assert env_session.get_credentials().get_frozen_credentials().access_key == first
    assert aws_world.sts_calls == calls


def test_different_identities_never_share_an_entry(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import oidc_credential_chain.aws as ocaws

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
    first = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC)
    key_a = first.get_credentials().get_frozen_credentials().access_key
    # Same role, same spec, another job (another branch): a new exchange, a second entry.
    lifecycle.install(lifecycle.Lifecycle())
    aws_world.github.claims["sub"] = "repo:octo-org/octo-repo:ref:refs/heads/dev"
    aws_world.github.request_token = "ghs_another-job-request-token-0000"
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", aws_world.github.request_token)
    second = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC)
    key_b = second.get_credentials().get_frozen_credentials().access_key
    assert key_a != key_b
    assert aws_world.sts_calls == 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2


def test_unsafe_cache_directory_is_refused_and_the_exchange_still_works(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import oidc_credential_chain.aws as ocaws

    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "cache").symlink_to(real)
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    caplog.set_level(logging.WARNING)
    session = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC, file_cache=True)
    assert session.get_credentials().get_frozen_credentials().access_key.startswith("ASIA")
    assert "not using the credential file cache" in caplog.text and "symlink" in caplog.text
    assert list(real.iterdir()) == []


def test_locally_read_tokens_are_keyed_by_their_claims(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token in a variable costs no request: its entry is keyed by iss/sub/aud, so a new
    # identity in the same variable never reads the previous one's entry.
    import oidc_credential_chain.aws as ocaws
    from oidc_credential_chain._api import clear_token_cache

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
    issuer = aws_world.github.issuer
    monkeypatch.setenv(
        "CI_TOKEN", issuer.mint({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "aud": AUD})
    )
    first = ocaws.session(role_arn=aws_world.role_arn, web_identity_token="oidc/env/CI_TOKEN")
    key_a = first.get_credentials().get_frozen_credentials().access_key
    ocaws.clear_exchange_cache()
    clear_token_cache()
    monkeypatch.setenv(
        "CI_TOKEN", issuer.mint({"sub": "repo:octo-org/octo-repo:ref:refs/heads/dev", "aud": AUD})
    )
    second = ocaws.session(role_arn=aws_world.role_arn, web_identity_token="oidc/env/CI_TOKEN")
    assert second.get_credentials().get_frozen_credentials().access_key != key_a
    assert aws_world.sts_calls == 2


def test_the_sts_endpoint_is_part_of_the_key(
    aws_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Credentials issued by one endpoint are never served when the configuration points at another.
    import oidc_credential_chain.aws as ocaws
    from oidc_credential_chain.testing import STSEmulator

    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CACHE", "1")
    first = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC)
    key_a = first.get_credentials().get_frozen_credentials().access_key
    with STSEmulator() as other:
        other.register_provider(aws_world.github.issuer)
        other.allow("bedrock", aws_world.github.issuer, sub="repo:octo-org/octo-repo:*")
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", other.url)
        ocaws.clear_exchange_cache()
        second = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC)
        key_b = second.get_credentials().get_frozen_credentials().access_key
        assert key_b != key_a
        assert other.lookup(key_b) is not None and other.calls() == 1
        # ... and a region of its own is another issuer too.
        ocaws.clear_exchange_cache()
        third = ocaws.session(role_arn=aws_world.role_arn, web_identity_token=SPEC, region_name="eu-west-1")
        assert third.get_credentials().get_frozen_credentials().access_key not in (key_a, key_b)
        assert other.calls() == 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3
