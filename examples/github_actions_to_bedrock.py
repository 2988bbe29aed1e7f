"""GitHub Actions -> Amazon Bedrock, with no stored AWS secret.  ``.github/workflows/ask.yml``::

    permissions:
      id-token: write   # lets the job request an OIDC ID token
      contents: read
    jobs:
      ask:
        runs-on: ubuntu-latest
        env:
          AWS_WEB_IDENTITY_TOKEN: oidc/github/sts.amazonaws.com
          AWS_ROLE_ARN: arn:aws:iam::111122223333:role/github-bedrock
          AWS_DEFAULT_REGION: us-east-1
        steps:
          - uses: actions/checkout@v4
          - run: pip install oidc-credential-chain[aws]
          - run: python examples/github_actions_to_bedrock.py

The IAM role trusts the OIDC provider ``token.actions.githubusercontent.com`` (client ID
``sts.amazonaws.com``)::

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
                    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                  "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"}}}]}

GitHub's tokens live 5 minutes; the library fetches a fresh one whenever botocore refreshes
the role's credentials, so jobs longer than an hour keep working.
"""

# ruff: noqa: E501  (configuration lines are shown whole)

import boto3

bedrock = boto3.client("bedrock-runtime")  # unchanged code: the environment does the rest
reply = bedrock.converse(
    modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
    messages=[{"role": "user", "content": [{"text": "Hello from GitHub Actions"}]}],
)
print(reply["output"]["message"]["content"][0]["text"])
