"""Azure (AKS workload identity, a VM's managed identity, ``az login``) -> Amazon Bedrock.

``oidc/azure/<audience>`` asks the ambient Azure identity for an Entra access token for
``<audience>/.default`` and hands it to AWS STS ``AssumeRoleWithWebIdentity``; boto3 code
stays unchanged.  Environment (an AKS pod with workload identity already has the AZURE_*
variables and the token file)::

    AWS_WEB_IDENTITY_TOKEN=oidc/azure/api://bedrock-access
    AWS_ROLE_ARN=arn:aws:iam::111122223333:role/bedrock-from-azure
    AWS_DEFAULT_REGION=us-east-1

In Entra, register an app with the application ID URI ``api://bedrock-access`` (the audience of
the tokens).  In AWS, create the IAM OIDC provider for the tenant, with that audience as client ID::

    aws iam create-open-id-connect-provider --url https://sts.windows.net/<tenant-id>/ \\
      --client-id-list api://bedrock-access

and let the role trust it, naming the Azure identity by its object ID (the token's ``sub``)::

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
                    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/sts.windows.net/<tenant-id>/"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"sts.windows.net/<tenant-id>/:aud": "api://bedrock-access",
                                                   "sts.windows.net/<tenant-id>/:sub": "<object ID of the identity>"}}}]}
"""

# ruff: noqa: E501  (configuration lines are shown whole)

import boto3

import oidc_credential_chain.aws

# Where the package's startup hook runs, installing is automatic; calling it is harmless.
oidc_credential_chain.aws.install()

bedrock = boto3.client("bedrock-runtime")
reply = bedrock.converse(
    modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
    messages=[{"role": "user", "content": [{"text": "Hello from Azure"}]}],
)
print(reply["output"]["message"]["content"][0]["text"])
