"""pytest fixtures: one wheel built from this tree and one fresh venv with it installed, per session.

Registered for the whole suite in ``tests/conftest.py`` (``tests/aws``, ``tests/footprint``...). The venv
has nothing but the wheel (no dependencies, no index); the SDKs (boto3, azure-identity, openai,
pytest...) come from the environment running the tests through a path line, which does not run that
environment's ``.pth`` files, so its editable install of this package stays invisible.  Each test then
runs a fresh process with nothing but the variables it chose.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.footprint.support import ROOT, run


def _outer_site_dirs() -> list[str]:
    # PYTHONPATH first (CI layers the oldest supported azure-identity there), then the running
    # environment's site-packages.
    layered = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.isdir(p)]
    site_dirs = [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    purelib = sysconfig.get_paths()["purelib"]
    return [*layered, *site_dirs, *([] if purelib in site_dirs else [purelib])]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this tree (once per test session)."""
    out = tmp_path_factory.mktemp("dist")
    built = run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)])
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("oidc_credential_chain-*.whl")
    return path


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """The fresh venv's python, with the wheel installed."""
    base = tmp_path_factory.mktemp("fresh-venv")
    created = run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")])
    assert created.returncode == 0, created.stderr
    python = base / "venv" / "bin" / "python"
    installed = run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    inner = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    (Path(inner) / "zz_outer_site_packages.pth").write_text("\n".join(_outer_site_dirs()) + "\n")
    assert (Path(inner) / "oidc_credential_chain_autoload.pth").is_file()
    assert (Path(inner) / "oidc_credential_chain_autoload.start").is_file()
    return python
