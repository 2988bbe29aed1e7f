"""The Entra and Azure OpenAI emulators judge what they receive as the real services do."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from oidc_credential_chain.testing import AzureOpenAIEmulator, EntraEmulator, OIDCIssuer, loopback_ca
from oidc_credential_chain.testing.azure_openai import UNAUTHORIZED_MESSAGE
from oidc_credential_chain.testing.entra import JWT_BEARER
from tests.azure.support import GITHUB_SUBJECT, SCOPE

EXCHANGE = "api://AzureADTokenExchange"


def post_assertion(entra: EntraEmulator, assertion: str, **overrides: str) -> requests.Response:
    form = {
        "client_id": entra.client_id,
        "scope": SCOPE,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        "grant_type": "client_credentials",
    }
    form.update(overrides)
    tenant = form.pop("tenant", entra.tenant_id)
    return requests.post(entra.token_url(tenant), data=form, verify=loopback_ca().ca_path, timeout=10)


def github_token(issuer: OIDCIssuer, **claims: Any) -> str:
    return issuer.mint({"sub": GITHUB_SUBJECT, "aud": EXCHANGE, **claims})


def aadsts(response: requests.Response) -> int:
    body = response.json()
    return int(body["error_codes"][0])


@pytest.fixture
def trusting(entra: EntraEmulator, github_issuer: OIDCIssuer) -> EntraEmulator:
    entra.add_federated_credential(github_issuer, GITHUB_SUBJECT)
    return entra


# --- Entra --------------------------------------------------------------------------------


def test_entra_issues_a_token_in_entra_shape(trusting: EntraEmulator, github_issuer: OIDCIssuer) -> None:
    response = post_assertion(trusting, github_token(github_issuer))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store, no-cache"
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599


def test_issued_tokens_verify_through_discovery_and_jwks(
    trusting: EntraEmulator, github_issuer: OIDCIssuer
) -> None:
    token = post_assertion(trusting, github_token(github_issuer), scope="api://my-aws-app/.default").json()[
        "access_token"
    ]
    # What a relying party (AWS STS) does: discovery for the token's issuer, then its JWKS.
    ca = loopback_ca().ca_path
    discovery = requests.get(trusting.discovery_url(), verify=ca, timeout=10).json()
    assert discovery["issuer"] == trusting.token_issuer() == f"https://sts.windows.net/{trusting.tenant_id}/"
    jwks = requests.get(discovery["jwks_uri"], verify=ca, timeout=10).json()
    key = jwt.PyJWK(jwks["keys"][-1])
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], audience="api://my-aws-app", issuer=discovery["issuer"]
    )
    assert claims["sub"] == claims["oid"] == trusting.app().object_id
    assert claims["appid"] == trusting.client_id and claims["ver"] == "1.0"


def test_v2_tokens_and_sovereign_clouds(github_issuer: OIDCIssuer, loopback_tls: object) -> None:
    with EntraEmulator(cloud="china", token_version=2) as entra:
        record = entra.add_federated_credential(github_issuer, GITHUB_SUBJECT)
        assert record["audiences"] == ["api://AzureADTokenExchangeChina"]
        refused = post_assertion(entra, github_token(github_issuer))
        assert aadsts(refused) == 70021
        token = post_assertion(entra, github_token(github_issuer, aud="api://AzureADTokenExchangeChina"))
        claims = entra.verify_access_token(token.json()["access_token"])
        assert claims["iss"] == f"https://login.chinacloudapi.cn/{entra.tenant_id}/v2.0"
        assert claims["azp"] == entra.client_id and claims["ver"] == "2.0"
    with pytest.raises(ValueError, match="cloud must be one of public, usgov, china"):
        EntraEmulator(cloud="mars")


def test_forged_assertion_is_refused(trusting: EntraEmulator, github_issuer: OIDCIssuer) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = post_assertion(
        trusting, github_issuer.mint({"sub": GITHUB_SUBJECT, "aud": EXCHANGE}, signing_key=forger)
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert aadsts(response) == 700027


def test_expired_and_future_assertions_are_out_of_range(
    trusting: EntraEmulator, github_issuer: OIDCIssuer
) -> None:
    now = github_issuer.now()
    expired = post_assertion(trusting, github_token(github_issuer, iat=now - 600, nbf=now - 600, exp=now - 1))
    future = post_assertion(
        trusting, github_token(github_issuer, iat=now + 600, nbf=now + 600, exp=now + 900)
    )

    for response in (expired, future):
        assert response.status_code == 401
        assert aadsts(response) == 700024
        assert "Client assertion is not within its valid time range" in response.json()["error_description"]
    trusting.leeway = 10
    assert post_assertion(trusting, github_token(github_issuer, exp=now - 5)).status_code == 200


def test_untrusted_remote_issuer_keys_cannot_be_fetched(entra: EntraEmulator) -> None:
    with OIDCIssuer("https://gitlab.example.com") as gitlab:
        entra.add_federated_credential(
            "https://gitlab.example.com", "project_path:g/p:ref_type:branch:ref:main"
        )
        token = gitlab.mint({"sub": "project_path:g/p:ref_type:branch:ref:main", "aud": EXCHANGE})
        assert aadsts(post_assertion(entra, token)) == 50166
        entra.trust_issuer(gitlab)
        assert post_assertion(entra, token).status_code == 200


def test_claims_matching_expression(entra: EntraEmulator, github_issuer: OIDCIssuer) -> None:
    entra.add_federated_credential(
        github_issuer,
        claims_matching_expression="claims['sub'] matches 'repo:octo-org/octo-repo:ref:refs/heads/*'",
    )

    assert post_assertion(entra, github_token(github_issuer)).status_code == 200
    refused = post_assertion(entra, github_token(github_issuer, sub="repo:octo-org/octo-repo:pull_request"))
    assert aadsts(refused) == 7002131
    with pytest.raises(ValueError, match="exactly one of subject and claims_matching_expression"):
        entra.add_federated_credential(github_issuer)


@pytest.mark.parametrize(
    ("overrides", "code", "error"),
    [
        ({"grant_type": "password"}, 70003, "unsupported_grant_type"),
        ({"grant_type": ""}, 900144, "invalid_request"),
        ({"client_id": ""}, 900144, "invalid_request"),
        ({"scope": ""}, 900144, "invalid_request"),
        ({"scope": "https://cognitiveservices.azure.com/.default api://x/.default"}, 70011, "invalid_scope"),
        ({"scope": "https://cognitiveservices.azure.com/user_impersonation"}, 1002012, "invalid_scope"),
        ({"client_assertion_type": "urn:other"}, 7000218, "invalid_client"),
        ({"client_assertion": "not-a-jwt"}, 50027, "invalid_request"),
        ({"client_id": "22222222-2222-2222-2222-222222222222"}, 700016, "unauthorized_client"),
        ({"tenant": "fabrikam.onmicrosoft.com"}, 90002, "invalid_tenant"),
    ],
)
def test_malformed_requests_get_entra_errors(
    trusting: EntraEmulator, github_issuer: OIDCIssuer, overrides: dict[str, str], code: int, error: str
) -> None:
    response = post_assertion(trusting, github_token(github_issuer), **overrides)

    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "\r\nTrace ID: " in body["error_description"]
    assert "\r\nCorrelation ID: " in body["error_description"]
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
    assert trusting.refusals[-1].code == f"AADSTS{code}"


def test_tenant_domains_resolve(trusting: EntraEmulator, github_issuer: OIDCIssuer) -> None:
    trusting.add_tenant(trusting.tenant_id, domains=["contoso.onmicrosoft.com"])
    response = post_assertion(trusting, github_token(github_issuer), tenant="contoso.onmicrosoft.com")
    assert response.status_code == 200


def test_one_entra_token_is_an_assertion_for_another_app(
    github_issuer: OIDCIssuer, loopback_tls: object
) -> None:
    # A managed identity (here: app A) federated into app B, as Entra allows.
    with EntraEmulator(token_version=2) as entra:
        entra.add_federated_credential(github_issuer, GITHUB_SUBJECT)
        app_a = entra.app()
        token_a = post_assertion(entra, github_token(github_issuer), scope=f"{EXCHANGE}/.default").json()[
            "access_token"
        ]
        app_b = entra.add_app(display_name="b")
        entra.add_federated_credential(entra.token_issuer(), app_a.object_id, client_id=app_b.client_id)

        response = post_assertion(entra, token_a, client_id=app_b.client_id)

        assert response.status_code == 200
        assert entra.verify_access_token(response.json()["access_token"])["azp"] == app_b.client_id


# --- Azure OpenAI -------------------------------------------------------------------------


def chat(aoai: AzureOpenAIEmulator, headers: dict[str, str], path: str | None = None) -> requests.Response:
    return requests.post(
        aoai.endpoint + (path or "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"),
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers=headers,
        verify=loopback_ca().ca_path,
        timeout=10,
    )


def access_token(entra: EntraEmulator, issuer: OIDCIssuer, scope: str = SCOPE) -> str:
    response = post_assertion(entra, github_token(issuer), scope=scope)
    token: str = response.json()["access_token"]
    return token


def test_azure_openai_answers_in_chat_completion_shape(
    trusting: EntraEmulator, azure_openai: AzureOpenAIEmulator, github_issuer: OIDCIssuer
) -> None:
    response = chat(azure_openai, {"Authorization": f"Bearer {access_token(trusting, github_issuer)}"})

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "gpt-4o-2024-08-06"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello from the Azure OpenAI emulator. You said: hi",
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert "prompt_filter_results" in body


def test_azure_openai_rejects_bad_bearer_tokens(
    trusting: EntraEmulator, azure_openai: AzureOpenAIEmulator, github_issuer: OIDCIssuer
) -> None:
    wrong_audience = access_token(trusting, github_issuer, scope="https://management.azure.com/.default")
    trusting.expires_in = 1
    expiring = access_token(trusting, github_issuer)
    azure_openai.clock = lambda: trusting.clock() + 5
    cases = {
        "missing bearer token": {},
        "wrong audience 'https://management.azure.com'": {"Authorization": f"Bearer {wrong_audience}"},
        "expired": {"Authorization": f"Bearer {expiring}"},
        "unknown signing key": {"Authorization": f"Bearer {github_token(github_issuer)}"},
    }
    for reason, headers in cases.items():
        response = chat(azure_openai, headers)
        assert response.status_code == 401
        assert response.json() == {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE}
        assert azure_openai.rejections[-1] == reason
    assert azure_openai.unauthorized == len(cases)


def test_azure_openai_api_keys_rbac_and_routes(
    trusting: EntraEmulator, azure_openai: AzureOpenAIEmulator, github_issuer: OIDCIssuer
) -> None:
    azure_openai.api_keys = {"k-123"}
    assert chat(azure_openai, {"api-key": "k-123"}).status_code == 200
    bad_key = chat(azure_openai, {"api-key": "nope"})
    assert bad_key.status_code == 401 and bad_key.json()["error"]["code"] == "401"

    bearer = {"Authorization": f"Bearer {access_token(trusting, github_issuer)}"}
    azure_openai.allowed_principals = {"someone-else"}
    denied = chat(azure_openai, bearer)
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "PermissionDenied"
    azure_openai.allowed_principals = {trusting.app().object_id}
    assert chat(azure_openai, bearer).status_code == 200

    missing = chat(azure_openai, bearer, "/openai/deployments/gpt-5/chat/completions?api-version=2024-10-21")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "DeploymentNotFound"
    no_version = chat(azure_openai, bearer, "/openai/deployments/gpt-4o/chat/completions")
    assert no_version.status_code == 404
