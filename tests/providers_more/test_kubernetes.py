from __future__ import annotations

import os
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError, get_id_token
from oidc_credential_chain.providers import kubernetes
from oidc_credential_chain.testing import OIDCIssuer

SA_SUB = "system:serviceaccount:ml:inference"


def _write(path: Path, text: str) -> None:
    # The kubelet replaces projected tokens atomically.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_named_path(tmp_path: Path, oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.mint({"sub": SA_SUB, "aud": "sts.amazonaws.com"})
    path = tmp_path / "token"
    _write(path, token + "\n")
    assert get_id_token(f"oidc/kubernetes{path}") == token
    assert get_id_token(f"oidc/kubernetes/{path}") == token


def test_default_path(tmp_path: Path, oidc_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    token = oidc_issuer.mint({"sub": SA_SUB, "aud": "https://kubernetes.default.svc"})
    path = tmp_path / "serviceaccount-token"
    _write(path, token)
    monkeypatch.setattr(kubernetes, "DEFAULT_PATH", str(path))
    assert get_id_token("oidc/kubernetes") == token
    assert get_id_token("oidc/kubernetes/") == token


def test_rotation_is_noticed(tmp_path: Path, oidc_issuer: OIDCIssuer) -> None:
    path = tmp_path / "token"
    first = oidc_issuer.mint({"sub": SA_SUB, "aud": "a"}, lifetime=3600)
    _write(path, first)
    assert get_id_token(f"oidc/kubernetes{path}") == first
    second = oidc_issuer.mint({"sub": SA_SUB, "aud": "a"}, lifetime=3600)
    _write(path, second)
    assert get_id_token(f"oidc/kubernetes{path}") == second


def test_default_path_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nothing-here"
    monkeypatch.setattr(kubernetes, "DEFAULT_PATH", str(missing))
    with pytest.raises(ConfigurationError) as caught:
        get_id_token("oidc/kubernetes")
    assert str(caught.value) == (
        f"oidc/kubernetes: service-account token file '{missing}' does not exist: not running in a pod, or "
        "the pod sets automountServiceAccountToken: false; for a token with your own audience, mount a "
        "projected serviceAccountToken volume and name its file, e.g. "
        "'oidc/kubernetes/var/run/secrets/tokens/oidc-token'"
    )


def test_named_path_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist") as caught:
        get_id_token(f"oidc/kubernetes{tmp_path}/absent")
    assert "automountServiceAccountToken" not in str(caught.value)


def test_file_dirs_restriction(
    tmp_path: Path, oidc_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    _write(other / "token", oidc_issuer.mint({"sub": SA_SUB, "aud": "a"}))
    _write(allowed / "token", oidc_issuer.mint({"sub": SA_SUB, "aud": "a"}))
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(allowed))
    assert get_id_token(f"oidc/kubernetes{allowed}/token")
    with pytest.raises(
        ConfigurationError, match="is outside the directories allowed by OIDC_CREDENTIAL_CHAIN_FILE_DIRS"
    ):
        get_id_token(f"oidc/kubernetes{other}/token")


def test_not_a_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("secret-not-a-jwt")
    with pytest.raises(ConfigurationError) as caught:
        get_id_token(f"oidc/kubernetes{path}")
    assert "is not a JWT" in str(caught.value)
    assert "secret-not-a-jwt" not in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"only regular files are read|is a directory"):
        get_id_token(f"oidc/kubernetes{tmp_path}")
