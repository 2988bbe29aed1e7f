"""Importing the AWS subpackage costs nothing heavy; missing extras give clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import oidc_credential_chain.aws as aws
from oidc_credential_chain import ConfigurationError

HEAVY = ("boto3", "botocore", "azure", "openai", "google", "requests", "jwt", "cryptography")


def test_importing_the_aws_modules_imports_no_sdk() -> None:
    probe = (
        "import sys\n"
        "import oidc_credential_chain.aws\n"
        "import oidc_credential_chain.aws.installer, oidc_credential_chain.aws.provider\n"
        "import oidc_credential_chain.aws.boto_session, oidc_credential_chain.aws.credential_process\n"
        "import oidc_credential_chain.aws.core, oidc_credential_chain.aws.chain\n"
        "import oidc_credential_chain.aws.credentials, oidc_credential_chain.aws.aio.provider\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_lazy_names() -> None:
    assert callable(aws.install) and callable(aws.session) and callable(aws.uninstall)
    assert "session" in dir(aws)
    with pytest.raises(AttributeError):
        aws.nothing_here  # noqa: B018


def test_install_without_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(ConfigurationError) as info:
        aws.install()
    assert "needs botocore: pip install 'oidc-credential-chain[aws]'" in str(info.value)


def test_session_without_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ConfigurationError) as info:
        aws.session(role_arn="arn:aws:iam::123456789012:role/r", web_identity_token="oidc/github")
    assert "needs boto3: pip install 'oidc-credential-chain[aws]'" in str(info.value)
