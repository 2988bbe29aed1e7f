"""Bitbucket Pipelines -> Azure OpenAI.  ``bitbucket-pipelines.yml``::

    pipelines:
      default:
        - step:
            oidc: true
            script:
              - python examples/bitbucket_to_azure_openai.py

The Entra app has a federated credential whose issuer, subject and audience are the
step token's ``iss``, ``sub`` and ``aud`` (Bitbucket fixes the audience per workspace);
``oidc-credential-chain claims oidc/bitbucket`` in a step prints them, and
``oidc-credential-chain doctor oidc/bitbucket --azure-federated-credential fic.json`` checks them.
"""

import os

from openai import AzureOpenAI

from oidc_credential_chain.azure import token_provider

client = AzureOpenAI(
    azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
    api_version="2024-10-21",
    azure_ad_token_provider=token_provider(token="oidc/bitbucket"),  # AZURE_TENANT_ID, AZURE_CLIENT_ID set
)
reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
print(reply.choices[0].message.content)
