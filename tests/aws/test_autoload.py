"""The startup hook, from a wheel installed into a fresh virtual environment.

The wheel is built from this tree and installed with pip (no dependencies, no index) into a
new venv whose only other packages are the outer environment's (boto3, botocore, requests),
made visible through a path line.  Each subprocess gets nothing but environment variables.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)

ROOT = Path(__file__).resolve().parents[2]

PLAIN_CODE = textwrap.dedent(
    """
    import sys
    import boto3

    bedrock = boto3.client("bedrock-runtime")
    response = bedrock.converse(
        modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
        messages=[{"role": "user", "content": [{"text": "who am I?"}]}],
    )
    print(response["output"]["message"]["content"][0]["text"])
    print("loaded from", sys.modules["oidc_credential_chain"].__file__)
    """
)


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The new venv's python, with the wheel installed."""
    base = tmp_path_factory.mktemp("autoload")
    built = run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(base / "dist"),
            str(ROOT),
        ]
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (base / "dist").glob("oidc_credential_chain-*.whl")
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
        ]
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    inner = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    # boto3 & co. from the outer environment; a path line does not run the outer .pth files,
    # so the outer editable install of this package stays invisible.
    outer = sysconfig.get_paths()["purelib"]
    (Path(inner) / "zz_outer_site_packages.pth").write_text(outer + "\n")
    assert (Path(inner) / "oidc_credential_chain_autoload.pth").is_file()
    assert (Path(inner) / "oidc_credential_chain_autoload.start").is_file()
    yield python


def clean_env(home: Path, **variables: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        **variables,
    }


def test_environment_variables_alone_make_stock_boto3_work(venv: Path, tmp_path: Path) -> None:
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
        STSEmulator() as sts,
        BedrockRuntimeEmulator(sts) as bedrock,
    ):
        sts.register_provider(issuer)
        role = sts.allow("bedrock", issuer, sub="repo:octo-org/octo-repo:*")
        env = clean_env(
            tmp_path,
            **github.env(),
            **sts.env(),
            **bedrock.env(),
            AWS_WEB_IDENTITY_TOKEN="oidc/github/sts.amazonaws.com",
            AWS_ROLE_ARN=role,
            AWS_DEFAULT_REGION="us-east-1",
        )
        script = tmp_path / "plain.py"
        script.write_text(PLAIN_CODE)
        done = run([str(venv), str(script)], env=env, cwd=str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert "assumed-role/bedrock/oidc-credential-chain-" in done.stdout
        assert f"loaded from {venv.parent.parent}" in done.stdout
        assert sts.calls() == 1
        assert bedrock.callers() == [sts.issued[-1].arn]

        env["OIDC_CREDENTIAL_CHAIN_AUTOLOAD"] = "0"
        off = run([str(venv), str(script)], env=env, cwd=str(tmp_path))
        assert off.returncode == 1
        assert "NoCredentialsError" in off.stderr
        assert sts.calls() == 1


def test_the_hook_imports_nothing_and_costs_little(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import sys; "
        "print('botocore' in sys.modules, 'oidc_credential_chain' in sys.modules, "
        "[type(f).__name__ for f in sys.meta_path].count('BotocoreWatcher'))"
    )
    done = run([str(venv), "-X", "importtime", "-c", probe], env=clean_env(tmp_path), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "1"]
    match = re.search(
        r"import time:\s+(\d+) \|\s+(\d+) \|\s+oidc_credential_chain_autoload$", done.stderr, re.MULTILINE
    )
    assert match is not None, done.stderr
    own, cumulative = int(match.group(1)), int(match.group(2))
    assert own == cumulative  # it imported nothing (a module's own imports add to its cumulative time)
    assert cumulative < 50_000  # microseconds; a generous bound (it is far below a millisecond)
    assert "botocore" not in done.stderr


def test_the_hook_is_off_when_disabled_or_without_site(venv: Path, tmp_path: Path) -> None:
    probe = "import sys; print([type(f).__name__ for f in sys.meta_path].count('BotocoreWatcher'))"
    off = run([str(venv), "-c", probe], env=clean_env(tmp_path, OIDC_CREDENTIAL_CHAIN_AUTOLOAD="0"))
    assert off.stdout.strip() == "0"
    no_site = run([str(venv), "-S", "-c", probe], env=clean_env(tmp_path))
    assert no_site.stdout.strip() == "0"


def test_the_pep_829_entry_point_resolves(venv: Path, tmp_path: Path) -> None:
    start = next(
        line
        for line in (ROOT / "oidc_credential_chain_autoload.start").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    probe = f"import pkgutil; print(callable(pkgutil.resolve_name({start!r})))"
    done = run([str(venv), "-c", probe], env=clean_env(tmp_path), cwd=str(tmp_path))
    assert done.stdout.strip() == "True", done.stderr


def test_the_provider_is_installed_once_botocore_session_is_imported(venv: Path, tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        import sys
        import botocore.session
        from oidc_credential_chain.aws import installed
        session = botocore.session.Session()
        methods = [p.METHOD for p in session.get_component("credential_provider").providers]
        print(installed(), methods.index("oidc-web-identity") + 1 == methods.index("assume-role"),
              [type(f).__name__ for f in sys.meta_path].count("BotocoreWatcher"))
        """
    )
    done = run([str(venv), "-c", probe], env=clean_env(tmp_path), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "0"]
