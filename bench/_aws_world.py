"""Loopback emulators and environment shared by the AWS benchmarks."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from oidc_credential_chain.testing import (
    BedrockRuntimeEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "ping"}]}]
SPEC = "oidc/github/sts.amazonaws.com"


@dataclass
class World:
    issuer: OIDCIssuer
    github: GitHubActionsTokenEndpoint
    sts: STSEmulator
    bedrock: BedrockRuntimeEmulator
    role: str
    token_file: str

    def reset_counts(self) -> None:
        for server in (self.issuer, self.github, self.sts, self.bedrock):
            server.reset_counts()
        self.bedrock.calls.clear()


@contextlib.contextmanager
def aws_world() -> Iterator[World]:
    """GitHub issuer + token endpoint, STS, Bedrock; the process environment pointed at them.

    ``token_file`` holds a long-lived token from the same issuer, for botocore's own
    ``AWS_WEB_IDENTITY_TOKEN_FILE`` provider (the baseline).
    """
    logging.getLogger("oidc_credential_chain").setLevel(logging.ERROR)
    saved = dict(os.environ)
    with contextlib.ExitStack() as stack:
        issuer = stack.enter_context(OIDCIssuer("https://token.actions.githubusercontent.com", lifetime=3600))
        github = stack.enter_context(GitHubActionsTokenEndpoint(issuer))
        github.lifetime = 3600
        sts = stack.enter_context(STSEmulator())
        bedrock = stack.enter_context(BedrockRuntimeEmulator(sts))
        directory = stack.enter_context(tempfile.TemporaryDirectory())
        sts.register_provider(issuer)
        role = sts.allow("bedrock", issuer, sub="repo:octo-org/octo-repo:*")
        token_file = os.path.join(directory, "token")
        with open(token_file, "w") as handle:
            handle.write(issuer.mint({**github.claims, "aud": "sts.amazonaws.com"}, lifetime=3600))
        for name in list(os.environ):
            if name.startswith("AWS_"):
                del os.environ[name]
        os.environ.update(
            {
                **github.env(),
                **sts.env(),
                **bedrock.env(),
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.path.join(directory, "config"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(directory, "credentials"),
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        try:
            yield World(issuer, github, sts, bedrock, role, token_file)
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.contextmanager
def botocore_web_identity_env(world: World) -> Iterator[None]:
    """botocore's own provider: ``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ROLE_ARN``."""
    os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"] = world.token_file
    os.environ["AWS_ROLE_ARN"] = world.role
    os.environ["AWS_ROLE_SESSION_NAME"] = "botocore-baseline"
    try:
        yield
    finally:
        for name in ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"):
            os.environ.pop(name, None)
