"""GitLab CI -> Vertex AI.  ``.gitlab-ci.yml``::

    ask:
      variables:
        GCP_WORKLOAD_IDENTITY_PROVIDER: //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gitlab/providers/my-group
        GCP_PROJECT: my-project
      id_tokens:
        GCP_ID_TOKEN:
          aud: https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gitlab/providers/my-group
      script: python examples/gitlab_ci_to_vertex_ai.py

The pool provider trusts issuer ``https://gitlab.com`` (or your instance's URL).
"""

# ruff: noqa: E501  (configuration lines are shown whole)

import os

from google.auth.transport.requests import AuthorizedSession

from oidc_credential_chain import gcp

credentials = gcp.credentials(
    token="oidc/gitlab/GCP_ID_TOKEN",  # the variable named under id_tokens:
    audience=os.environ[
        "GCP_WORKLOAD_IDENTITY_PROVIDER"
    ],  # //iam.googleapis.com/projects/.../providers/my-group
)
project, location = os.environ["GCP_PROJECT"], "us-central1"
url = (
    f"https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}"
    "/publishers/google/models/gemini-2.0-flash:generateContent"
)
answer = AuthorizedSession(credentials).post(
    url, json={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
)
print(answer.json()["candidates"][0]["content"]["parts"][0]["text"])
