"""Cloud Run (or GCE, GKE) -> Amazon Bedrock, with the service's Google identity.  Deploy::

    gcloud run deploy bedrock-caller --source . \
      --service-account runner@my-project.iam.gserviceaccount.com \
      --set-env-vars AWS_WEB_IDENTITY_TOKEN=oidc/google/sts.amazonaws.com,AWS_ROLE_ARN=arn:aws:iam::111122223333:role/cloud-run-bedrock,AWS_DEFAULT_REGION=us-east-1

The library asks the metadata server for an ID token with audience ``sts.amazonaws.com``.
The role trusts Google's built-in provider; ``accounts.google.com:aud`` is the service
account's numeric unique ID (the token's ``azp``), ``accounts.google.com:oaud`` the audience::

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
                    "Principal": {"Federated": "accounts.google.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"accounts.google.com:aud": "112233445566778899000",
                                                   "accounts.google.com:oaud": "sts.amazonaws.com",
                                                   "accounts.google.com:sub": "112233445566778899000"}}}]}

``gcloud iam service-accounts describe runner@my-project.iam.gserviceaccount.com --format 'value(uniqueId)'``
prints the ID.
"""

# ruff: noqa: E501  (configuration lines are shown whole)

import boto3

bedrock = boto3.client("bedrock-runtime")  # unchanged code: the environment does the rest
reply = bedrock.converse(
    modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
    messages=[{"role": "user", "content": [{"text": "Hello from Cloud Run"}]}],
)
print(reply["output"]["message"]["content"][0]["text"])
