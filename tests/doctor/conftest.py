from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_cloud_probes(
    _isolated: None, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Point the metadata probes at a closed loopback port (refused at once) unless a test starts an emulator,
    and the Kubernetes token path at a file that does not exist."""
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
    monkeypatch.setattr(
        "oidc_credential_chain.doctor.ambient.K8S_TOKEN_PATH", str(tmp_path_factory.mktemp("k8s") / "token")
    )
