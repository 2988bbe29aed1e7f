"""Loopback emulators of the services this library talks to, for tests and ``demo``.

They speak the real wire protocols and verify what they receive.  Requires the
``testing`` extra (PyJWT, cryptography, trustme).  The pytest plugin
(:mod:`oidc_credential_chain.testing.pytest_plugin`) exposes them as fixtures.
"""

from __future__ import annotations

from ._server import EmulatorServer, Fault, Faults, Request, Response, json_response
from .azure_imds import AzureIMDSEmulator
from .azure_openai import AzureOpenAIEmulator
from .bedrock import BedrockRuntimeEmulator
from .entra import EntraEmulator
from .gcp_metadata import GCPMetadataServer
from .github import GitHubActionsTokenEndpoint
from .google_sts import GoogleSTSEmulator, WorkloadIdentityPoolProvider
from .iam_credentials import IAMCredentialsEmulator
from .issuer import OIDCIssuer, prepare_keys
from .sts import IssuedCredentials, STSEmulator
from .tls import LoopbackCA, loopback_ca
from .vertex import VertexAIEmulator

__all__ = [
    "AzureIMDSEmulator",
    "AzureOpenAIEmulator",
    "BedrockRuntimeEmulator",
    "EmulatorServer",
    "EntraEmulator",
    "Fault",
    "Faults",
    "GCPMetadataServer",
    "GitHubActionsTokenEndpoint",
    "GoogleSTSEmulator",
    "IAMCredentialsEmulator",
    "IssuedCredentials",
    "LoopbackCA",
    "OIDCIssuer",
    "Request",
    "Response",
    "STSEmulator",
    "VertexAIEmulator",
    "WorkloadIdentityPoolProvider",
    "json_response",
    "loopback_ca",
    "prepare_keys",
]
