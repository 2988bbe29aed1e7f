"""Item: OIDC_CREDENTIAL_CHAIN_FILE_DIRS holds against a symlink flipped between check and open."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from oidc_credential_chain import ConfigurationError
from oidc_credential_chain._internal.files import read_token_file

INSIDE = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJpbnNpZGUifQ.aW5zaWRl"
OUTSIDE = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJvdXRzaWRlIn0.b3V0c2lkZQ"
READS = 3000


def test_flipping_symlink_never_lets_a_read_escape(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "real").write_text(INSIDE)
    secret = tmp_path / "outside"
    secret.write_text(OUTSIDE)
    link = allowed / "token"
    environ = {"OIDC_CREDENTIAL_CHAIN_FILE_DIRS": str(allowed)}
    stop = threading.Event()

    def flip() -> None:
        targets = [str(allowed / "real"), str(secret)]
        spare = allowed / "token.next"
        i = 0
        while not stop.is_set():
            with_target = targets[i % 2]
            i += 1
            with contextlib.suppress(FileNotFoundError):
                spare.unlink()
            spare.symlink_to(with_target)
            os.replace(spare, link)  # atomic: the link always exists

    link.symlink_to(allowed / "real")
    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    escapes = refused = inside = 0
    try:
        for _ in range(READS):
            try:
                text = read_token_file(str(link), environ, what="token file")
            except ConfigurationError as err:
                assert "outside the directories allowed by OIDC_CREDENTIAL_CHAIN_FILE_DIRS" in str(err)
                refused += 1
                continue
            if text == OUTSIDE:
                escapes += 1
            else:
                inside += 1
    finally:
        stop.set()
        flipper.join()
    assert escapes == 0
    assert inside > 0 and inside + refused == READS


def test_opened_path_names_the_file_behind_a_descriptor(tmp_path: Path) -> None:
    from oidc_credential_chain._internal.files import opened_path

    target = tmp_path / "target"
    target.write_text("x")
    (tmp_path / "link").symlink_to(target)
    fd = os.open(tmp_path / "link", os.O_RDONLY)
    try:
        assert opened_path(fd) == str(target)
    finally:
        os.close(fd)


def test_a_symlink_inside_the_allowed_directory_is_still_followed(tmp_path: Path) -> None:
    # Kubelet-style rotation: token -> ..data/token, ..data -> ..2026_01_01 (all inside).
    allowed = tmp_path / "tokens"
    version = allowed / "..2026_01_01"
    version.mkdir(parents=True)
    (version / "token").write_text(INSIDE)
    (allowed / "..data").symlink_to(version.name)
    (allowed / "token").symlink_to("..data/token")
    environ = {"OIDC_CREDENTIAL_CHAIN_FILE_DIRS": str(allowed)}
    assert read_token_file(str(allowed / "token"), environ, what="token file") == INSIDE


@pytest.mark.parametrize("spec_path", ["/tmp/tok\x00en", "tmp/\x00"])
def test_a_nul_byte_in_a_path_spec_is_a_configuration_error(spec_path: str) -> None:
    from oidc_credential_chain import fetch_id_token

    with pytest.raises(ConfigurationError, match="contains a NUL byte, which no file name can hold"):
        fetch_id_token(f"oidc/file/{spec_path.lstrip('/')}")
    with pytest.raises(ConfigurationError, match="contains a NUL byte"):
        fetch_id_token(f"oidc/kubernetes/{spec_path.lstrip('/')}")
    with pytest.raises(ConfigurationError, match="contains a NUL byte"):
        read_token_file(spec_path, {}, what="token file")
