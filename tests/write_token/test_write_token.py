"""write-token: atomic writes, --mode, --watch rotation, backoff, SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oidc_credential_chain.cli import main
from oidc_credential_chain.errors import ConfigurationError
from oidc_credential_chain.jwt import decode_unverified
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint
from oidc_credential_chain.write_token import (
    TokenFileWatcher,
    WriteEvent,
    parse_mode,
    write_token_file,
)

SPEC = "oidc/github/sts.amazonaws.com"


def test_write_is_atomic_without_newline_and_with_mode(tmp_path: Path) -> None:
    out = tmp_path / "token"
    write_token_file(out, "a.b.c\n")
    assert out.read_bytes() == b"a.b.c"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    write_token_file(out, "d.e.f", mode=0o640)
    assert out.read_bytes() == b"d.e.f"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token"]  # no temporary file left


def test_readers_never_see_a_partial_token(tmp_path: Path) -> None:
    out = tmp_path / "token"
    tokens = ["x" * 40_000 + ".y.z", "p" * 40_000 + ".q.r"]
    write_token_file(out, tokens[0])
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(out.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        write_token_file(out, tokens[i % 2])
    stop.set()
    reader.join()
    assert seen <= {t.encode() for t in tokens}


def test_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"the directory .*nowhere.* does not exist"):
        write_token_file(tmp_path / "nowhere" / "token", "a.b.c")


def test_directory_target_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"it is a directory"):
        write_token_file(tmp_path, "a.b.c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rw", "is not an octal file mode"),
        ("0800", "is not an octal file mode"),
        ("7777", "beyond rwx"),
        ("0200", "unreadable by its owner"),
    ],
)
def test_bad_modes(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_mode(text)


def test_good_modes() -> None:
    assert parse_mode("0600") == parse_mode("600") == parse_mode("0o600") == 0o600


def test_cli_writes_once(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "token"
    assert main(["write-token", SPEC, "--out", str(out), "--mode", "0640"]) == 0
    text = out.read_text()
    assert not text.endswith("\n")
    _, claims = decode_unverified(text)
    assert claims["aud"] == "sts.amazonaws.com"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    captured = capsys.readouterr()
    assert captured.out == "" and text not in captured.err


def test_cli_missing_variables_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["write-token", SPEC, "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in err and "is not set" in err
    assert not (tmp_path / "t").exists()


def test_cli_bad_mode_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["write-token", SPEC, "--out", str(tmp_path / "t"), "--mode", "abc"]) == 2
    assert "--mode 'abc' is not an octal file mode" in capsys.readouterr().err


def test_cli_idp_down_exit_1(
    github_actions: GitHubActionsTokenEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "1")
    github_actions.faults.fail(503, times=5)
    assert main(["write-token", SPEC, "--out", str(tmp_path / "t")]) == 1
    assert "HTTP 503" in capsys.readouterr().err


def _run_watcher(watcher: TokenFileWatcher) -> threading.Thread:
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    return thread


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_watch_rewrites_before_expiry(github_actions: GitHubActionsTokenEndpoint, tmp_path: Path) -> None:
    github_actions.lifetime = 2  # short tokens are rewritten at half their life: every 1 s
    out = tmp_path / "token"
    events: list[WriteEvent] = []
    watcher = TokenFileWatcher(SPEC, out, on_event=events.append)
    thread = _run_watcher(watcher)
    try:
        _wait_for(lambda: watcher.writes >= 3)
    finally:
        watcher.stop()
        thread.join(10)
    assert not thread.is_alive()
    jtis = {e.token.claims["jti"] for e in events if e.token is not None}
    assert len(jtis) >= 3
    for event in events:
        assert event.token is not None and 0.5 <= event.next_in <= 1.0
    # The file holds a token that is not yet expired.
    _, claims = decode_unverified(out.read_text())
    assert claims["exp"] > time.time() - 1


def test_watch_backs_off_on_idp_errors_and_keeps_the_old_file(
    github_actions: GitHubActionsTokenEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "1")
    github_actions.lifetime = 2
    out = tmp_path / "token"
    events: list[WriteEvent] = []
    watcher = TokenFileWatcher(SPEC, out, on_event=events.append, backoff_initial=0.1, backoff_max=0.4)
    thread = _run_watcher(watcher)
    try:
        _wait_for(lambda: watcher.writes >= 1)
        first = out.read_text()
        github_actions.faults.fail(503, times=4)
        _wait_for(lambda: watcher.failures >= 4)
        assert out.read_text() == first  # the last good token stays while the IdP fails
        _wait_for(lambda: watcher.writes >= 2)
    finally:
        watcher.stop()
        thread.join(10)
    failures = [e for e in events if e.error is not None]
    delays = [e.next_in for e in failures]
    assert len(failures) == 4
    assert delays[0] <= 0.1 and delays[-1] > delays[0]  # exponential: 0.1, 0.2, 0.4, 0.4 (with jitter)
    assert all(d <= 0.4 for d in delays)
    assert "HTTP 503" in str(failures[0].error)
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "could not refresh" in r.getMessage()
    ]
    assert len(warnings) == 4
    token = out.read_text()
    assert all(token not in r.getMessage() for r in caplog.records)


def test_watch_raises_a_configuration_error_at_start(tmp_path: Path) -> None:
    watcher = TokenFileWatcher(SPEC, tmp_path / "token")
    with pytest.raises(ConfigurationError, match="ACTIONS_ID_TOKEN_REQUEST_URL"):
        watcher.run()


def _subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONS_", "AWS_", "AZURE_"))}
    env.update(extra)
    return env


def test_cli_watch_exits_cleanly_on_sigterm(
    github_actions: GitHubActionsTokenEndpoint, tmp_path: Path
) -> None:
    github_actions.lifetime = 2
    out = tmp_path / "token"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_credential_chain.cli",
            "write-token",
            SPEC,
            "--out",
            str(out),
            "--watch",
        ],
        env=_subprocess_env(github_actions.env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: github_actions.count() >= 2 and out.exists())
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert stdout == ""
    assert stderr.count(f"wrote {SPEC} to {out}") >= 2
    assert "stopped;" in stderr
    token = out.read_text()
    assert token not in stderr
    decode_unverified(token)
