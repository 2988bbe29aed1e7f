"""An AWS workload (EC2, ECS, Lambda, EKS) -> Azure OpenAI, with no Azure secret.

``oidc/aws/api://AzureADTokenExchange`` asks AWS STS ``GetWebIdentityToken`` (signed with
the workload's own AWS credentials) for a JWT whose ``sub`` is the role ARN; Entra ID
accepts it as a client assertion through a federated identity credential on the app:

    issuer:   the account's outbound identity federation issuer URL (IAM account settings)
    subject:  arn:aws:sts::111122223333:assumed-role/my-task-role/<session>  (or a flexible credential)
    audience: api://AzureADTokenExchange

Environment: ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` (the app), ``AZURE_OPENAI_ENDPOINT``
and ``AWS_REGION`` (GetWebIdentityToken is not served by the STS global endpoint).
The AWS account must have outbound identity federation turned on.
"""

from __future__ import annotations

import os
import sys

from openai import AzureOpenAI

from oidc_credential_chain.azure import token_provider


def ask_azure_openai(
    prompt: str, *, endpoint: str, deployment: str = "gpt-4o", api_version: str = "2024-10-21"
) -> str:
    client = AzureOpenAI(
        azure_endpoint=endpoint,
        api_version=api_version,
        azure_ad_token_provider=token_provider(token="oidc/aws/api://AzureADTokenExchange"),
    )
    reply = client.chat.completions.create(model=deployment, messages=[{"role": "user", "content": prompt}])
    return reply.choices[0].message.content or ""


if __name__ == "__main__":
    print(
        ask_azure_openai(
            " ".join(sys.argv[1:]) or "Hello from AWS", endpoint=os.environ["AZURE_OPENAI_ENDPOINT"]
        )
    )
