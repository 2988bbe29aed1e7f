"""Subpackages are lazy attributes of the package (PEP 562): usable after a bare import, loaded on use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import oidc_credential_chain
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, OIDCIssuer
from tests.footprint.support import ROOT, clean_env, run

SUBPACKAGES = ("aio", "aws", "azure", "gcp", "testing")


def test_a_bare_import_loads_one_module_and_each_subpackage_loads_on_use(venv: Path, tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        import asyncio
        import sys

        import oidc_credential_chain

        def ours():
            return sorted(m for m in sys.modules if m.startswith("oidc_credential_chain."))

        print(ours())
        token = asyncio.run(oidc_credential_chain.aio.get_id_token("oidc/github/api://example"))
        print(token.count("."))
        o = oidc_credential_chain
        print(o.aws.install.__module__, o.azure.OIDCCredential.__name__, o.gcp.credentials.__name__,
              o.testing.OIDCIssuer.__name__)
        """
    )
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
    ):
        done = run([str(venv), "-c", probe], env=clean_env(tmp_path, **github.env()), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    before, dots, names = done.stdout.strip().splitlines()
    assert before == "[]"
    assert dots == "2"
    assert names == "oidc_credential_chain.aws.installer OIDCCredential credentials OIDCIssuer"


def test_subpackages_are_listed_but_not_imported_by_dir() -> None:
    probe = (
        "import sys, oidc_credential_chain as o\n"
        "names = dir(o)\n"
        f"print(all(n in names for n in {SUBPACKAGES!r}), "
        "[m for m in sys.modules if m.startswith('oidc_credential_chain.')])\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=False, cwd=str(ROOT)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True []"


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError) as info:
        oidc_credential_chain.nothing_here  # noqa: B018
    assert str(info.value) == "module 'oidc_credential_chain' has no attribute 'nothing_here'"


def test_subpackages_stay_out_of_star_imports() -> None:
    assert not set(SUBPACKAGES) & set(oidc_credential_chain.__all__)
    for name in SUBPACKAGES:
        assert getattr(oidc_credential_chain, name).__name__ == f"oidc_credential_chain.{name}"
