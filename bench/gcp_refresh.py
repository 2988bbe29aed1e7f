"""Google credential refreshes: identity-provider calls and time, ours vs google-auth's own URL source.

The peer is what GitHub Actions users configure today without this library: an
external-account ``credential_source`` with the job's ID token URL, which google-auth
fetches on every refresh (its suppliers are not cached).  Both run against the loopback
GitHub token endpoint and Google STS emulators in the same process; STS is told to issue
tokens that google-auth considers expired at once, so every request refreshes.

    python bench/gcp_refresh.py [--refreshes 200]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from google.auth import identity_pool
from google.auth.transport.requests import Request

from oidc_credential_chain import clear_token_cache, gcp
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint, GoogleSTSEmulator, OIDCIssuer


def _measure(creds: Any, refreshes: int, endpoint: GitHubActionsTokenEndpoint) -> tuple[float, int]:
    request = Request()
    endpoint.reset_counts()
    started = time.perf_counter()
    for _ in range(refreshes):
        creds.refresh(request)
    return time.perf_counter() - started, endpoint.count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--refreshes", type=int, default=200)
    args = parser.parse_args()
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as github,
        GoogleSTSEmulator() as sts,
    ):
        os.environ.update(github.env())
        pool = sts.add_provider(issuer)
        sts.token_lifetime = 1
        audience = "https:" + pool.audience
        peer = identity_pool.Credentials(
            audience=pool.audience,
            subject_token_type="urn:ietf:params:oauth:token-type:jwt",
            token_url=sts.token_url,
            credential_source={
                "url": f"{github.request_url}&audience={audience}",
                "headers": {
                    "Authorization": f"Bearer {github.request_token}",
                    "Accept": "application/json; api-version=2.0",
                },
                "format": {"type": "json", "subject_token_field_name": "value"},
            },
            scopes=["https://www.googleapis.com/auth/cloud-platform"],
        )
        clear_token_cache()
        ours = gcp.credentials(token="oidc/github", audience=pool.audience, token_url=sts.token_url)
        _measure(ours, 5, github)  # warm both paths (imports, connections)
        _measure(peer, 5, github)
        peer_time, peer_calls = _measure(peer, args.refreshes, github)
        clear_token_cache()
        our_time, our_calls = _measure(ours, args.refreshes, github)
    n = args.refreshes
    print(f"refreshes: {n} (each one a Google STS exchange)")
    for name, calls, seconds in (
        ("google-auth url credential_source", peer_calls, peer_time),
        ("oidc_credential_chain.gcp", our_calls, our_time),
    ):
        print(f"{name:34} {calls} GitHub token requests, {seconds / n * 1000:.2f} ms/refresh")
    print(f"identity-provider calls, peer/ours: {peer_calls / max(our_calls, 1):.0f}x")
    print(f"time per refresh, peer/ours: {peer_time / our_time:.2f}x")


if __name__ == "__main__":
    main()
