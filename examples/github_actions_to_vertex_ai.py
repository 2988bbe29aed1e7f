"""GitHub Actions -> Google Vertex AI, with no service-account key.

The job's ID token is exchanged at Google STS through a workload identity pool provider
(and, with a service account, for that account's token).  Workflow::

    permissions:
      id-token: write
    steps:
      - run: python examples/github_actions_to_vertex_ai.py "Summarise this release"
        env:
          GCP_WORKLOAD_IDENTITY_PROVIDER: //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/my-repo
          GCP_SERVICE_ACCOUNT: vertex-caller@my-project.iam.gserviceaccount.com   # optional
          GCP_PROJECT: my-project

Pool provider: issuer ``https://token.actions.githubusercontent.com``, attribute mapping
``google.subject=assertion.sub, attribute.repository=assertion.repository``, and a condition
such as ``assertion.repository_owner == 'my-org'``.  Without ``GCP_SERVICE_ACCOUNT`` grant
``roles/aiplatform.user`` to the federated principal directly.
"""

# ruff: noqa: E501  (configuration lines are shown whole)

from __future__ import annotations

import os
import sys

from google.auth.transport.requests import AuthorizedSession

from oidc_credential_chain import gcp


def ask_vertex(
    prompt: str,
    *,
    pool_provider: str,
    project: str,
    service_account: str | None = None,
    location: str = "us-central1",
    model: str = "gemini-2.0-flash",
    endpoint: str | None = None,
    **credential_options: str,
) -> str:
    """Send one prompt to Vertex AI ``generateContent`` and return the answer's text.

    ``endpoint`` and ``credential_options`` (``token_url``, ``iam_endpoint``) only move the
    Google endpoints, e.g. to the library's emulators.
    """
    credentials = gcp.credentials(
        token="oidc/github",  # asks GitHub for a token with audience https://iam.googleapis.com/<provider>
        audience=pool_provider,
        service_account=service_account,
        **credential_options,
    )
    base = endpoint or f"https://{location}-aiplatform.googleapis.com"
    url = (
        f"{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent"
    )
    response = AuthorizedSession(credentials).post(
        url, json={"contents": [{"role": "user", "parts": [{"text": prompt}]}]}, timeout=60
    )
    response.raise_for_status()
    text: str = response.json()["candidates"][0]["content"]["parts"][0]["text"]
    return text


if __name__ == "__main__":
    print(
        ask_vertex(
            " ".join(sys.argv[1:]) or "Say hello",
            pool_provider=os.environ["GCP_WORKLOAD_IDENTITY_PROVIDER"],
            project=os.environ["GCP_PROJECT"],
            service_account=os.environ.get("GCP_SERVICE_ACCOUNT"),
        )
    )
