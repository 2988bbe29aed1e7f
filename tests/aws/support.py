"""Helpers shared by the AWS tests: the wired-up emulators and a stock Converse call."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
GITHUB_SUB = "repo:octo-org/octo-repo:ref:refs/heads/main"
SPEC = "oidc/github/sts.amazonaws.com"


@dataclasses.dataclass
class AwsWorld:
    """GitHub Actions issuer + token endpoint, STS and Bedrock on loopback, wired together."""

    issuer: OIDCIssuer
    github: GitHubActionsTokenEndpoint
    sts: STSEmulator
    bedrock: BedrockRuntimeEmulator
    role: str
    monkeypatch: pytest.MonkeyPatch
    home: Path

    def use_env_identity(self, role: str | None = None, **extra: str) -> None:
        """``AWS_WEB_IDENTITY_TOKEN=oidc/github/...`` and ``AWS_ROLE_ARN`` in the environment."""
        self.monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", SPEC)
        self.monkeypatch.setenv("AWS_ROLE_ARN", role or self.role)
        for name, value in extra.items():
            self.monkeypatch.setenv(name, value)

    def write_config(self, text: str) -> None:
        Path(os.environ["AWS_CONFIG_FILE"]).write_text(text)

    def write_credentials(self, text: str) -> None:
        Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(text)

    def token_fetches(self) -> int:
        return self.github.count()


def converse(client: Any, text: str = "hello") -> str:
    response = client.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": text}]}])
    return str(response["output"]["message"]["content"][0]["text"])
