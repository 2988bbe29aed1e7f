"""GitHub-style identity → AWS STS and Entra ID on loopback, shared by the soak and LiteLLM benchmarks."""

from __future__ import annotations

import contextlib
import os

from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    BedrockRuntimeEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    STSEmulator,
)
from oidc_credential_chain.testing.tls import loopback_ca

AWS_SPEC = "oidc/github/sts.amazonaws.com"
AZURE_SPEC = "oidc/github/api://AzureADTokenExchange"
SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"


class FederatedWorld:
    """Issuer, GitHub token endpoint, STS and Entra (plus Bedrock and Azure OpenAI when asked),
    with every token and credential living ``lifetime`` seconds and ``os.environ`` pointing at them."""

    def __init__(
        self,
        stack: contextlib.ExitStack,
        lifetime: int,
        *,
        model_endpoints: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        ca = loopback_ca()
        self.issuer = stack.enter_context(OIDCIssuer("https://token.actions.githubusercontent.com"))
        self.github = stack.enter_context(GitHubActionsTokenEndpoint(self.issuer))
        self.sts = stack.enter_context(STSEmulator())
        self.sts.credential_lifetime = float(lifetime)
        self.entra = stack.enter_context(EntraEmulator(expires_in=lifetime))
        self.bedrock: BedrockRuntimeEmulator | None = None
        self.aoai: AzureOpenAIEmulator | None = None
        env = {**self.github.env(), **self.sts.env(), **self.entra.env(), **ca.env()}
        if model_endpoints:
            self.github.lifetime = lifetime
            self.bedrock = stack.enter_context(BedrockRuntimeEmulator(self.sts))
            self.aoai = stack.enter_context(AzureOpenAIEmulator(self.entra))
            env.update(self.bedrock.env())
        self.sts.register_provider(self.issuer)
        self.role = self.sts.allow("bedrock", self.issuer, sub="repo:octo-org/octo-repo:*")
        self.entra.add_federated_credential(self.issuer, SUBJECT)
        for name in list(os.environ):
            if name.startswith(("AWS_", "AZURE_", "OIDC_CREDENTIAL_CHAIN_")):
                del os.environ[name]
        os.environ.update(
            {
                **env,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "NO_PROXY": "127.0.0.1,localhost",
                **(extra_env or {}),
            }
        )

    def reset(self) -> None:
        for server in (self.github, self.sts, self.entra, self.issuer):
            server.reset_counts()
