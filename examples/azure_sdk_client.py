"""Any Azure SDK client takes ``OIDCCredential`` where it takes ``DefaultAzureCredential``::

    from azure.keyvault.secrets import SecretClient
    from azure.storage.blob import BlobServiceClient
    from oidc_credential_chain.azure import OIDCCredential

    credential = OIDCCredential("oidc/github/api://AzureADTokenExchange")  # or OIDCCredential.from_env()
    secrets = SecretClient("https://my-vault.vault.azure.net", credential=credential)
    blobs = BlobServiceClient("https://myaccount.blob.core.windows.net", credential=credential)

Every Azure SDK client is an azure-core ``PipelineClient`` whose ``BearerTokenCredentialPolicy``
asks the credential for tokens, as the runnable code below does against the Azure OpenAI
REST API (``AZURE_OPENAI_ENDPOINT``).  ``AZURE_FEDERATED_TOKEN`` holds the spec;
``AZURE_TENANT_ID`` and ``AZURE_CLIENT_ID`` name the Entra app.  Transport options pass
through as for azure-identity's credentials (``connection_verify=``, ``proxies=``, ``transport=``).
"""

import os

from azure.core import PipelineClient
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.rest import HttpRequest

from oidc_credential_chain.azure import OIDCCredential

SCOPE = "https://cognitiveservices.azure.com/.default"


def chat(endpoint: str, prompt: str, deployment: str = "gpt-4o") -> str:
    with OIDCCredential.from_env() as credential:
        policies = [RetryPolicy(), BearerTokenCredentialPolicy(credential, SCOPE)]
        with PipelineClient(endpoint, policies=policies) as client:
            url = f"{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21"
            request = HttpRequest("POST", url, json={"messages": [{"role": "user", "content": prompt}]})
            response = client.send_request(request)
            response.raise_for_status()
            return str(response.json()["choices"][0]["message"]["content"])


if __name__ == "__main__":
    print(chat(os.environ["AZURE_OPENAI_ENDPOINT"], "Hello from an Azure SDK pipeline"))
