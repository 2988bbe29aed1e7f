"""A Kubernetes pod (any cluster with a public OIDC issuer) -> Amazon Bedrock.

Pod spec: project a service-account token with the STS audience, and name it in the env::

    containers:
      - name: app
        env:
          - {name: AWS_WEB_IDENTITY_TOKEN, value: oidc/kubernetes/var/run/secrets/tokens/aws}
          - {name: AWS_ROLE_ARN, value: arn:aws:iam::111122223333:role/inference}
        volumeMounts: [{name: aws-token, mountPath: /var/run/secrets/tokens}]
    volumes:
      - name: aws-token
        projected:
          sources:
            - serviceAccountToken: {path: aws, audience: sts.amazonaws.com, expirationSeconds: 3600}

The kubelet rotates the file; the library notices the new file and re-reads it.
``oidc/kubernetes`` alone reads the default token
(``/var/run/secrets/kubernetes.io/serviceaccount/token``, audience: the API server).
"""

import boto3

bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
reply = bedrock.converse(
    modelId="amazon.nova-micro-v1:0", messages=[{"role": "user", "content": [{"text": "Hello from a pod"}]}]
)
print(reply["output"]["message"]["content"][0]["text"])
