"""Buildkite -> Amazon Bedrock.  ``pipeline.yml``::

    steps:
      - command: python examples/buildkite_to_bedrock.py
        env:
          AWS_WEB_IDENTITY_TOKEN: oidc/buildkite/sts.amazonaws.com
          AWS_ROLE_ARN: arn:aws:iam::111122223333:role/buildkite-bedrock
          AWS_REGION: us-east-1

The library runs ``buildkite-agent oidc request-token --audience sts.amazonaws.com`` when
botocore needs credentials (and again before they expire).  The role trusts the OIDC
provider ``agent.buildkite.com`` with ``agent.buildkite.com:sub`` like
``organization:acme:pipeline:deploy:ref:refs/heads/main:*``.
"""

import boto3

bedrock = boto3.client("bedrock-runtime")  # unchanged code: the environment does the rest
reply = bedrock.converse(
    modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
    messages=[{"role": "user", "content": [{"text": "Hello from Buildkite"}]}],
)
print(reply["output"]["message"]["content"][0]["text"])
