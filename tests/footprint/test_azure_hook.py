"""Azure with zero code change: Microsoft's quickstart code and env-only ``AzureOpenAI()``, unmodified,
in fresh processes of the venv with the wheel, against the Entra and Azure OpenAI emulators."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import azure.identity
import pytest

from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    loopback_ca,
)
from tests.footprint.support import clean_env, run

SPEC = "oidc/github/api://AzureADTokenExchange"
SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"
SCOPE = "https://cognitiveservices.azure.com/.default"

QUICKSTART = textwrap.dedent(
    f"""
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    from openai import AzureOpenAI

    token_provider = get_bearer_token_provider(DefaultAzureCredential(), "{SCOPE}")
    client = AzureOpenAI(azure_ad_token_provider=token_provider)
    response = client.chat.completions.create(
        model="gpt-4o", messages=[{{"role": "user", "content": "quickstart"}}]
    )
    print(response.choices[0].message.content)
    """
)

ASYNC_QUICKSTART = textwrap.dedent(
    f"""
    import asyncio

    from azure.identity.aio import DefaultAzureCredential, get_bearer_token_provider
    from openai import AsyncAzureOpenAI

    async def main():
        async with DefaultAzureCredential() as credential:
            token_provider = get_bearer_token_provider(credential, "{SCOPE}")
            client = AsyncAzureOpenAI(azure_ad_token_provider=token_provider)
            response = await client.chat.completions.create(
                model="gpt-4o", messages=[{{"role": "user", "content": "async quickstart"}}]
            )
            print(response.choices[0].message.content)

    asyncio.run(main())
    """
)

ENV_ONLY = textwrap.dedent(
    """
    from openai import AzureOpenAI

    client = AzureOpenAI()  # AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION, AZURE_OPENAI_AD_TOKEN
    messages = [{"role": "user", "content": "env only"}]
    response = client.chat.completions.create(model="gpt-4o", messages=messages)
    print(response.choices[0].message.content)
    """
)

ASYNC_ENV_ONLY = textwrap.dedent(
    """
    import asyncio

    from openai import AsyncAzureOpenAI

    async def main():
        client = AsyncAzureOpenAI()
        response = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "async env only"}]
        )
        print(response.choices[0].message.content)

    asyncio.run(main())
    """
)

CHAIN = textwrap.dedent(
    """
    import json

    import azure.identity
    import azure.identity.aio
    import openai

    def names(credential):
        return [type(c).__name__ for c in credential.credentials]

    print(json.dumps({
        "sync": names(azure.identity.DefaultAzureCredential()),
        "aio": names(azure.identity.aio.DefaultAzureCredential()),
        "identity_hooked": hasattr(azure.identity.DefaultAzureCredential.__init__, "__wrapped__"),
        "openai_hooked": hasattr(openai.AzureOpenAI.__init__, "__wrapped__"),
        "version": azure.identity.__version__,
    }))
    """
)


@dataclass
class World:
    entra: EntraEmulator
    openai: AzureOpenAIEmulator
    env: dict[str, str]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """GitHub Actions trusted by Entra's default app; Azure OpenAI accepting its tokens; the variables
    a user sets (no spec yet)."""
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
        EntraEmulator() as entra,
        AzureOpenAIEmulator(entra) as aoai,
    ):
        entra.add_federated_credential(issuer, SUBJECT, name="github-main")
        env = clean_env(tmp_path, **github.env(), **entra.env(), **aoai.env(), **loopback_ca().env())
        yield World(entra, aoai, env)


def python(venv: Path, code: str, env: dict[str, str], cwd: Path) -> str:
    done = run([str(venv), "-c", code], env=env, cwd=str(cwd))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def chain(venv: Path, env: dict[str, str], cwd: Path) -> dict[str, object]:
    return json.loads(python(venv, CHAIN, env, cwd))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("code", "said"), [(QUICKSTART, "quickstart"), (ASYNC_QUICKSTART, "async quickstart")]
)
def test_the_stock_quickstart_runs_on_a_federated_spec(
    venv: Path, world: World, tmp_path: Path, code: str, said: str
) -> None:
    env = {**world.env, "AZURE_FEDERATED_TOKEN": SPEC}

    answer = python(venv, code, env, tmp_path)

    assert answer == f"Hello from the Azure OpenAI emulator. You said: {said}"
    [issued] = world.entra.issued
    assert issued.assertion_claims["iss"] == "https://token.actions.githubusercontent.com"
    assert issued.assertion_claims["aud"] == "api://AzureADTokenExchange"
    assert world.openai.unauthorized == 0
    assert world.openai.completions[0].principal == world.entra.app().object_id


@pytest.mark.parametrize(("code", "said"), [(ENV_ONLY, "env only"), (ASYNC_ENV_ONLY, "async env only")])
def test_env_only_azure_openai_turns_the_spec_into_a_token_provider(
    venv: Path, world: World, tmp_path: Path, code: str, said: str
) -> None:
    env = {**world.env, "AZURE_OPENAI_AD_TOKEN": SPEC}

    answer = python(venv, code, env, tmp_path)

    assert answer == f"Hello from the Azure OpenAI emulator. You said: {said}"
    assert world.entra.token_requests == 1
    assert world.openai.unauthorized == 0, world.openai.rejections  # the spec never went out


def test_the_oidc_credential_joins_after_environment_and_before_workload_identity(
    venv: Path, world: World, tmp_path: Path
) -> None:
    token_file = tmp_path / "aks-token"
    token_file.write_text("not-read-here")
    env = {**world.env, "AZURE_FEDERATED_TOKEN": SPEC, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}

    names = chain(venv, env, tmp_path)

    assert names["version"] == azure.identity.__version__  # the one this run tests
    for flavour in ("sync", "aio"):
        order = names[flavour]
        assert isinstance(order, list)
        assert order[:3] == ["EnvironmentCredential", "OIDCCredential", "WorkloadIdentityCredential"], order
        assert order.count("OIDCCredential") == 1


def test_a_client_secret_in_the_environment_still_goes_first(
    venv: Path, world: World, tmp_path: Path
) -> None:
    ask = textwrap.dedent(
        f"""
        from azure.identity import DefaultAzureCredential
        DefaultAzureCredential().get_token("{SCOPE}")
        """
    )
    env = {**world.env, "AZURE_FEDERATED_TOKEN": SPEC, "AZURE_CLIENT_SECRET": "not-a-real-secret"}

    done = run([str(venv), "-c", ask], env=env, cwd=str(tmp_path))

    # EnvironmentCredential answered (the emulator takes no secrets, so it failed) and the chain
    # stopped there, as DefaultAzureCredential does: the federated spec was never used.
    assert done.returncode == 1
    assert "EnvironmentCredential" in done.stderr
    assert world.entra.issued == []
    assert "not-a-real-secret" not in done.stderr


def test_nothing_changes_without_a_spec_or_with_autoload_off(
    venv: Path, world: World, tmp_path: Path
) -> None:
    stock = chain(venv, {**world.env, "OIDC_CREDENTIAL_CHAIN_AUTOLOAD": "0"}, tmp_path)
    assert stock["identity_hooked"] is False and stock["openai_hooked"] is False
    assert "OIDCCredential" not in stock["sync"]  # type: ignore[operator]

    # Hooked, but no spec anywhere (a raw JWT in the variable is not ours): the same chain.
    no_spec = chain(venv, {**world.env, "AZURE_FEDERATED_TOKEN": "eyJhbGciOi.eyJzdWIi.c2ln"}, tmp_path)
    assert no_spec["identity_hooked"] is True and no_spec["openai_hooked"] is True
    assert no_spec["sync"] == stock["sync"] and no_spec["aio"] == stock["aio"]

    off = chain(
        venv, {**world.env, "AZURE_FEDERATED_TOKEN": SPEC, "OIDC_CREDENTIAL_CHAIN_AUTOLOAD": "0"}, tmp_path
    )
    assert off["sync"] == stock["sync"]


def test_importing_the_sdks_with_nothing_configured_loads_only_the_hook(venv: Path, tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        import sys
        import azure.identity, azure.identity.aio, openai
        print(sorted(m for m in sys.modules if m.startswith("oidc_credential_chain.")))
        """
    )
    loaded = python(venv, probe, clean_env(tmp_path), tmp_path)
    hook = ["azure", "azure._hook"]
    assert loaded == str([f"oidc_credential_chain.{name}" for name in hook])
