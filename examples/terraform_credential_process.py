"""HCP Terraform -> any AWS SDK, through ``credential_process`` and a tagged workload identity token.

Workspace variables: ``TFC_WORKLOAD_IDENTITY_AUDIENCE_BEDROCK = sts.amazonaws.com`` (HCP
Terraform then sets ``TFC_WORKLOAD_IDENTITY_TOKEN_BEDROCK`` in plan and apply) and
``AWS_CONFIG_FILE`` pointing at a file with::

    [profile bedrock]
    region = us-east-1
    credential_process = oidc-credential-chain aws credential-process --role-arn arn:aws:iam::111122223333:role/tfc --token oidc/terraform/BEDROCK --region us-east-1

A ``local-exec`` or external data source then runs this script with ``AWS_PROFILE=bedrock``.
"""

# ruff: noqa: E501  (configuration lines are shown whole)

import boto3

session = boto3.Session(profile_name="bedrock")
print(session.client("sts").get_caller_identity()["Arn"])  # arn:aws:sts::111122223333:assumed-role/tfc/...
