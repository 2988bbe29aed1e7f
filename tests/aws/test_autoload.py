"""The startup hook's AWS half, from the wheel installed into the session's fresh venv
(``tests/footprint/fresh_venv.py``).

Each subprocess gets nothing but environment variables.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)
from tests.footprint.support import ROOT, clean_env, run

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
        "[type(f).__name__ for f in sys.meta_path].count('ImportWatcher'))"
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
    probe = "import sys; print([type(f).__name__ for f in sys.meta_path].count('ImportWatcher'))"
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
        import oidc_credential_chain_autoload as hook
        from oidc_credential_chain.aws import installed
        session = botocore.session.Session()
        methods = [p.METHOD for p in session.get_component("credential_provider").providers]
        print(installed(), methods.index("oidc-web-identity") + 1 == methods.index("assume-role"),
              "botocore.session" in hook._pending, "azure.identity" in hook._pending)
        """
    )
    done = run([str(venv), "-c", probe], env=clean_env(tmp_path), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    # botocore is hooked and no longer watched; the finder stays for the other SDKs.
    assert done.stdout.split() == ["True", "True", "False", "True"]


COUNT_MODULES = """
import sys
def ours():
    return sorted(m for m in sys.modules if m.partition(".")[0] == "oidc_credential_chain")
before = ours()
import boto3
after_import = ours()
session = boto3.Session()
credentials = session.get_credentials()
print(before, after_import, ours(), credentials, sep="|")
"""


def test_import_boto3_with_nothing_configured_loads_at_most_three_package_modules(
    venv: Path, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    done = run([str(venv), "-c", COUNT_MODULES], env=env, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    before, after_import, after_credentials, credentials = done.stdout.strip().split("|")
    assert before == "[]"
    loaded = ast.literal_eval(after_import)
    assert loaded == ["oidc_credential_chain", "oidc_credential_chain._botocore_hook"]
    assert len(loaded) <= 3
    # Asking for credentials with nothing configured loads nothing more either.
    assert ast.literal_eval(after_credentials) == loaded
    assert credentials == "None"


COUNT_MODULES_AIO = """
import asyncio, sys
def ours():
    return sorted(m for m in sys.modules if m.partition(".")[0] == "oidc_credential_chain")
from aiobotocore.session import AioSession
after_import = ours()
session = AioSession()
after_session = ours()
credentials = asyncio.run(session.get_credentials())
print(after_import, after_session, ours(), credentials, sep="|")
"""


@pytest.mark.aio
def test_an_aiobotocore_session_with_nothing_configured_loads_no_more_than_boto3(
    venv: Path, tmp_path: Path
) -> None:
    pytest.importorskip("aiobotocore", reason="the [aio] extra is not installed")
    env = clean_env(tmp_path, AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    done = run([str(venv), "-c", COUNT_MODULES_AIO], env=env, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    after_import, after_session, after_credentials, credentials = done.stdout.strip().split("|")
    loaded = ast.literal_eval(after_import)
    assert loaded == ["oidc_credential_chain", "oidc_credential_chain._botocore_hook"]
    assert ast.literal_eval(after_session) == loaded
    assert ast.literal_eval(after_credentials) == loaded
    assert credentials == "None"


def test_a_profile_chosen_after_the_session_was_created_still_gets_the_provider(
    venv: Path, tmp_path: Path
) -> None:
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
        STSEmulator() as sts,
    ):
        sts.register_provider(issuer)
        role = sts.allow("ci", issuer, sub="repo:octo-org/octo-repo:*")
        (tmp_path / "aws-config").write_text(
            f"[profile ci]\noidc_web_identity_token = oidc/github/sts.amazonaws.com\noidc_role_arn = {role}\n"
        )
        env = clean_env(tmp_path, **github.env(), **sts.env(), AWS_DEFAULT_REGION="us-east-1")
        probe = textwrap.dedent(
            """
            import botocore.session
            session = botocore.session.Session()
            session.set_config_variable("profile", "ci")
            credentials = session.get_credentials()
            print(credentials.method, credentials.access_key == "", sep="|")
            """
        )
        done = run([str(venv), "-c", probe], env=env, cwd=str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "oidc-web-identity|False"
        assert sts.calls() == 1


ASYNC_CODE = textwrap.dedent(
    """
    import asyncio
    from aiobotocore.session import get_session

    async def main():
        async with get_session().create_client("bedrock-runtime") as bedrock:
            response = await bedrock.converse(
                modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
                messages=[{"role": "user", "content": [{"text": "who am I?"}]}],
            )
        print(response["output"]["message"]["content"][0]["text"])

    asyncio.run(main())
    """
)


@pytest.mark.aio
def test_environment_variables_alone_make_stock_aiobotocore_work(venv: Path, tmp_path: Path) -> None:
    pytest.importorskip("aiobotocore", reason="the [aio] extra is not installed")
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
        script = tmp_path / "plain_async.py"
        script.write_text(ASYNC_CODE)
        done = run([str(venv), str(script)], env=env, cwd=str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert "assumed-role/bedrock/oidc-credential-chain-" in done.stdout
        assert sts.calls() == 1
        assert bedrock.callers() == [sts.issued[-1].arn]
