"""Helpers of the fresh-venv tests: run a command, an identity-free environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def clean_env(home: Path, **variables: str) -> dict[str, str]:
    """A process environment with no identity in it: only ``PATH``, a private ``HOME`` and ``variables``.

    ManagedIdentityCredential, should a chain reach it, asks a closed loopback port.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:1",
        "NO_PROXY": "127.0.0.1,localhost",
        **variables,
    }
