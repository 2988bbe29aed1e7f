"""circleci, circleci_v2, azure (token file), file, env, env_path: tokens from variables and files."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from oidc_credential_chain import (
    ConfigurationError,
    TokenFetchError,
    fetch_id_token,
    get_id_token,
    parse_spec,
)
from oidc_credential_chain._internal.redact import show_path
from oidc_credential_chain.testing import OIDCIssuer


@pytest.mark.parametrize(
    ("spec", "variable"),
    [("oidc/circleci", "CIRCLE_OIDC_TOKEN"), ("oidc/circleci_v2", "CIRCLE_OIDC_TOKEN_V2")],
)
def test_circleci_reads_its_variable(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, spec: str, variable: str
) -> None:
    token = local_issuer.mint({"sub": "org/1/project/2/user/3", "aud": "org-uuid"})
    monkeypatch.setenv(variable, f"  {token}\n")

    assert get_id_token(spec) == token
    assert get_id_token(spec + "/") == token


@pytest.mark.parametrize(
    ("spec", "variable"),
    [("oidc/circleci", "CIRCLE_OIDC_TOKEN"), ("oidc/circleci_v2", "CIRCLE_OIDC_TOKEN_V2")],
)
def test_circleci_missing_variable_is_named(spec: str, variable: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        get_id_token(spec)

    assert str(info.value).startswith(f"{spec} reads the environment variable {variable}, which is not set; ")
    assert "OIDC enabled" in str(info.value)


def test_circleci_takes_no_argument() -> None:
    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/circleci/extra")

    assert (
        str(info.value)
        == "'oidc/circleci' takes no argument, but 'oidc/circleci/extra' gives one; write 'oidc/circleci'"
    )


def test_a_changed_variable_is_noticed(local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = local_issuer.mint({"n": 1}), local_issuer.mint({"n": 2})
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", first)
    assert get_id_token("oidc/circleci") == first

    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", second)

    assert get_id_token("oidc/circleci") == second


def test_azure_token_file_is_reread_when_the_kubelet_rotates_it(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The kubelet's projected volume: the file is a symlink through ..data, swapped atomically.
    first = local_issuer.mint({"sub": "system:serviceaccount:ns:sa", "aud": "api://AzureADTokenExchange"})
    second = local_issuer.mint({"sub": "system:serviceaccount:ns:sa", "aud": "api://AzureADTokenExchange"})
    for name, token in (("v1", first), ("v2", second)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "azure-identity-token").write_text(token)
    (tmp_path / "..data").symlink_to("v1")
    (tmp_path / "azure-identity-token").symlink_to("..data/azure-identity-token")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(tmp_path / "azure-identity-token"))

    assert get_id_token("oidc/azure") == first
    assert get_id_token("oidc/azure") == first

    (tmp_path / "..data_tmp").symlink_to("v2")
    os.replace(tmp_path / "..data_tmp", tmp_path / "..data")

    assert get_id_token("oidc/azure") == second


def test_azure_token_file_rewritten_in_place_is_reread(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, write_file: Callable[..., Path]
) -> None:
    first = local_issuer.mint({"n": 1})
    path = write_file(first)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))
    assert get_id_token("oidc/azure") == first

    second = local_issuer.mint({"n": 2, "pad": "longer"})
    path.write_text(second)

    assert get_id_token("oidc/azure") == second


def test_a_writer_stalled_between_truncating_and_writing_is_waited_for(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, write_file: Callable[..., Path]
) -> None:
    # On a loaded machine the rotating process can be descheduled right after truncating the file
    # for longer than the settle window; the reader must not take the empty file for the token.
    token = local_issuer.mint({"n": 1})
    path = write_file("")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))

    def write_late() -> None:
        time.sleep(0.08)
        path.write_text(token)

    writer = threading.Thread(target=write_late)
    writer.start()
    try:
        assert get_id_token("oidc/azure") == token
    finally:
        writer.join()


def test_a_writer_stalled_halfway_through_the_token_is_waited_for(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Stalled after writing part of the header: two reads a pause apart agree on the partial
    # text, which must still not be taken for the token.
    token = local_issuer.mint({"sub": "system:serviceaccount:ns:sa", "aud": "api://AzureADTokenExchange"})
    path = tmp_path / "azure-identity-token"
    path.write_text(token[: token.index(".") + 5])
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))

    def finish() -> None:
        time.sleep(0.08)
        with open(path, "r+") as handle:
            handle.write(token)

    writer = threading.Thread(target=finish)
    writer.start()
    try:
        assert get_id_token("oidc/azure") == token
    finally:
        writer.join()


def test_azure_token_file_left_empty_by_a_writer_that_never_finishes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "azure-identity-token"
    path.write_text("")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))

    started = time.monotonic()
    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/azure")

    assert time.monotonic() - started < 10
    assert str(info.value) == (
        f"oidc/azure: token file named by AZURE_FEDERATED_TOKEN_FILE {show_path(str(path))} is empty"
    )


def test_azure_without_its_variable() -> None:
    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/azure")

    message = str(info.value)
    assert message.startswith(
        "oidc/azure reads the environment variable AZURE_FEDERATED_TOKEN_FILE, which is not set"
    )
    assert "azure.workload.identity/use=true" in message


def test_azure_with_an_audience_says_when_that_form_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from oidc_credential_chain.providers import azure

    monkeypatch.setattr(azure, "AMBIENT_MODULE", "oidc_credential_chain.no_such_area._ambient")

    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/azure/api://AzureADTokenExchange")

    message = str(info.value)
    assert (
        "oidc/azure/api://AzureADTokenExchange asks for an Entra access token from the ambient Azure identity"
        in message
    )
    assert "use 'oidc/azure' (the AKS workload-identity token file)" in message


@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_file_reads_the_path_after_the_provider(
    local_issuer: OIDCIssuer, write_file: Callable[..., Path], form: str
) -> None:
    token = local_issuer.mint()
    path = write_file(f"\n\t {token} \r\n")
    spec = f"oidc/file{path}" if form == "relative" else f"oidc/file/{path}"
    assert spec.startswith("oidc/file//") == (form == "absolute")

    assert get_id_token(spec) == token


def test_file_changes_are_noticed(local_issuer: OIDCIssuer, write_file: Callable[..., Path]) -> None:
    first, second = local_issuer.mint({"n": 1}), local_issuer.mint({"n": 2})
    path = write_file(first)
    assert get_id_token(f"oidc/file{path}") == first

    replacement = write_file(second, name="token.new")
    os.replace(replacement, path)

    assert get_id_token(f"oidc/file{path}") == second


def test_env_reads_the_named_variable(local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    token = local_issuer.mint()
    monkeypatch.setenv("MY_OIDC_TOKEN", token)

    assert get_id_token("oidc/env/MY_OIDC_TOKEN") == token


def test_env_missing_variable_is_named() -> None:
    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/env/MY_OIDC_TOKEN")

    assert (
        str(info.value)
        == "oidc/env/MY_OIDC_TOKEN reads the environment variable MY_OIDC_TOKEN, which is not set"
    )


def test_env_path_reads_the_file_named_by_the_variable(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, write_file: Callable[..., Path]
) -> None:
    token = local_issuer.mint()
    monkeypatch.setenv("MY_TOKEN_PATH", str(write_file(token + "\n")))

    assert get_id_token("oidc/env_path/MY_TOKEN_PATH") == token


def test_env_path_follows_the_variable_to_a_new_file(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, write_file: Callable[..., Path]
) -> None:
    first, second = local_issuer.mint({"n": 1}), local_issuer.mint({"n": 2})
    monkeypatch.setenv("MY_TOKEN_PATH", str(write_file(first, name="a")))
    assert get_id_token("oidc/env_path/MY_TOKEN_PATH") == first

    monkeypatch.setenv("MY_TOKEN_PATH", str(write_file(second, name="b")))

    assert get_id_token("oidc/env_path/MY_TOKEN_PATH") == second


def test_env_path_missing_variable_is_named() -> None:
    with pytest.raises(
        ConfigurationError, match="reads the environment variable MY_TOKEN_PATH, which is not set"
    ):
        get_id_token("oidc/env_path/MY_TOKEN_PATH")


# --- bad token files --------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        get_id_token(f"oidc/file{tmp_path}/absent")

    assert str(info.value) == f"oidc/file{tmp_path}/absent: token file '{tmp_path}/absent' does not exist"


def test_unreadable_file(
    local_issuer: OIDCIssuer, write_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_file(local_issuer.mint(), mode=0o000)
    if os.geteuid() == 0:
        # Root ignores file modes; give it the refusal the kernel gives everyone else.
        from oidc_credential_chain._internal import files

        real_open = os.open

        def refusing_open(target: str, flags: int, *args: int) -> int:
            if str(target) == str(path):
                raise PermissionError(13, "Permission denied", str(target))
            return real_open(target, flags, *args)

        monkeypatch.setattr(files.os, "open", refusing_open)

    with pytest.raises(ConfigurationError) as info:
        get_id_token(f"oidc/file{path}")

    assert str(info.value) == (
        f"oidc/file{path}: token file '{path}' is not readable by this process (permission denied)"
    )


@pytest.mark.parametrize("content", ["", "   \n\t\n"])
def test_empty_file(write_file: Callable[..., Path], content: str) -> None:
    path = write_file(content)

    with pytest.raises(ConfigurationError) as info:
        get_id_token(f"oidc/file{path}")

    assert str(info.value) == f"oidc/file{path}: token file '{path}' is empty"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a directory"):
        get_id_token(f"oidc/file{tmp_path}")


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            get_id_token(f"oidc/file{fifo}")
        except BaseException as err:
            outcome.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)

    assert not reader.is_alive(), "reading a FIFO with no writer hung"
    assert isinstance(outcome[0], ConfigurationError)
    assert "is not a regular file (FIFO, socket or device); only regular files are read" in str(outcome[0])


def test_dev_zero_is_refused() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/file/dev/zero")

    assert time.monotonic() - started < 5
    assert str(info.value) == (
        "oidc/file/dev/zero: token file '/dev/zero' is not a regular file (FIFO, socket or device); "
        "only regular files are read"
    )


def test_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token").symlink_to("/dev/zero")

    with pytest.raises(ConfigurationError, match="not a regular file"):
        get_id_token(f"oidc/file{tmp_path}/token")


def test_non_jwt_text_is_refused_and_not_echoed(write_file: Callable[..., Path]) -> None:
    path = write_file("AKIAEXAMPLESECRETVALUE this is not a token\n")

    with pytest.raises(ConfigurationError) as info:
        get_id_token(f"oidc/file{path}")

    message = str(info.value)
    assert message == (
        f"the file {path} is not a JWT (expected three base64url parts separated by dots); "
        f"its content is not shown (spec oidc/file{path})"
    )
    assert "AKIAEXAMPLE" not in message and "AKIAEXAMPLE" not in repr(info.value)


def test_jwt_shaped_text_with_garbage_parts_is_refused_and_not_echoed(
    write_file: Callable[..., Path],
) -> None:
    path = write_file("bm90LWpzb24.c2VjcmV0LXZhbHVl.c2ln")

    with pytest.raises(ConfigurationError) as info:
        get_id_token(f"oidc/file{path}")

    assert "has the shape of a JWT but its header or payload is not base64url JSON" in str(info.value)
    assert "c2VjcmV0LXZhbHVl" not in str(info.value)


def test_non_jwt_variable_is_refused_and_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", "hunter2-password")

    with pytest.raises(ConfigurationError) as info:
        get_id_token("oidc/circleci")

    assert "the environment variable CIRCLE_OIDC_TOKEN is not a JWT" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_size_limit_is_64_kib(local_issuer: OIDCIssuer, write_file: Callable[..., Path]) -> None:
    token = local_issuer.mint()
    # Whitespace counts against the limit: the file is read at most 64 KiB + 1 byte.
    exactly = write_file(token + " " * (64 * 1024 - len(token)), name="exact")
    one_more = write_file(token + " " * (64 * 1024 - len(token) + 1), name="over")

    assert get_id_token(f"oidc/file{exactly}") == token
    with pytest.raises(ConfigurationError) as info:
        get_id_token(f"oidc/file{one_more}")
    assert (
        str(info.value)
        == f"oidc/file{one_more}: token file '{one_more}' is larger than 65536 bytes; not a token"
    )


def test_binary_file_is_refused(write_file: Callable[..., Path]) -> None:
    path = write_file(b"\xff\xfe\x00binary")

    with pytest.raises(ConfigurationError, match="is not UTF-8 text; not a token"):
        get_id_token(f"oidc/file{path}")


def test_variable_over_64_kib_is_refused(local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIG", local_issuer.mint({"pad": "x" * 70_000}))

    with pytest.raises(ConfigurationError, match="the environment variable BIG holds more than 65536 bytes"):
        get_id_token("oidc/env/BIG")


# --- OIDC_CREDENTIAL_CHAIN_FILE_DIRS ------------------------------------------------------


def test_file_dirs_allow_listed_directories(
    local_issuer: OIDCIssuer, write_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = local_issuer.mint()
    path = write_file(token)
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", f"/nonexistent:{tmp_path}")

    assert get_id_token(f"oidc/file{path}") == token


def test_file_dirs_refuse_other_directories(
    local_issuer: OIDCIssuer,
    write_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = write_file(local_issuer.mint())
    allowed = tmp_path_factory.mktemp("allowed")
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(allowed))
    monkeypatch.setenv("TOKEN_PATH", str(path))

    for spec in (f"oidc/file{path}", "oidc/env_path/TOKEN_PATH"):
        with pytest.raises(ConfigurationError) as info:
            get_id_token(spec)
        assert (
            f"'{path}' is outside the directories allowed by OIDC_CREDENTIAL_CHAIN_FILE_DIRS ({allowed})"
            in str(info.value)
        )


def test_file_dirs_leave_the_aks_token_file_alone(
    local_issuer: OIDCIssuer,
    write_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The variable guards paths a user writes into specs; the AKS webhook names this one.
    token = local_issuer.mint()
    path = write_file(token)
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(tmp_path_factory.mktemp("allowed")))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))

    assert get_id_token("oidc/azure") == token
    with pytest.raises(ConfigurationError, match="is outside the directories allowed"):
        get_id_token(f"oidc/file{path}")


def test_file_dirs_see_through_symlinks_and_dot_dots(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    allowed = tmp_path_factory.mktemp("allowed")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "token").write_text(local_issuer.mint())
    (allowed / "link").symlink_to(outside / "token")
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(allowed))

    for path in (allowed / "link", Path(f"{allowed}/../{outside.name}/token")):
        with pytest.raises(ConfigurationError, match="is outside the directories allowed"):
            get_id_token(f"oidc/file{path}")


def test_file_dirs_do_not_confuse_prefixes(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "tokens-evil").mkdir()
    (tmp_path / "tokens-evil" / "t").write_text(local_issuer.mint())
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_FILE_DIRS", str(tmp_path / "tokens"))

    with pytest.raises(ConfigurationError, match="is outside the directories allowed"):
        get_id_token(f"oidc/file{tmp_path}/tokens-evil/t")


# --- the unofficial providers' warning ----------------------------------------------------


def test_unofficial_provider_warning_is_logged_once_per_process(
    local_issuer: OIDCIssuer,
    write_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    package_warnings: Callable[[], list[str]],
) -> None:
    token = local_issuer.mint()
    first, second = write_file(token, name="a"), write_file(token, name="b")
    monkeypatch.setenv("MY_TOKEN", token)

    get_id_token(f"oidc/file{first}")
    get_id_token(f"oidc/file{second}", force_refresh=True)
    get_id_token(f"oidc/file{first}", force_refresh=True)
    get_id_token("oidc/env/MY_TOKEN")
    get_id_token("oidc/env/MY_TOKEN", force_refresh=True)

    warnings = package_warnings()
    assert len(warnings) == 2
    assert warnings[0] == (
        f"oidc/file{first} uses the generic 'file' provider: it works, but nothing says who refreshes the "
        "token; prefer a named provider (github, google, circleci, azure, kubernetes...) where one fits"
    )
    assert warnings[1].startswith("oidc/env/MY_TOKEN uses the generic 'env' provider")


def test_no_warning_for_named_providers_or_failures(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch, package_warnings: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", local_issuer.mint())
    get_id_token("oidc/circleci")
    with pytest.raises(ConfigurationError):
        get_id_token("oidc/env/UNSET_VARIABLE")

    assert package_warnings() == []


def test_spec_object_and_string_share_the_cache(
    local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLE_OIDC_TOKEN", local_issuer.mint())

    assert fetch_id_token(parse_spec("oidc/circleci")) is fetch_id_token("oidc/circleci/")


def test_an_expired_token_is_refused(local_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    monkeypatch.setenv(
        "CIRCLE_OIDC_TOKEN", local_issuer.mint({"sub": "org/1", "aud": "a"}, iat=now - 4000, lifetime=3600)
    )

    with pytest.raises(TokenFetchError) as info:
        get_id_token("oidc/circleci")

    message = str(info.value)
    assert re.match(r"the token from the environment variable CIRCLE_OIDC_TOKEN expired 40\d s ago ", message)
    assert "iss='https://oidc.example.com/org/demo', aud='a', sub='org/1'" in message
    assert "fix the clock if it is wrong (spec oidc/circleci)" in message
