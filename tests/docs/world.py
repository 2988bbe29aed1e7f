"""One loopback world in which every documented snippet runs: the services the docs name.

The docs are written with the values a reader would see in real use (role
``arn:aws:iam::111122223333:role/bedrock``, Vertex project ``my-project``, pool provider
``.../workloadIdentityPools/github/providers/my-repo``, Azure OpenAI resource
``https://my-resource.openai.azure.com``).  The emulators are set up with exactly those names;
what cannot be a loopback name (public hosts) is rewritten to the emulator's URL before a
snippet runs (:attr:`DocsWorld.rewrites`), and the environment points every SDK at the
emulators, as ``oidc-credential-chain demo`` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    BedrockRuntimeEmulator,
    EntraEmulator,
    GCPMetadataServer,
    GitHubActionsTokenEndpoint,
    GoogleSTSEmulator,
    IAMCredentialsEmulator,
    OIDCIssuer,
    STSEmulator,
    VertexAIEmulator,
    loopback_ca,
)

ACCOUNT = "111122223333"
PROJECT = "my-project"
PROJECT_NUMBER = "123456789012"
SERVICE_ACCOUNT = "vertex-caller@my-project.iam.gserviceaccount.com"
GITHUB_SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"
AZURE_OPENAI_RESOURCE = "https://my-resource.openai.azure.com"
VERTEX_HOST = "https://us-central1-aiplatform.googleapis.com"


@dataclasses.dataclass
class DocsWorld:
    env: dict[str, str]
    #: Public URL in a snippet -> the emulator's loopback URL.
    rewrites: dict[str, str]
    sts: STSEmulator
    bedrock: BedrockRuntimeEmulator
    entra: EntraEmulator
    azure_openai: AzureOpenAIEmulator
    google_sts: GoogleSTSEmulator
    iam_credentials: IAMCredentialsEmulator
    vertex: VertexAIEmulator
    pool_provider: str
    role_arn: str


@contextlib.contextmanager
def docs_world(home: str) -> Iterator[DocsWorld]:
    """Start every emulator the docs talk to; ``env`` is a complete environment for a snippet process."""
    ca = loopback_ca()
    with contextlib.ExitStack() as stack:
        github_issuer = stack.enter_context(OIDCIssuer("https://token.actions.githubusercontent.com"))
        github = stack.enter_context(GitHubActionsTokenEndpoint(github_issuer))
        google_issuer = stack.enter_context(OIDCIssuer("https://accounts.google.com", lifetime=3600))
        metadata = stack.enter_context(GCPMetadataServer(google_issuer))
        sts = stack.enter_context(STSEmulator(account_id=ACCOUNT))
        bedrock = stack.enter_context(BedrockRuntimeEmulator(sts))
        entra = stack.enter_context(EntraEmulator())
        aoai = stack.enter_context(AzureOpenAIEmulator(entra))
        google_sts = stack.enter_context(GoogleSTSEmulator())
        iam = stack.enter_context(IAMCredentialsEmulator(google_sts))
        vertex = stack.enter_context(VertexAIEmulator(google_sts, iam, project=PROJECT))

        sts.register_provider(github_issuer)
        role = sts.allow("bedrock", github_issuer, sub="repo:octo-org/*")
        entra.add_federated_credential(github_issuer, GITHUB_SUBJECT, name="github-main")
        pool = google_sts.add_provider(
            github_issuer, project_number=PROJECT_NUMBER, pool_id="github", provider_id="my-repo"
        )
        iam.add_service_account(SERVICE_ACCOUNT, members=[pool.all_identities])

        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "AWS_CONFIG_FILE": os.path.join(home, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "aws-credentials"),
            "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **github.env(),
            **metadata.env(),
            **sts.env(),
            **bedrock.env(),
            **entra.env(),
            **aoai.env(),
            **ca.env(),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
            "AWS_ROLE_ARN": role,
            "AZURE_FEDERATED_TOKEN": "oidc/github/api://AzureADTokenExchange",
            "GCP_WORKLOAD_IDENTITY_PROVIDER": pool.audience,
            "GCP_PROJECT": PROJECT,
            # Read by the snippet runner only: where Google STS and IAM Credentials are.
            "DOCS_GOOGLE_STS_URL": google_sts.token_url,
            "DOCS_IAM_CREDENTIALS_URL": iam.url,
        }
        yield DocsWorld(
            env=env,
            rewrites={AZURE_OPENAI_RESOURCE: aoai.endpoint.rstrip("/"), VERTEX_HOST: vertex.url.rstrip("/")},
            sts=sts,
            bedrock=bedrock,
            entra=entra,
            azure_openai=aoai,
            google_sts=google_sts,
            iam_credentials=iam,
            vertex=vertex,
            pool_provider=pool.audience,
            role_arn=role,
        )
