"""An Azure VM's managed identity -> Google Vertex AI, with no Google key on the VM.

``oidc/azure/<audience>`` gets an Entra access token for the audience from the VM's
managed identity (azure-identity when installed; otherwise this library asks Azure IMDS
itself).  Google STS accepts it through a pool provider whose issuer is
``https://login.microsoftonline.com/<tenant>/v2.0`` and whose allowed audience is the
audience below (an app ID URI of an Entra app you own).  ``AZURE_CLIENT_ID`` picks a
user-assigned identity.
"""

from __future__ import annotations

import os
import sys

from google.auth.transport.requests import AuthorizedSession

from oidc_credential_chain import gcp


def ask_vertex_from_azure(
    prompt: str,
    *,
    entra_audience: str,
    pool_provider: str,
    project: str,
    location: str = "us-central1",
    model: str = "gemini-2.0-flash",
    endpoint: str | None = None,
    **credential_options: str,
) -> str:
    credentials = gcp.credentials(
        token=f"oidc/azure/{entra_audience}", audience=pool_provider, **credential_options
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
        ask_vertex_from_azure(
            " ".join(sys.argv[1:]) or "Say hello",
            entra_audience=os.environ["ENTRA_AUDIENCE"],  # e.g. api://google-federation
            pool_provider=os.environ["GCP_WORKLOAD_IDENTITY_PROVIDER"],
            project=os.environ["GCP_PROJECT"],
        )
    )
