"""Third-party providers through a real ``oidc_credential_chain.providers`` entry point."""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, get_id_token, lifecycle, parse_spec
from oidc_credential_chain.providers import get_provider, known_providers
from oidc_credential_chain.providers.github import GitHubProvider
from oidc_credential_chain.testing import OIDCIssuer

PLUGIN = "acme_oidc_plugin"

PLUGIN_SOURCE = """
from oidc_credential_chain.providers import Argument, Provider, require_env


class AcmeProvider(Provider):
    name = "acme"
    argument = Argument.NONE
    description = "Acme CI job token ($ACME_OIDC_TOKEN)"

    def fetch(self, spec, ctx):
        return require_env(ctx.environ, "ACME_OIDC_TOKEN", spec)


class Hijack(AcmeProvider):
    name = "github"


NOT_A_PROVIDER = object()
"""

ENTRY_POINTS = f"""
[oidc_credential_chain.providers]
acme = {PLUGIN}:AcmeProvider
github = {PLUGIN}:Hijack
broken = {PLUGIN}.missing:Nope
notprovider = {PLUGIN}:NOT_A_PROVIDER
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution installed the way pip leaves one: a package and its dist-info on sys.path."""
    site = tmp_path / "site-packages"
    (site / PLUGIN).mkdir(parents=True)
    (site / PLUGIN / "__init__.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    dist_info = site / "acme_oidc_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-oidc-plugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))  # also invalidates import caches
    importlib.invalidate_caches()
    lifecycle.install(lifecycle.Lifecycle())  # a process started with the plugin installed
    yield site
    for name in [m for m in sys.modules if m == PLUGIN or m.startswith(PLUGIN + ".")]:
        del sys.modules[name]
    monkeypatch.undo()
    importlib.invalidate_caches()
    lifecycle.install(lifecycle.Lifecycle())


def test_plugin_provider_works_and_loads_only_when_asked_for(
    installed_plugin: Path, local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = local_issuer.mint({"sub": "acme-job"})
    monkeypatch.setenv("ACME_OIDC_TOKEN", token)
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", token)

    # Built-ins never look at plugins.
    parse_spec("oidc/github/sts.amazonaws.com")
    get_id_token("oidc/circleci")
    assert PLUGIN not in sys.modules
    # Listing names reads metadata only.
    names = known_providers()
    assert names[-3:] == ["acme", "broken", "notprovider"]
    assert names.count("github") == 1
    assert PLUGIN not in sys.modules

    assert get_id_token("oidc/acme") == token

    assert PLUGIN in sys.modules
    assert f"{PLUGIN}.missing" not in sys.modules
    assert get_provider("acme").description == "Acme CI job token ($ACME_OIDC_TOKEN)"


def test_plugin_cannot_replace_a_built_in(
    installed_plugin: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="oidc_credential_chain")

    known_providers()

    assert isinstance(get_provider("github"), GitHubProvider)
    assert type(get_provider("github")).__module__ == "oidc_credential_chain.providers.github"
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring provider 'github' from entry point {PLUGIN}:Hijack: "
        "it may not replace the built-in of that name"
    ]


def test_plugin_argument_rules_apply(installed_plugin: Path) -> None:
    with pytest.raises(ConfigurationError, match="'oidc/acme' takes no argument"):
        parse_spec("oidc/acme/extra")
    with pytest.raises(ConfigurationError, match="environment variable ACME_OIDC_TOKEN, which is not set"):
        get_id_token("oidc/acme")


def test_broken_plugins_are_clear_errors_and_break_nothing_else(
    installed_plugin: Path, local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec("oidc/broken")
    assert str(info.value) == (
        f"the identity provider 'broken' (entry point {PLUGIN}.missing:Nope) could not be loaded: "
        f"ModuleNotFoundError: No module named '{PLUGIN}.missing'"
    )

    with pytest.raises(ConfigurationError) as info:
        parse_spec("oidc/notprovider")
    assert str(info.value) == (
        f"the entry point {PLUGIN}:NOT_A_PROVIDER for identity provider 'notprovider' is not an "
        "oidc_credential_chain.providers.Provider"
    )

    monkeypatch.setenv("ACME_OIDC_TOKEN", local_issuer.mint())
    assert get_id_token("oidc/acme")


def test_unknown_provider_lists_plugins_too(installed_plugin: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec("oidc/unknown/x")

    message = str(info.value)
    assert message.startswith(
        "unknown identity provider 'unknown' in 'oidc/unknown...'; known providers: google, github,"
    )
    assert message.endswith(", acme, broken, notprovider")


def test_without_plugins_only_built_ins_are_known() -> None:
    names = known_providers()

    assert names[:8] == ["google", "github", "circleci", "circleci_v2", "azure", "file", "env", "env_path"]
    assert "acme" not in names
