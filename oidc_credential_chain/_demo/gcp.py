"""The Google half of ``demo``: Vertex AI ``generateContent`` on a GitHub Actions identity.

Everything runs on loopback: GitHub's token endpoint and issuer, Google STS (verifying the
subject token's signature through the issuer's JWKS, its audience, expiry, the pool provider's
attribute mapping and condition), IAM Credentials (checking that the federated principal may
impersonate the service account) and Vertex AI (verifying the bearer token, its scope and project).
"""

from __future__ import annotations

import contextlib
import datetime
import textwrap
from typing import Any, TextIO

from .._internal.extras import missing_extra
from ._env import describe_claims, environment_lines, isolated_environ, plural, when

SPEC = "oidc/github"
PROJECT = "demo-project"
LOCATION = "us-central1"
MODEL = "gemini-2.0-flash"
SERVICE_ACCOUNT = f"vertex-caller@{PROJECT}.iam.gserviceaccount.com"
QUESTION = "Which identity is asking?"
CONDITION = "assertion.repository_owner == 'octo-org'"

#: What runs: google-auth's AuthorizedSession with credentials from one call.
VERTEX_CODE = f"""\
from google.auth.transport.requests import AuthorizedSession
from oidc_credential_chain import gcp

credentials = gcp.credentials(
    token="{SPEC}",
    audience=POOL_PROVIDER,  # //iam.googleapis.com/projects/.../providers/...
    service_account="{SERVICE_ACCOUNT}",  # optional: impersonate
    token_url=GOOGLE_STS_URL,  # the emulators; omit both for Google's own endpoints
    iam_endpoint=IAM_CREDENTIALS_URL,
)
url = (
    f"{{VERTEX_URL}}/v1/projects/{PROJECT}/locations/{LOCATION}"
    "/publishers/google/models/{MODEL}:generateContent"
)
reply = AuthorizedSession(credentials).post(
    url, json={{"contents": [{{"role": "user", "parts": [{{"text": "{QUESTION}"}}]}}]}}
)
answer = reply.json()["candidates"][0]["content"]["parts"][0]["text"]
"""


def _run_code(settings: dict[str, str]) -> tuple[str, Any]:
    namespace: dict[str, Any] = dict(settings)
    exec(compile(VERTEX_CODE, "<demo: Vertex AI>", "exec"), namespace)  # noqa: S102 - our own constant
    return str(namespace["answer"]), namespace["credentials"]


