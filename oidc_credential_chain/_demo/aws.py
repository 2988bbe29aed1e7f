"""The AWS half of ``demo``: stock boto3 Bedrock code on GitHub- and Google-style identities.

Everything runs on loopback: an OIDC issuer and token endpoint per identity, AWS STS
(verifying signatures, audiences, expiry and the role's trust policy) and Bedrock Runtime
(verifying every request's SigV4 signature with the credentials STS issued).
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from typing import Any, TextIO

from .._internal.extras import missing_extra
from ._env import (
    describe_claims,
    empty_aws_config_env,
    environment_lines,
    isolated_environ,
    plural,
    temporary_directory,
    when,
)

MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"
QUESTION = "Which identity signed this request?"

#: What runs for each identity: stock boto3, no oidc_credential_chain call in it.
PLAIN_BOTO3_CODE = f"""\
import boto3

bedrock = boto3.client("bedrock-runtime")
response = bedrock.converse(
    modelId="{MODEL_ID}",
    messages=[{{"role": "user", "content": [{{"text": "{QUESTION}"}}]}}],
)
answer = response["output"]["message"]["content"][0]["text"]
"""


def _run_plain_code() -> str:
    namespace: dict[str, Any] = {}
    exec(compile(PLAIN_BOTO3_CODE, "<demo: stock boto3>", "exec"), namespace)  # noqa: S102 - our own constant
    return str(namespace["answer"])


@contextlib.contextmanager
def _fresh_boto3_default_session() -> Iterator[None]:
    """Each identity starts from a new ``boto3.client`` default session, as a new process would."""
    import boto3

    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved


def run_aws_demo(out: TextIO) -> None:
    """Start the emulators, run stock boto3 Bedrock code as two identities, print each step.

    Raises if any step fails or the model was called by anyone but the expected role.

    Example::

        import sys
        run_aws_demo(sys.stdout)
    """
    try:
        import boto3  # noqa: F401 - checked here for a clear message
        import jwt  # noqa: F401

        from ..testing.bedrock import BedrockRuntimeEmulator
        from ..testing.gcp_metadata import GCPMetadataServer
        from ..testing.github import GitHubActionsTokenEndpoint
        from ..testing.issuer import OIDCIssuer
        from ..testing.sts import STSEmulator
    except ImportError as err:
        raise (missing_extra(err, "the AWS demo") or err) from None

    from .._api import fetch_id_token
    from ..aws import clear_exchange_cache, install, installed, uninstall

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    with contextlib.ExitStack() as stack:
        github_issuer = stack.enter_context(OIDCIssuer("https://token.actions.githubusercontent.com"))
        github = stack.enter_context(GitHubActionsTokenEndpoint(github_issuer))
        google_issuer = stack.enter_context(OIDCIssuer("https://accounts.google.com", lifetime=3600))
        metadata = stack.enter_context(GCPMetadataServer(google_issuer))
        sts = stack.enter_context(STSEmulator())
        bedrock = stack.enter_context(BedrockRuntimeEmulator(sts))
        config_dir = stack.enter_context(temporary_directory())

        sts.register_provider(github_issuer, audiences=["sts.amazonaws.com"])
        sts.register_provider(google_issuer, audiences=None)
        github_role = sts.allow(
            "bedrock-github-actions",
            github_issuer,
            sub="repo:octo-org/octo-repo:ref:refs/heads/main",
            sub_operator="StringEquals",
        )
        # Google's built-in provider: accounts.google.com:aud is the service account's ID (azp).
        google_role = sts.allow(
            "bedrock-cloud-run",
            google_issuer,
            sub=metadata.service_account_id,
            aud=metadata.service_account_id,
            sub_operator="StringEquals",
        )

        say("== AWS: stock boto3 Bedrock code on federated identities ==")
        say("Emulators on loopback:")
        say(f"  GitHub Actions ID tokens   {github.url}  (iss {github_issuer.issuer})")
        say(f"  GCP metadata server        {metadata.url}  (iss {google_issuer.issuer})")
        say(f"  AWS STS                    {sts.url}")
        say(f"  Amazon Bedrock Runtime     {bedrock.url}")
        say()
        say("The code run for each identity (no oidc_credential_chain call in it):")
        say(textwrap.indent(PLAIN_BOTO3_CODE.rstrip(), "    "))
        say()
        was_installed = installed()
        if not was_installed:
            say("Installing the botocore provider (the package's startup hook does this when installed;")
            say("here: oidc_credential_chain.aws.install()).")
            install(default_session=False)
        try:
            identities = [
                (
                    "GitHub Actions -> Bedrock",
                    {**github.env(), "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com"},
                    github_role,
                    list(github.env()),
                ),
                (
                    "Cloud Run (GCP metadata server) -> Bedrock",
                    {**metadata.env(), "AWS_WEB_IDENTITY_TOKEN": "oidc/google/sts.amazonaws.com"},
                    google_role,
                    list(metadata.env()),
                ),
            ]
            for number, (title, identity_env, role, identity_names) in enumerate(identities, 1):
                env = {
                    **identity_env,
                    "AWS_ROLE_ARN": role,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    **sts.env(),
                    **bedrock.env(),
                    **empty_aws_config_env(config_dir),
                }
                say(f"-- {number}. {title}")
                say("Environment (to repeat this step by hand while the emulators run):")
                names = [
                    *identity_names,
                    "AWS_WEB_IDENTITY_TOKEN",
                    "AWS_ROLE_ARN",
                    "AWS_DEFAULT_REGION",
                    *sts.env(),
                    *bedrock.env(),
                ]
                for line in environment_lines(env, names):
                    say(line)
                with isolated_environ(env, drop_prefixes=("AWS_",)), _fresh_boto3_default_session():
                    clear_exchange_cache()
                    token = fetch_id_token(env["AWS_WEB_IDENTITY_TOKEN"])
                    say(f"ID token claims: {describe_claims(token.claims)}")
                    sts_before, bedrock_before = sts.calls(), len(bedrock.calls)
                    answer = _run_plain_code()
                issued = sts.issued[-1]
                call = bedrock.calls[-1] if bedrock.calls else None
                if sts.calls() != sts_before + 1 or len(bedrock.calls) != bedrock_before + 1 or call is None:
                    raise RuntimeError(f"{title}: expected one STS exchange and one Bedrock call")
                if issued.role_arn != role or call.caller != issued.arn:
                    raise RuntimeError(f"{title}: Bedrock was called as {call.caller}, not by role {role}")
                expires = issued.expiration or 0.0
                say(f"STS AssumeRoleWithWebIdentity: assumed {issued.arn}")
                say(f"    credentials {issued.access_key_id}, expire {when(expires, sts.now())}")
                say(f"Bedrock Converse (SigV4 verified with those credentials): {answer}")
                say()
        finally:
            if not was_installed:
                uninstall()
        say(
            f"AWS demo passed: {plural(sts.calls(), 'STS exchange')}, "
            f"{plural(len(bedrock.calls), 'Bedrock call')}, every request verified."
        )


__all__ = ["MODEL_ID", "PLAIN_BOTO3_CODE", "run_aws_demo"]
