from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from oidc_credential_chain import lifecycle

# The emulator fixtures, opted into as any project does (installing the package registers no plugin),
# and the session's wheel and fresh venv.
pytest_plugins = ["oidc_credential_chain.testing.pytest_plugin", "tests.footprint.fresh_venv"]

# Variables that would let the developer's or CI's own identity leak into tests.
_AMBIENT_PREFIXES = (
    "AWS_",
    "AZURE_",
    "ACTIONS_ID_TOKEN_",
    "CIRCLE_",
    "GCE_METADATA",
    "GOOGLE_",
    "OIDC_CREDENTIAL_CHAIN_",
    "BITBUCKET_",
    "TFC_",
    "GITLAB_",
    "BUILDKITE",
    "IDENTITY_ENDPOINT",
    "MSI_",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(_AMBIENT_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    # Short budgets keep failure-path tests fast; tests that measure retries set their own.
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", "8")
    _uninstall_aws()
    # Every test runs as a new process would: its own caches, shared credentials, HTTP client,
    # loaded providers and once-per-process warnings.
    with lifecycle.fresh():
        yield
    _uninstall_aws()


def _uninstall_aws() -> None:
    # Only when already loaded, so tests of other areas do not import botocore.
    aws_installer = sys.modules.get("oidc_credential_chain.aws.installer")
    if aws_installer is not None:
        aws_installer.uninstall()
