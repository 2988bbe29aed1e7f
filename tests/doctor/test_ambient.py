"""Ambient identity detection and environment warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oidc_credential_chain.doctor.ambient import detect_ambient, environment_warnings
from oidc_credential_chain.testing.azure_imds import AzureIMDSEmulator
from oidc_credential_chain.testing.gcp_metadata import GCPMetadataServer

JWT_LIKE = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"


def providers(environ: dict[str, str]) -> dict[str, bool]:
    return {d.provider: d.available for d in detect_ambient(environ, probe=False).detections}


def test_nothing_here() -> None:
    ambient = detect_ambient({}, probe=False)
    assert ambient.detections == () and ambient.warnings == ()
    assert ambient.best_spec("aws") is None


def test_github_actions_with_and_without_permission() -> None:
    with_perm = {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x/idtoken?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
    }
    ambient = detect_ambient(with_perm, probe=False)
    assert ambient.best_spec("aws") == "oidc/github/sts.amazonaws.com"
    assert ambient.best_spec("azure") == "oidc/github/api://AzureADTokenExchange"
    ambient = detect_ambient({"GITHUB_ACTIONS": "true"}, probe=False)
    (github,) = ambient.detections
    assert not github.available and "id-token: write" in github.hint
    assert ambient.best_spec("aws") is None


def test_circleci_prefers_v2() -> None:
    ambient = detect_ambient(
        {"CIRCLECI": "true", "CIRCLE_OIDC_TOKEN": JWT_LIKE, "CIRCLE_OIDC_TOKEN_V2": JWT_LIKE}, probe=False
    )
    assert ambient.best_spec("aws") == "oidc/circleci_v2"
    assert providers({"CIRCLECI": "true"}) == {"circleci": False}


def test_aks_token_file(tmp_path: Path) -> None:
    token = tmp_path / "azure-identity-token"
    token.write_text(JWT_LIKE)
    ambient = detect_ambient({"AZURE_FEDERATED_TOKEN_FILE": str(token)}, probe=False)
    assert ambient.best_spec("azure") == "oidc/azure"
    missing = detect_ambient({"AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "nope")}, probe=False)
    assert not missing.detections[0].available
    assert "does not exist" in missing.detections[0].detail


def test_kubernetes_service_account_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text(JWT_LIKE)
    monkeypatch.setattr("oidc_credential_chain.doctor.ambient.K8S_TOKEN_PATH", str(token))
    assert providers({}) == {"kubernetes": True}


@pytest.mark.parametrize(
    ("environ", "provider", "available"),
    [
        ({"GITLAB_CI": "true"}, "gitlab", False),
        ({"GITLAB_CI": "true", "GITLAB_OIDC_TOKEN": JWT_LIKE}, "gitlab", True),
        ({"BITBUCKET_BUILD_NUMBER": "7"}, "bitbucket", False),
        ({"BITBUCKET_STEP_OIDC_TOKEN": JWT_LIKE}, "bitbucket", True),
        ({"BUILDKITE": "true"}, "buildkite", True),
        ({"TFC_WORKLOAD_IDENTITY_TOKEN": JWT_LIKE}, "terraform", True),
        ({"IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token", "IDENTITY_HEADER": "h"}, "azure", True),
        ({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, "aws", True),
    ],
)
def test_ci_and_cloud_variables(environ: dict[str, str], provider: str, available: bool) -> None:
    assert providers(environ) == {provider: available}


def test_gcp_metadata_probe(gcp_metadata: GCPMetadataServer) -> None:
    import os

    ambient = detect_ambient(dict(os.environ))
    google = [d for d in ambient.detections if d.provider == "google"]
    assert google and google[0].available
    assert ambient.best_spec("aws") == "oidc/google/sts.amazonaws.com"


def test_azure_imds_probe_mints_nothing(azure_imds: AzureIMDSEmulator) -> None:
    import os

    ambient = detect_ambient(dict(os.environ))
    azure = [d for d in ambient.detections if d.name.startswith("Azure managed identity (IMDS)")]
    assert azure and azure[0].available
    assert ambient.best_spec("azure") == "oidc/azure/api://AzureADTokenExchange"
    assert azure_imds.count() == 1
    assert azure_imds.requests[0].header("metadata") is None  # the probe is refused, nothing is issued


def test_probes_find_nothing_when_refused() -> None:
    import os

    assert detect_ambient(dict(os.environ)).detections == ()


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"AWS_BEARER_TOKEN_BEDROCK": "key"}, "AWS_BEARER_TOKEN_BEDROCK is set"),
        (
            {
                "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
                "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                "AWS_ACCESS_KEY_ID": "AKIA",
            },
            "static keys in the environment win",
        ),
        (
            {
                "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
                "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                "AWS_PROFILE": "dev",
            },
            "AWS_PROFILE=dev is set",
        ),
        ({"AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com"}, "AWS_ROLE_ARN is not set"),
        (
            {"AWS_WEB_IDENTITY_TOKEN_FILE": "oidc/github/sts.amazonaws.com"},
            "every AWS SDK reads it as a path",
        ),
        (
            {"AZURE_FEDERATED_TOKEN_FILE": "oidc/github/api://AzureADTokenExchange"},
            "put the spec in AZURE_FEDERATED_TOKEN",
        ),
        ({"AWS_WEB_IDENTITY_TOKEN": JWT_LIKE}, "holds a raw token"),
        (
            {
                "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
                "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
                "OIDC_CREDENTIAL_CHAIN_AUTOLOAD": "0",
            },
            "oidc_credential_chain.aws.install()",
        ),
    ],
)
def test_environment_warnings(environ: dict[str, str], fragment: str) -> None:
    warnings = environment_warnings(environ)
    assert len(warnings) == 1 and fragment in warnings[0]
    assert all(JWT_LIKE not in w for w in warnings)


def test_importing_doctor_and_trust_is_light() -> None:
    code = (
        "import sys\n"
        "import oidc_credential_chain.trust, oidc_credential_chain.doctor.run\n"
        "import oidc_credential_chain.write_token\n"
        "import oidc_credential_chain._cli.doctor, oidc_credential_chain._cli.write_token\n"
        "heavy = ('boto3', 'botocore', 'azure', 'openai', 'google', 'requests')\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
