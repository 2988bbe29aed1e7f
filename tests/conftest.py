from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from oidc_credential_chain._api import clear_token_cache
from oidc_credential_chain._internal.http import reset_default_client
from oidc_credential_chain._internal.log import reset_warnings
from oidc_credential_chain.aws.exchange_cache import clear_exchange_cache
from oidc_credential_chain.providers.registry import reset_registry

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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each module whose tests share a module- or class-scoped fixture on one xdist worker.

    ``./scripts/check`` runs ``--dist loadgroup``: without a group, such a module's tests would be
    spread over the workers and each worker would build the fixture (a venv, an emulator world)
    again. An explicit ``xdist_group`` marker wins.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is None:
            continue
        scopes = {defs[-1].scope for defs in fixtures.name2fixturedefs.values() if defs}
        if scopes & {"module", "class"}:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


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
    _reset()
    yield
    _reset()


def _reset() -> None:
    # Only when already loaded, so tests of other areas do not import the Azure libraries.
    azure_provider = sys.modules.get("oidc_credential_chain.azure._token_provider")
    if azure_provider is not None:
        azure_provider.clear_shared_credentials()
    aws_installer = sys.modules.get("oidc_credential_chain.aws.installer")
    if aws_installer is not None:
        aws_installer.uninstall()
    clear_token_cache()
    clear_exchange_cache()
    reset_default_client()
    reset_warnings()
    reset_registry()
