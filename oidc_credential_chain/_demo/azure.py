"""The Azure half of ``demo``: Microsoft's quickstart code, unmodified, on a Cloud Run identity.

Everything runs on loopback: the GCP metadata server (the Cloud Run identity), Entra ID
over HTTPS (verifying the client assertion's signature through the issuer's JWKS, its
audience, expiry and the app's federated credential) and Azure OpenAI over HTTPS
(verifying the Entra access token on every request).  The only configuration is the
environment: ``AZURE_FEDERATED_TOKEN=oidc/google/...`` puts an ``OIDCCredential`` into the
stock ``DefaultAzureCredential`` chain.
"""

from __future__ import annotations

import contextlib
import datetime
import textwrap
from typing import Any, TextIO

from .._internal.extras import missing_extra
from ._env import isolated_environ

SPEC = "oidc/google/api://AzureADTokenExchange"
QUESTION = "Which identity is asking?"
DEPLOYMENT = "gpt-4o"
SCOPE = "https://cognitiveservices.azure.com/.default"

#: What runs: the code of Microsoft's Azure OpenAI quickstart, with nothing of this library in it.
AZURE_OPENAI_CODE = f"""\
from azure.identity import DefaultAzureCredential, get_bearer_token_provider
from openai import AzureOpenAI

token_provider = get_bearer_token_provider(DefaultAzureCredential(), "{SCOPE}")
client = AzureOpenAI(  # endpoint and API version from AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION
    azure_ad_token_provider=token_provider,
)
response = client.chat.completions.create(
    model="{DEPLOYMENT}",
    messages=[{{"role": "user", "content": "{QUESTION}"}}],
)
answer = response.choices[0].message.content
"""


def _run_code() -> str:
    namespace: dict[str, Any] = {}
    exec(compile(AZURE_OPENAI_CODE, "<demo: stock quickstart>", "exec"), namespace)  # noqa: S102 - our own constant
    return str(namespace["answer"])


def _hook_azure_identity() -> None:
    """What the startup hook does when azure.identity loads; done here as well, so that the demo also
    runs where site hooks do not (``python -S``, ``OIDC_CREDENTIAL_CHAIN_AUTOLOAD=0``)."""
    import azure.identity

    from ..azure._hook import patch_identity

    patch_identity(azure.identity)


def _when(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%H:%M:%S UTC")


def run_azure_demo(out: TextIO) -> None:
    """Start the emulators, run the stock ``openai.AzureOpenAI`` client as a Cloud Run identity,
    print each step.  Raises if any step fails or Azure OpenAI saw anyone but the expected app.

    Example::

        import sys
        run_azure_demo(sys.stdout)
    """
    try:
        import jwt
        import openai  # noqa: F401 - checked here for a clear message
        from azure.identity import CredentialUnavailableError  # noqa: F401

        from ..testing.azure_openai import AzureOpenAIEmulator
        from ..testing.entra import EntraEmulator
        from ..testing.gcp_metadata import GCPMetadataServer
        from ..testing.issuer import OIDCIssuer
        from ..testing.tls import loopback_ca
    except ImportError as err:
        raise (missing_extra(err, "the Azure demo") or err) from None

    from .._api import _cache as id_token_cache
    from .._api import fetch_id_token

    _hook_azure_identity()

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    ca = loopback_ca()
    with contextlib.ExitStack() as stack:
        google_issuer = stack.enter_context(OIDCIssuer("https://accounts.google.com", lifetime=3600))
        metadata = stack.enter_context(GCPMetadataServer(google_issuer))
        entra = stack.enter_context(EntraEmulator())
        aoai = stack.enter_context(AzureOpenAIEmulator(entra))
        record = entra.add_federated_credential(
            google_issuer,
            metadata.service_account_id,
            name="cloud-run-runner",
            description="Cloud Run service",
        )
        aoai.allowed_principals = {entra.app().object_id}  # the app's role assignment on the resource

        say("== Azure: Microsoft's Azure OpenAI quickstart, unmodified, on a Cloud Run identity ==")
        say("Emulators on loopback:")
        say(f"  GCP metadata server   {metadata.url}  (iss {google_issuer.issuer}, {metadata.email})")
        say(f"  Entra ID              {entra.url}  (HTTPS)")
        say(f"  Azure OpenAI          {aoai.url}  (HTTPS, deployment {DEPLOYMENT})")
        say()
        say(f"Entra app {entra.client_id} in tenant {entra.tenant_id} has the federated credential")
        say(f"    {record['name']!r}: issuer {record['issuer']}, subject {record['subject']},")
        say(f"    audience {record['audiences'][0]}")
        say()
        say("The code (Microsoft's quickstart; nothing of this library in it):")
        say(textwrap.indent(AZURE_OPENAI_CODE.rstrip(), "    "))
        say()
        env = {
            **metadata.env(),
            **entra.env(),
            **aoai.env(),
            **ca.env(),
            "AZURE_FEDERATED_TOKEN": SPEC,
            # Should the chain ever reach ManagedIdentityCredential, it asks a closed loopback port.
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:1",
            "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token",
            "IDENTITY_HEADER": "demo",
        }
        say("Environment:")
        names = ("AZURE_FEDERATED_TOKEN", "GCE_METADATA_HOST", "AZURE_TENANT_ID", "AZURE_CLIENT_ID")
        for name in (*names, "AZURE_AUTHORITY_HOST"):
            say(f"    {name}={env[name]}")
        say()
        drop = (
            "AZURE_",
            "GCE_METADATA",
            "OPENAI_",
            "SSL_CERT_",
            "REQUESTS_CA_BUNDLE",
            "OIDC_CREDENTIAL_CHAIN_",
            "IDENTITY_",
            "MSI_",
        )
        with isolated_environ(env, drop_prefixes=drop):
            id_token_cache.invalidate(SPEC)  # a token from another run of the demo must not be reused
            try:
                token = fetch_id_token(SPEC)
                say(f"1. ID token from the metadata server ({SPEC}):")
                say(f"    {token.describe()}")
                say(f"    expires in {token.seconds_left():.0f} s")
                answer = _run_code()
            finally:
                id_token_cache.invalidate(SPEC)
        if not entra.issued or entra.refusals:
            raise RuntimeError(f"Entra refused the assertion: {[r.description for r in entra.refusals]}")
        access = jwt.decode(entra.issued[-1].access_token, options={"verify_signature": False})
        say("2. Entra ID accepted it as a client assertion (signature checked against the issuer's JWKS,")
        say("   audience, expiry and the federated credential) and issued an access token:")
        say(f"    aud={access['aud']!r}, tid={access['tid']!r}, appid={access['appid']!r}")
        say(
            f"    expires {_when(access['exp'])}; the credential renews it in its advisory refresh window,"
            " before any request could carry it expired"
        )
        completion = aoai.completions[-1] if aoai.completions else None
        if aoai.unauthorized or completion is None or completion.principal != entra.app().object_id:
            raise RuntimeError(f"Azure OpenAI refused or saw another caller: {aoai.rejections}")
        say("3. Azure OpenAI verified the bearer token (signature, audience, expiry, role assignment)")
        say("   and answered:")
        say(f"    {answer}")
        say()
        say(
            f"Azure demo passed: {entra.token_requests} Entra exchange(s), {len(aoai.completions)} "
            "Azure OpenAI call(s), every request verified."
        )


__all__ = ["AZURE_OPENAI_CODE", "SPEC", "run_azure_demo"]
