"""CircleCI -> Amazon Bedrock, with the v2 OIDC token.  ``.circleci/config.yml``::

    jobs:
      ask:
        docker: [{image: cimg/python:3.12}]
        environment:
          AWS_WEB_IDENTITY_TOKEN: oidc/circleci_v2
          AWS_ROLE_ARN: arn:aws:iam::111122223333:role/circleci-bedrock
          AWS_DEFAULT_REGION: us-east-1
        steps:
          - checkout
          - run: pip install oidc-credential-chain[aws]
          - run: python examples/circleci_v2_to_bedrock.py
    workflows:
      main:
        jobs: [{ask: {context: [aws-bedrock]}}]   # OIDC tokens need a context

CircleCI puts the token in ``CIRCLE_OIDC_TOKEN_V2``; its ``sub`` adds the VCS origin and ref
to v1's, so the role can be limited to one branch.  The role trusts the OIDC provider
``oidc.circleci.com/org/<ORG_ID>`` with the organization ID as client ID::

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
                    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.circleci.com/org/<ORG_ID>"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"oidc.circleci.com/org/<ORG_ID>:aud": "<ORG_ID>"},
                                  "StringLike": {"oidc.circleci.com/org/<ORG_ID>:sub": "org/<ORG_ID>/project/<PROJECT_ID>/user/*/vcs-origin/github.com/octo-org/octo-repo/vcs-ref/refs/heads/main"}}}]}

CircleCI sets the token once per job and it lives an hour: credentials obtained from it are
refreshed while it is valid; a job running past its expiry gets an error naming the token's
``exp`` at the next refresh.
"""

# ruff: noqa: E501  (configuration lines are shown whole)

import boto3

bedrock = boto3.client("bedrock-runtime")  # unchanged code: the environment does the rest
reply = bedrock.converse(
    modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
    messages=[{"role": "user", "content": [{"text": "Hello from CircleCI"}]}],
)
print(reply["output"]["message"]["content"][0]["text"])
