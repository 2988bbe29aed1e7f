from __future__ import annotations

import dataclasses

import pytest

from oidc_credential_chain import ConfigurationError, Spec, is_spec, parse_spec


@pytest.mark.parametrize(
    ("text", "provider", "argument"),
    [
        ("oidc/github/sts.amazonaws.com", "github", "sts.amazonaws.com"),
        ("oidc/github", "github", None),
        ("oidc/github/", "github", None),
        ("oidc/circleci", "circleci", None),
        ("oidc/circleci/", "circleci", None),
        ("oidc/circleci_v2", "circleci_v2", None),
        ("oidc/google/https://example.com", "google", "https://example.com"),
        ("oidc/google/https://example.com/", "google", "https://example.com/"),
        ("oidc/file/var/run/token", "file", "var/run/token"),
        ("oidc/file//var/run/token", "file", "/var/run/token"),
        ("oidc/azure", "azure", None),
        ("oidc/azure/api://AzureADTokenExchange", "azure", "api://AzureADTokenExchange"),
        ("  oidc/env/MY_TOKEN\n", "env", "MY_TOKEN"),
    ],
)
def test_parse(text: str, provider: str, argument: str | None) -> None:
    spec = parse_spec(text)
    assert (spec.provider, spec.argument) == (provider, argument)


def test_empty_argument_is_no_argument() -> None:
    assert parse_spec("oidc/github/") == parse_spec("oidc/github")
    assert parse_spec("oidc/github/").text == "oidc/github"


def test_spec_is_immutable_with_readable_repr() -> None:
    spec = parse_spec("oidc/google/https://example.com/")
    assert repr(spec) == "Spec('oidc/google/https://example.com/')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.provider = "github"  # type: ignore[misc]
    assert parse_spec(spec) is spec
    assert hash(spec) == hash(Spec("google", "https://example.com/"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("oidc/", "names no identity provider"),
        ("oidc", "names no identity provider"),
        ("oidc//x", "names no identity provider"),
        ("github/x", "must start with 'oidc/'"),
        ("oidc/unknown/x", "unknown identity provider 'unknown'"),
        ("oidc/google/", "'oidc/google' needs an audience"),
        ("oidc/google", "'oidc/google' needs an audience"),
        ("oidc/circleci/extra", "'oidc/circleci' takes no argument"),
        ("oidc/circleci_v2/x", "'oidc/circleci_v2' takes no argument"),
        ("oidc/file/", "'oidc/file' needs a path"),
        ("oidc/env", "'oidc/env' needs a variable name"),
    ],
)
def test_bad_specs(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec(text)
    assert message in str(info.value)


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec("oidc/unknown/x")
    for name in ("google", "github", "circleci", "circleci_v2", "azure", "file", "env", "env_path"):
        assert name in str(info.value)


def test_is_spec() -> None:
    assert is_spec("oidc/github")
    assert is_spec(" oidc/github ")
    assert not is_spec("/var/run/token")
    assert not is_spec(None)


def test_spec_built_directly_treats_empty_argument_as_none() -> None:
    assert Spec("github", "") == Spec("github") == parse_spec("oidc/github/")
    assert Spec("github", "").text == "oidc/github"


def test_file_paths_keep_their_slashes() -> None:
    assert parse_spec("oidc/file//var/run/token").argument == "/var/run/token"
    assert parse_spec("oidc/file/var/run/token/").argument == "var/run/token/"


@pytest.mark.parametrize(
    "text",
    [
        "oidc/env/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJl",
        "oidc/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJl",
    ],
)
def test_a_token_pasted_into_a_spec_is_refused_unechoed(text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec(text)

    message = str(info.value)
    assert message.startswith("the token spec holds what looks like a token itself")
    assert "eyJzdWIiOiJjYW5hcnkifQ" not in message and "c2lnbmF0dXJl" not in message


def test_a_non_spec_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec("hunter2")

    assert "hunter2" not in str(info.value)
    assert str(info.value).startswith("a token spec must start with 'oidc/'")


def test_a_non_string_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="must be a string like 'oidc/github', not int"):
        parse_spec(42)  # type: ignore[arg-type]
