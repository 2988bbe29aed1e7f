"""GitHub Actions -> Azure OpenAI, with no stored Azure secret.  ``.github/workflows/ask.yml``::

    permissions:
      id-token: write   # lets the job request an OIDC ID token
      contents: read
    jobs:
      ask:
        runs-on: ubuntu-latest
        env:
          AZURE_TENANT_ID: 00000000-0000-0000-0000-000000000000   # the Entra tenant
          AZURE_CLIENT_ID: 11111111-1111-1111-1111-111111111111   # the app registration
          AZURE_OPENAI_ENDPOINT: https://my-resource.openai.azure.com
          OPENAI_API_VERSION: "2024-10-21"
        steps:
          - uses: actions/checkout@v4
          - run: pip install 'oidc-credential-chain[azure]' openai
          - run: python examples/github_actions_to_azure_openai.py

The app trusts the workflow through a federated identity credential (exact, case-sensitive match)::

    az ad app federated-credential create --id $AZURE_CLIENT_ID --parameters '{
      "name": "github-main",
      "issuer": "https://token.actions.githubusercontent.com",
      "subject": "repo:octo-org/octo-repo:ref:refs/heads/main",
      "audiences": ["api://AzureADTokenExchange"]}'

and holds the "Cognitive Services OpenAI User" role on the Azure OpenAI resource.
GitHub's ID tokens live five minutes; a fresh one is fetched whenever Entra is asked, so a
job that runs for hours keeps working.
"""

from openai import AzureOpenAI

from oidc_credential_chain.azure import token_provider

# The one change from API-key code: azure_ad_token_provider.
client = AzureOpenAI(azure_ad_token_provider=token_provider("oidc/github/api://AzureADTokenExchange"))
reply = client.chat.completions.create(
    model="gpt-4o",  # the deployment name
    messages=[{"role": "user", "content": "Hello from GitHub Actions"}],
)
print(reply.choices[0].message.content)
