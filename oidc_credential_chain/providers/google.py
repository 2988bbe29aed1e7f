"""Google Cloud (Cloud Run, GCE, GKE, Cloud Functions): the metadata server's identity endpoint."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import TokenFetchError
from ..spec import Spec
from .base import Argument, FetchContext, Provider, error_detail, refuse_redirect, send

DEFAULT_HOST = "metadata.google.internal"
IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity"


def metadata_host(environ: Mapping[str, str]) -> str:
    """``GCE_METADATA_HOST`` (or legacy ``GCE_METADATA_ROOT``), read on every call."""
    host = (environ.get("GCE_METADATA_HOST") or environ.get("GCE_METADATA_ROOT") or DEFAULT_HOST).strip()
    return host.removeprefix("http://").rstrip("/").removesuffix("/computeMetadata/v1")


def _unreachable_hint(environ: Mapping[str, str]) -> str:
    if environ.get("GCE_METADATA_HOST") or environ.get("GCE_METADATA_ROOT"):
        return "Check GCE_METADATA_HOST: it names the metadata server to ask"
    return (
        "oidc/google works only on Google Cloud (Cloud Run, GCE, GKE, Cloud Functions), where the "
        "metadata server answers; elsewhere use the identity provider of the place this runs "
        "('oidc-credential-chain doctor' finds it), or set GCE_METADATA_HOST to a metadata server"
    )


class GoogleProvider(Provider):
    name = "google"
    argument = Argument.REQUIRED
    argument_name = "audience"
    description = "GCP metadata server identity endpoint (Cloud Run, GCE, GKE)"
    remote = True

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        assert spec.argument is not None
        host = metadata_host(ctx.environ)
        url = f"http://{host}{IDENTITY_PATH}"
        idp = "the GCP metadata server"
        try:
            response = send(
                ctx,
                spec,
                idp,
                "GET",
                url,
                headers={"Metadata-Flavor": "Google"},
                params={"audience": spec.argument, "format": "full"},
                allow_http=True,
                direct=True,
            )
        except TokenFetchError as err:
            if not err.retryable:
                raise
            raise TokenFetchError(
                f"{err.message}. {_unreachable_hint(ctx.environ)}", spec=spec.text, retryable=True
            ) from None
        refuse_redirect(spec, idp, response)
        if response.status == 404:
            raise TokenFetchError(
                f"{spec.text}: {idp} at {host} has no default service account identity (HTTP 404); "
                "attach a service account to the Cloud Run service or VM",
                spec=spec.text,
                status=404,
            )
        if response.status != 200:
            raise TokenFetchError(
                f"{spec.text}: {idp} at {host} answered HTTP {response.status}: {error_detail(response)}",
                spec=spec.text,
                status=response.status,
                retryable=response.status >= 500 or response.status == 429,
            )
        if (response.header("metadata-flavor") or "").lower() != "google":
            raise TokenFetchError(
                f"{spec.text}: the server at {host} answered without 'Metadata-Flavor: Google', "
                "so it is not the GCP metadata server (not on Google Cloud, or GCE_METADATA_HOST is wrong)",
                spec=spec.text,
            )
        return response.text

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the GCP metadata server at {metadata_host(ctx.environ)}"
