"""Google Cloud Run -> Azure OpenAI, with no stored Azure secret.

The Cloud Run service's own identity (its service account, via the metadata server) signs
in to Entra ID.  Deploy with::

    gcloud run deploy ask --source . --service-account runner@my-project.iam.gserviceaccount.com \\
      --set-env-vars AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000,AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111,AZURE_OPENAI_ENDPOINT=https://my-resource.openai.azure.com,OPENAI_API_VERSION=2024-10-21

The Entra app trusts the service account by its numeric unique ID (Google's ``sub``)::

    gcloud iam service-accounts describe runner@my-project.iam.gserviceaccount.com --format='value(uniqueId)'
    az ad app federated-credential create --id $AZURE_CLIENT_ID --parameters '{
      "name": "cloud-run-runner",
      "issuer": "https://accounts.google.com",
      "subject": "112233445566778899000",
      "audiences": ["api://AzureADTokenExchange"]}'

and holds the "Cognitive Services OpenAI User" role on the Azure OpenAI resource.
"""

from openai import AzureOpenAI

from oidc_credential_chain.azure import token_provider


def ask(prompt: str) -> str:
    """One chat completion; endpoint and API version come from the environment."""
    client = AzureOpenAI(azure_ad_token_provider=token_provider("oidc/google/api://AzureADTokenExchange"))
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
    return reply.choices[0].message.content or ""


if __name__ == "__main__":
    print(ask("Hello from Cloud Run"))