def run_gcp_demo(out: TextIO) -> None:
    """Start the emulators, call Vertex AI as a GitHub Actions identity, print each step.

    Raises if any step fails or Vertex AI saw anyone but the impersonated service account.

    Example::

        import sys
        run_gcp_demo(sys.stdout)
    """
    try:
        import google.auth  # noqa: F401 - checked here for a clear message
        import jwt  # noqa: F401

        from ..testing.github import GitHubActionsTokenEndpoint
        from ..testing.google_sts import GoogleSTSEmulator
        from ..testing.iam_credentials import IAMCredentialsEmulator
        from ..testing.issuer import OIDCIssuer
        from ..testing.vertex import VertexAIEmulator
    except ImportError as err:
        raise (missing_extra(err, "the Google demo") or err) from None

    from .._api import _cache as id_token_cache
    from .._api import fetch_id_token
    from ..gcp import subject_token_spec

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    with contextlib.ExitStack() as stack:
        issuer = stack.enter_context(OIDCIssuer("https://token.actions.githubusercontent.com"))
        github = stack.enter_context(GitHubActionsTokenEndpoint(issuer))
        google_sts = stack.enter_context(GoogleSTSEmulator())
        iam = stack.enter_context(IAMCredentialsEmulator(google_sts))
        vertex = stack.enter_context(VertexAIEmulator(google_sts, iam, project=PROJECT, location=LOCATION))
        pool = google_sts.add_provider(
            issuer,
            pool_id="github",
            provider_id="octo-org",
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.repository_owner": "assertion.repository_owner",
            },
            attribute_condition=CONDITION,
        )
        member = pool.principal_set("repository", "octo-org/octo-repo")
        iam.add_service_account(SERVICE_ACCOUNT, members=[member])
        vertex.allowed_members = {f"serviceAccount:{SERVICE_ACCOUNT}"}

        say("== Google Cloud: Vertex AI on a GitHub Actions identity ==")
        say("Emulators on loopback:")
        say(f"  GitHub Actions ID tokens   {github.url}  (iss {issuer.issuer})")
        say(f"  Google STS                 {google_sts.token_url}")
        say(f"  IAM Credentials            {iam.url}")
        say(f"  Vertex AI                  {vertex.url}  (project {PROJECT}, model {MODEL})")
        say()
        say(f"Workload identity pool provider {pool.audience}")
        say(f"    trusts issuer {issuer.issuer} when {CONDITION};")
        say(f"service account {SERVICE_ACCOUNT} lets {member} impersonate it")
        say("    (roles/iam.workloadIdentityUser), and only it may call Vertex AI.")
        say()
        say("The code:")
        say(textwrap.indent(VERTEX_CODE.rstrip(), "    "))
        say()
        settings = {
            "POOL_PROVIDER": pool.audience,
            "GOOGLE_STS_URL": google_sts.token_url,
            "IAM_CREDENTIALS_URL": iam.url,
            "VERTEX_URL": vertex.url.rstrip("/"),
        }
        env = github.env()
        say("Environment and settings (to repeat this by hand while the emulators run):")
        for line in environment_lines({**env, **settings}, [*env, *settings]):
            say(line)
        say()
        spec = subject_token_spec(SPEC, pool.audience)
        with isolated_environ(env, drop_prefixes=("ACTIONS_ID_TOKEN_", "GOOGLE_", "OIDC_CREDENTIAL_CHAIN_")):
            id_token_cache.invalidate(spec.text)  # a token from another run of the demo must not be reused
            try:
                token = fetch_id_token(spec)
                answer, credentials = _run_code(settings)
            finally:
                id_token_cache.invalidate(spec.text)
        say(f"1. ID token from GitHub Actions ({SPEC}: its audience is https: + the pool provider's name):")
        say(f"    {describe_claims(token.claims)}")
        accepted = google_sts.accepted[-1] if google_sts.accepted else None
        if google_sts.exchanges != 1 or accepted is None or accepted["sub"] != token.claims["sub"]:
            raise RuntimeError(f"Google STS refused the subject token: {google_sts.last_error}")
        say("2. Google STS verified it (signature against the issuer's JWKS, audience, expiry, attribute")
        say(f"   condition) and issued a federated token for {pool.principal(str(accepted['sub']))}")
        calls = vertex.calls
        if iam.count() != 1 or len(calls) != 1 or calls[0].principal != f"serviceAccount:{SERVICE_ACCOUNT}":
            raise RuntimeError(
                f"Vertex AI was called by {[c.principal for c in calls]}, not {SERVICE_ACCOUNT}"
            )
        expiry = credentials.expiry
        # google-auth keeps expiry as a naive UTC datetime.
        expires = (
            f", expires {when(expiry.replace(tzinfo=datetime.timezone.utc).timestamp())}" if expiry else ""
        )
        say(f"3. IAM Credentials generateAccessToken: an access token for {SERVICE_ACCOUNT}{expires}")
        say("4. Vertex AI verified the bearer token (issuer, expiry, cloud-platform scope, project)")
        say("   and answered:")
        say(f"    {answer}")
        say()
        say(
            f"Google demo passed: {plural(google_sts.exchanges, 'Google STS exchange')}, "
            f"{plural(iam.count(), 'impersonation')}, {plural(len(calls), 'Vertex AI call')}, "
            "every request verified."
        )


__all__ = ["SPEC", "VERTEX_CODE", "run_gcp_demo"]
