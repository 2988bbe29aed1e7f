"""Azure managed identity endpoints: IMDS (VMs) and the App Service / Functions identity endpoint.

Tokens are Entra-style JWTs from an :class:`~.issuer.OIDCIssuer` whose ``iss`` is
``https://login.microsoftonline.com/<tenant>/v2.0``, with ``sub`` = ``oid`` = the identity's
principal (object) ID and ``aud`` = the requested resource, which is what a federated
identity credential trusting a user-assigned managed identity matches.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ._server import EmulatorServer, Request, Response
from .issuer import OIDCIssuer

IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"


@dataclasses.dataclass(frozen=True)
class ManagedIdentity:
    client_id: str
    principal_id: str
    resource_id: str


class AzureIMDSEmulator(EmulatorServer):
    """Answers ``GET /metadata/identity/oauth2/token`` (header ``Metadata: true``) and ``GET /msi/token``.

    ``user_assigned`` maps client IDs to principal IDs; ``system_assigned`` is the VM's own
    principal ID (None: the VM has none).  ``env()`` points azure-identity and this library
    at IMDS (``AZURE_POD_IDENTITY_AUTHORITY_HOST``), ``app_service_env()`` at the App Service
    endpoint.  Requests sent through a proxy (absolute-form targets) are refused.

    Example::

        with AzureIMDSEmulator(user_assigned={"cid": "oid"}) as imds:
            os.environ.update(imds.env())
            get_id_token("oidc/azure/api://AzureADTokenExchange")
    """

    name = "azure-imds"

    def __init__(
        self,
        issuer: OIDCIssuer | None = None,
        *,
        tenant_id: str = "72f988bf-0000-4000-8000-00000000beef",
        user_assigned: Mapping[str, str] | None = None,
        system_assigned: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tenant_id = tenant_id
        self._own_issuer = issuer is None
        self.issuer = issuer or OIDCIssuer(
            f"https://login.microsoftonline.com/{tenant_id}/v2.0", lifetime=3600
        )
        self.identities: dict[str, ManagedIdentity] = {}
        for client_id, principal_id in (user_assigned or {}).items():
            self.add_identity(client_id, principal_id)
        self.system_assigned = system_assigned
        #: The App Service endpoint's secret header value (``IDENTITY_HEADER``).
        self.identity_header = secrets.token_urlsafe(24)
        self.lifetime: int = 3600

    def add_identity(self, client_id: str, principal_id: str | None = None) -> ManagedIdentity:
        identity = ManagedIdentity(
            client_id=client_id,
            principal_id=principal_id or str(uuid.uuid4()),
            resource_id=f"/subscriptions/0000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/"
            f"userAssignedIdentities/id-{client_id[:8]}",
        )
        self.identities[client_id] = identity
        return identity

    def start(self) -> AzureIMDSEmulator:
        if self._own_issuer:
            self.issuer.start()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        if self._own_issuer:
            self.issuer.stop()

    def env(self) -> dict[str, str]:
        return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.url}

    def app_service_env(self) -> dict[str, str]:
        return {"IDENTITY_ENDPOINT": self.url + APP_SERVICE_PATH, "IDENTITY_HEADER": self.identity_header}

    def handle(self, request: Request) -> Response:
        if request.raw_path.startswith(("http://", "https://")):
            return _error(400, "invalid_request", "Requests to the identity endpoint must not use a proxy")
        if request.method != "GET":
            return _error(405, "invalid_request", "Only GET is supported")
        if request.path == IMDS_TOKEN_PATH:
            if request.header("metadata") != "true":
                return _error(400, "bad_request_102", "Required metadata header not specified")
            expected_version = "2018-02-01"
        elif request.path == APP_SERVICE_PATH:
            presented = request.header("x-identity-header") or ""
            if not secrets.compare_digest(presented, self.identity_header):
                return _error(401, "unknown_source", "Unknown source: X-IDENTITY-HEADER is missing or wrong")
            expected_version = "2019-08-01"
        else:
            return _error(404, "not_found", f"no such path {request.path}")
        if request.arg("api-version") != expected_version:
            return _error(
                400, "invalid_request", f"Required query variable 'api-version' must be {expected_version}"
            )
        resource = request.arg("resource")
        if not resource:
            return _error(400, "invalid_request", "Required query variable 'resource' is missing")
        identity = self._identity(request.arg("client_id"))
        if isinstance(identity, Response):
            return identity
        now = int(time.time())
        claims = {
            "aud": resource,
            "sub": identity.principal_id,
            "oid": identity.principal_id,
            "tid": self.tenant_id,
            "azp": identity.client_id,
            "appid": identity.client_id,
            "idtyp": "app",
            "xms_mirid": identity.resource_id,
        }
        token = self.issuer.mint(claims, lifetime=self.lifetime, iat=now)
        body: dict[str, Any] = {
            "access_token": token,
            "expires_on": str(now + self.lifetime),
            "resource": resource,
            "token_type": "Bearer",
        }
        if request.path == IMDS_TOKEN_PATH:
            body.update(refresh_token="", expires_in=str(self.lifetime), not_before=str(now))
        else:
            body["client_id"] = identity.client_id
        return Response(200, body)

    def _identity(self, client_id: str | None) -> ManagedIdentity | Response:
        if client_id:
            identity = self.identities.get(client_id)
            if identity is None:
                return _error(400, "invalid_request", "Identity not found")
            return identity
        if self.system_assigned:
            return ManagedIdentity(client_id="system", principal_id=self.system_assigned, resource_id="/vm")
        if len(self.identities) == 1:
            return next(iter(self.identities.values()))
        if self.identities:
            return _error(
                400,
                "invalid_request",
                "Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                "identity in the token request",
            )
        return _error(400, "invalid_request", "Identity not found")


def _error(status: int, code: str, description: str) -> Response:
    return Response(status, {"error": code, "error_description": description})


__all__ = ["AzureIMDSEmulator", "ManagedIdentity"]
