"""Loopback emulators of the services this library talks to, for tests and ``demo``.

They speak the real wire protocols and verify what they receive.  Requires the
``testing`` extra (PyJWT, cryptography, trustme).  The pytest plugin
(:mod:`oidc_credential_chain.testing.pytest_plugin`) exposes them as fixtures.
"""

from __future__ import annotations

from ._server import EmulatorServer, Fault, Faults, Request, Response, json_response
from .gcp_metadata import GCPMetadataServer
from .github import GitHubActionsTokenEndpoint
from .issuer import OIDCIssuer, prepare_keys

__all__ = [
    "EmulatorServer",
    "Fault",
    "Faults",
    "GCPMetadataServer",
    "GitHubActionsTokenEndpoint",
    "OIDCIssuer",
    "Request",
    "Response",
    "json_response",
    "prepare_keys",
]
