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
