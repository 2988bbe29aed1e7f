"""The GCP metadata server's identity endpoint (Cloud Run, GCE, GKE)."""

from __future__ import annotations

from typing import Any

from ._server import EmulatorServer, Request, Response
from .issuer import OIDCIssuer

IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity"
EMAIL_PATH = "/computeMetadata/v1/instance/service-accounts/default/email"


class GCPMetadataServer(EmulatorServer):
    """Mints Google-style ID tokens: ``iss=https://accounts.google.com``, ``azp=sub=<numeric id>``.

    Requires ``Metadata-Flavor: Google`` (403 otherwise) and a non-empty ``audience``
    (400 otherwise); ``format=full`` adds ``email`` and ``google.compute_engine``.
    Point clients at it with ``env()`` (``GCE_METADATA_HOST``).
    """

    name = "gcp-metadata"

    def __init__(
        self,
        issuer: OIDCIssuer,
        *,
        service_account_id: str = "112233445566778899000",
        email: str = "runner@demo-project.iam.gserviceaccount.com",
        project_id: str = "demo-project",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.issuer = issuer
        self.service_account_id = service_account_id
        self.email = email
        self.project_id = project_id
        self.lifetime: float = 3600.0

    def env(self) -> dict[str, str]:
        return {"GCE_METADATA_HOST": self.netloc}

    def handle(self, request: Request) -> Response:
        flavor = {"Metadata-Flavor": "Google"}
        if request.header("metadata-flavor") != "Google":
            return Response(403, "Missing Metadata-Flavor:Google header.", flavor)
        if request.path == EMAIL_PATH:
            return Response(200, self.email, flavor)
        if request.path != IDENTITY_PATH:
            return Response(404, "Not Found", flavor)
        audience = request.arg("audience")
        if not audience:
            return Response(400, "non-empty audience parameter required", flavor)
        claims: dict[str, Any] = {
            "aud": audience,
            "azp": self.service_account_id,
            "sub": self.service_account_id,
        }
        if request.arg("format") == "full":
            claims["email"] = self.email
            claims["email_verified"] = True
            claims["google"] = {
                "compute_engine": {
                    "project_id": self.project_id,
                    "project_number": 123456789012,
                    "zone": "us-central1-a",
                    "instance_id": "1234567890",
                    "instance_name": "demo",
                    "instance_creation_timestamp": 1700000000,
                }
            }
        token = self.issuer.mint(claims, lifetime=self.lifetime)
        return Response(200, token, {**flavor, "Content-Type": "application/text"})
