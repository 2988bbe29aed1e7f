"""The hooks' decisions and error paths, on the real SDK classes in this process."""

from __future__ import annotations

import os
from typing import Any

import botocore.session
import pytest

from oidc_credential_chain import _botocore_hook
from oidc_credential_chain.azure import AzureConfigurationError
from oidc_credential_chain.azure import _hook as azure_hook

SPEC = "oidc/github/api://AzureADTokenExchange"


def test_an_explicit_spec_beside_a_provider_is_refused_by_name() -> None:
    with pytest.raises(AzureConfigurationError) as info:
        azure_hook.openai_spec({"azure_ad_token": SPEC, "azure_ad_token_provider": lambda: "x"})
    assert str(info.value).startswith(
        f"azure_ad_token={SPEC} stands for azure_ad_token_provider=token_provider('{SPEC}'); "
        "pass only one of api_key, azure_ad_token and azure_ad_token_provider"
    )


def test_which_arguments_and_variables_hold_a_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", SPEC)
    assert azure_hook.openai_spec({}) == SPEC
    assert azure_hook.openai_spec({"azure_ad_token": f"  {SPEC}  "}) == SPEC
    # An explicit credential means the variable is not read, by openai or by us.
    assert azure_hook.openai_spec({"api_key": "key"}) is None
    assert azure_hook.openai_spec({"azure_ad_token_provider": lambda: "x"}) is None
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "eyJraw.jwt.token")
    assert azure_hook.openai_spec({}) is None


class OpenAIThatReadsTheVariableAnyway:
    """How openai clients before the auth rework behaved: the variable was read beside a provider."""

    def __init__(self, *, azure_ad_token: str | None = None, azure_ad_token_provider: Any = None) -> None:
        self._azure_ad_token = azure_ad_token or os.environ.get("AZURE_OPENAI_AD_TOKEN")
        self._azure_ad_token_provider = azure_ad_token_provider


def test_an_openai_that_would_send_the_spec_fails_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, entra: Any, github_actions: Any
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", SPEC)
    cls = type("AzureOpenAI", (OpenAIThatReadsTheVariableAnyway,), {})
    azure_hook._wrap_azure_openai(cls, aio=False)

    with pytest.raises(AzureConfigurationError) as info:
        cls()
    message = str(info.value)
    assert message.startswith("AZURE_OPENAI_AD_TOKEN holds an 'oidc/...' spec, and this openai version reads")
    assert "pass azure_ad_token_provider=oidc_credential_chain.azure.token_provider(...)" in message


def test_a_spec_that_asks_default_azure_credential_itself_is_not_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", "oidc/azure/api://my-app")
    assert azure_hook._federated_spec() is None
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN", "oidc/azure")  # the AKS token file: fine
    assert azure_hook._federated_spec() == "oidc/azure"


def test_a_chain_without_deployed_service_credentials_is_left_alone() -> None:
    class AzureCliCredential:
        pass

    developer_only = (AzureCliCredential(),)
    assert azure_hook.with_oidc_credential(developer_only, SPEC, {}, aio=False) is developer_only


def test_wrapping_twice_wraps_once() -> None:
    cls = type("AzureOpenAI", (OpenAIThatReadsTheVariableAnyway,), {})
    azure_hook._wrap_azure_openai(cls, aio=False)
    first = cls.__init__
    azure_hook._wrap_azure_openai(cls, aio=False)
    assert cls.__init__ is first


def test_the_stand_in_answers_none_when_nothing_is_configured(tmp_path: Any) -> None:
    session = botocore.session.Session()
    stand_in = _botocore_hook.LazyProvider(session)
    assert stand_in.load() is None
    assert stand_in._provider is None  # the real provider was not built


def test_what_counts_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    config = os.environ["AWS_CONFIG_FILE"]
    session = botocore.session.Session()
    assert not _botocore_hook.configured(session)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", "eyJraw.jwt.token")  # botocore's own, not ours
    assert not _botocore_hook.configured(session)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN", " oidc/github ")
    assert _botocore_hook.configured(session)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN")
    with open(config, "w") as f:
        f.write("[profile other]\noidc_web_identity_token = oidc/github\n")
    assert _botocore_hook.configured(botocore.session.Session())


def test_the_stand_in_uses_the_providers_method_name() -> None:
    from oidc_credential_chain.aws.provider import METHOD

    assert _botocore_hook.METHOD == METHOD


def test_an_aiobotocore_session_gets_the_async_stand_in_not_the_sync_one() -> None:
    # aiobotocore is not a dependency here: a botocore session class from its module stands in for it.
    aio_session_cls = type("AioSession", (botocore.session.Session,), {"__module__": "aiobotocore.session"})
    session = aio_session_cls()
    _botocore_hook.attach(session)
    assert getattr(session, _botocore_hook.MARK, False)
    providers = session.get_component("credential_provider").providers
    stand_ins = [p for p in providers if getattr(p, "METHOD", None) == _botocore_hook.METHOD]
    assert [type(p) for p in stand_ins] == [_botocore_hook.AsyncLazyProvider]
    assert not any(isinstance(p, _botocore_hook.LazyProvider) for p in providers)
