"""Another project's pytest run, in an environment with the wheel installed: nothing changes.

No plugin is registered by installing the package (no ``pytest11`` entry point), so pytest
neither loads our fixtures nor marks the startup module for assertion rewriting; a project
that wants the emulator fixtures opts in with ``pytest_plugins``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.footprint.support import clean_env, run

ONE_TEST = textwrap.dedent(
    """
    def test_arithmetic():
        assert 1 + 1 == 2
    """
)


def downstream(tmp_path: Path, files: dict[str, str]) -> Path:
    project = tmp_path / "downstream"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "downstream"\nversion = "1"\n')
    for name, text in files.items():
        (project / name).write_text(text)
    return project


def pytest_in(venv: Path, project: Path, home: Path, *args: str) -> tuple[int, str]:
    # pytest-asyncio (from the test environment, not ours) warns about its own unset option.
    done = run(
        [str(venv), "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-p", "no:asyncio", "-q", *args],
        env=clean_env(home),
        cwd=str(project),
    )
    return done.returncode, done.stdout + done.stderr


def test_a_one_test_project_passes_with_warnings_as_errors(venv: Path, tmp_path: Path) -> None:
    project = downstream(tmp_path, {"test_one.py": ONE_TEST})

    code, output = pytest_in(venv, project, tmp_path, "-rw")

    assert code == 0, output
    assert "1 passed" in output
    assert "warning" not in output.lower()
    assert "oidc_credential_chain" not in output


def test_installing_the_package_registers_no_pytest_plugin(venv: Path, tmp_path: Path) -> None:
    project = downstream(tmp_path, {"test_one.py": ONE_TEST})

    code, output = pytest_in(venv, project, tmp_path, "--fixtures")

    assert code == 0, output
    assert "oidc_issuer" not in output
    assert "oidc_credential_chain" not in output


def test_a_project_opting_into_the_fixtures_gets_them(venv: Path, tmp_path: Path) -> None:
    uses_fixtures = textwrap.dedent(
        """
        import jwt

        import oidc_credential_chain

        def test_a_token_from_the_github_emulator(github_actions):
            token = oidc_credential_chain.get_id_token("oidc/github/api://example")
            assert jwt.decode(token, options={"verify_signature": False})["aud"] == "api://example"
        """
    )
    project = downstream(
        tmp_path,
        {
            "conftest.py": 'pytest_plugins = ["oidc_credential_chain.testing.pytest_plugin"]\n',
            "test_fixtures.py": uses_fixtures,
        },
    )

    code, output = pytest_in(venv, project, tmp_path)

    assert code == 0, output
    assert "1 passed" in output


def test_the_fixtures_also_load_with_dash_p(venv: Path, tmp_path: Path) -> None:
    uses_issuer = "def test_issuer(oidc_issuer):\n    assert oidc_issuer.issuer.startswith('http')\n"
    project = downstream(tmp_path, {"test_issuer.py": uses_issuer})

    code, output = pytest_in(venv, project, tmp_path, "-p", "oidc_credential_chain.testing.pytest_plugin")

    assert code == 0, output
    assert "1 passed" in output
