"""Cost per ``azure_ad_token_provider()`` call on a cached token: ours vs azure-identity's.

openai's ``AzureOpenAI`` calls the token provider before every request and every retry, so
the cached path is paid on each call.  Compared, in the same process against the same
Entra emulator (HTTPS on loopback) and the same GitHub-style ID token:

- ours:  ``oidc_credential_chain.azure.token_provider("oidc/github/api://AzureADTokenExchange")``
- peer:  ``azure.identity.get_bearer_token_provider(ClientAssertionCredential(tenant, client,
  lambda: get_id_token(spec)), scope)``

Both are warmed (one token fetched), then called in alternating rounds; medians compared.
A second section times a whole ``chat.completions.create`` through the stock ``AzureOpenAI``
client against the Azure OpenAI emulator, where the provider is a small share of the call.
Target: ratio <= 1.0.

    python bench/azure_hot_path.py [--calls 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from azure.identity import ClientAssertionCredential, get_bearer_token_provider

from oidc_credential_chain import get_id_token
from oidc_credential_chain.azure import token_provider
from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    EntraEmulator,
    GitHubActionsTokenEndpoint,
    OIDCIssuer,
    loopback_ca,
)

SPEC = "oidc/github/api://AzureADTokenExchange"
SCOPE = "https://cognitiveservices.azure.com/.default"
SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"


@contextlib.contextmanager
def world() -> Iterator[tuple[EntraEmulator, AzureOpenAIEmulator]]:
    ca = loopback_ca()
    with contextlib.ExitStack() as stack:
        github = stack.enter_context(OIDCIssuer("https://token.actions.githubusercontent.com", lifetime=3600))
        endpoint = stack.enter_context(GitHubActionsTokenEndpoint(github))
        entra = stack.enter_context(EntraEmulator())
        aoai = stack.enter_context(AzureOpenAIEmulator(entra))
        entra.add_federated_credential(github, SUBJECT)
        os.environ.update({**endpoint.env(), **entra.env(), **ca.env(), **aoai.env()})
        yield entra, aoai


def peer_provider(entra: EntraEmulator) -> Callable[[], str]:
    credential = ClientAssertionCredential(
        entra.tenant_id, entra.client_id, lambda: get_id_token(SPEC), authority=entra.authority
    )
    return get_bearer_token_provider(credential, SCOPE)


def per_call(function: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls


def compare(label: str, ours: Callable[[], Any], peer: Callable[[], Any], calls: int, rounds: int) -> float:
    per_call(ours, max(10, calls // 10))
    per_call(peer, max(10, calls // 10))
    ours_times: list[float] = []
    peer_times: list[float] = []
    for round_number in range(rounds):
        pair = [(ours_times, ours), (peer_times, peer)]
        if round_number % 2:
            pair.reverse()
        for times, function in pair:
            times.append(per_call(function, calls))
    mine, theirs = statistics.median(ours_times), statistics.median(peer_times)
    ratio = mine / theirs
    print(f"{label}")
    print(f"  ours: {mine * 1e6:10.2f} us/call   azure-identity: {theirs * 1e6:10.2f} us/call", end="")
    print(f"   ratio {ratio:.3f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20000, help="provider calls per round")
    parser.add_argument("--chat-calls", type=int, default=200, help="chat completions per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import openai

    with world() as (entra, aoai):
        ours = token_provider(SPEC)
        peer = peer_provider(entra)
        assert entra.verify_access_token(ours()) and entra.verify_access_token(peer())
        requests_before = entra.token_requests
        provider_ratio = compare("token provider, cached token", ours, peer, args.calls, args.rounds)
        assert entra.token_requests == requests_before, "the cached path must not ask Entra"

        ours_client = openai.AzureOpenAI(azure_ad_token_provider=ours)
        peer_client = openai.AzureOpenAI(azure_ad_token_provider=peer)
        messages: Any = [{"role": "user", "content": "ping"}]
        chat_ratio = compare(
            "AzureOpenAI chat.completions.create over loopback TLS",
            lambda: ours_client.chat.completions.create(model="gpt-4o", messages=messages),
            lambda: peer_client.chat.completions.create(model="gpt-4o", messages=messages),
            args.chat_calls,
            max(3, args.rounds // 2),
        )
        assert aoai.unauthorized == 0
    print(f"ratio (ours / azure-identity): provider {provider_ratio:.3f}, whole request {chat_ratio:.3f}")


if __name__ == "__main__":
    main()
