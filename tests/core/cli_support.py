"""Run ``oidc-credential-chain`` as a real subprocess (``python -m oidc_credential_chain``)."""

from __future__ import annotations

import dataclasses
import os
import pty
import subprocess
import sys
from collections.abc import Mapping


@dataclasses.dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, tty: bool = False, timeout: float = 60
) -> CliResult:
    """Run the command line with ``args``; ``tty=True`` gives it a terminal as stdout."""
    command = [sys.executable, "-m", "oidc_credential_chain", *args]
    environ = dict(os.environ if env is None else env)
    if not tty:
        done = subprocess.run(
            command, capture_output=True, text=True, env=environ, timeout=timeout, check=False
        )
        return CliResult(done.returncode, done.stdout, done.stderr)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(command, stdout=terminal, stderr=subprocess.PIPE, env=environ, text=True)
        os.close(terminal)
        terminal = -1
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        stderr = process.stderr.read() if process.stderr else ""
        code = process.wait(timeout=timeout)
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    return CliResult(code, b"".join(chunks).decode(), stderr)
