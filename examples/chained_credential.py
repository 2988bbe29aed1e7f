"""One credential for CI and for developers: ``OIDCCredential.from_env()`` first, then the usual chain.

In CI, ``AZURE_FEDERATED_TOKEN=oidc/github/api://AzureADTokenExchange`` (with ``AZURE_TENANT_ID``
and ``AZURE_CLIENT_ID``) makes the first credential answer.  On a laptop that variable is unset,
so ``OIDCCredential`` reports itself unavailable (``CredentialUnavailableError``) and the chain
moves on to ``DefaultAzureCredential`` (``az login``, managed identity, ...).
"""

from azure.identity import ChainedTokenCredential, DefaultAzureCredential, get_bearer_token_provider
from openai import AzureOpenAI

from oidc_credential_chain.azure import OIDCCredential

credential = ChainedTokenCredential(OIDCCredential.from_env(), DefaultAzureCredential())
client = AzureOpenAI(  # AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION from the environment
    azure_ad_token_provider=get_bearer_token_provider(
        credential, "https://cognitiveservices.azure.com/.default"
    ),
)
reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
print(reply.choices[0].message.content)
