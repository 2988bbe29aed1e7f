"""Azure managed identity without azure-identity: IMDS (VMs, VM scale sets, AKS node identity)
and the App Service / Functions identity endpoint.

``oidc/azure/<audience>`` uses azure-identity when it is installed; otherwise
``oidc_credential_chain.azure._ambient`` calls :func:`imds_access_token`.  The token asked for is
an Entra access token for ``<audience>`` (``resource`` = the audience without ``/.default``).
A user-assigned identity is chosen with ``AZURE_CLIENT_ID``; only user-assigned identities
can serve as federated credentials of an Entra app (audience ``api://AzureADTokenExchange``).

Wire rules (PROTOCOLS §5): header ``Metadata: true``, never through a proxy, retry 404, 410,
429 and 5xx with exponential backoff (up to 5 retries, within the overall deadline), never
other 4xx.  ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` moves the IMDS endpoint, as in azure-identity.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from .._internal import clock
from .._internal.http import HttpResponse, describe_url
from ..errors import ConfigurationError, TokenFetchError
from ..spec import Spec
from .base import FetchContext, error_detail, json_string_field, refuse_redirect, send

IMDS_AUTHORITY = "http://169.254.169.254"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
IMDS_API_VERSION = "2018-02-01"
APP_SERVICE_API_VERSION = "2019-08-01"
#: One attempt plus five retries, as Azure's IMDS guidance and azure-identity do.
ATTEMPTS = 6
RETRY_STATUSES = frozenset({404, 410, 429, *range(500, 600)})

CLIENT_ID_VAR = "AZURE_CLIENT_ID"
AUTHORITY_VAR = "AZURE_POD_IDENTITY_AUTHORITY_HOST"


def resource_for(audience: str) -> str:
    """``https://x/.default`` and ``https://x`` both ask for resource ``https://x``."""
    return audience.removesuffix("/.default")


def imds_access_token(spec: Spec, ctx: FetchContext) -> str:
    """An Entra access token for ``spec.argument`` from this machine's managed identity.

    Example::

        token = imds_access_token(parse_spec("oidc/azure/api://AzureADTokenExchange"), FetchContext())
    """
    if spec.argument is None:
        raise ConfigurationError(f"{spec.text}: a managed-identity token needs an audience", spec=spec.text)
    environ = ctx.environ
    resource = resource_for(spec.argument)
    client_id = environ.get(CLIENT_ID_VAR, "").strip()
    endpoint = environ.get("IDENTITY_ENDPOINT", "").strip()
    if endpoint:
        identity_header = environ.get("IDENTITY_HEADER", "").strip()
        if not identity_header:
            raise ConfigurationError(
                f"{spec.text}: IDENTITY_ENDPOINT is set without IDENTITY_HEADER (Azure Arc or Service "
                "Fabric); that identity endpoint needs azure-identity: "
                "pip install 'oidc-credential-chain[azure]'",
                spec=spec.text,
            )
        url = endpoint
        params = {"api-version": APP_SERVICE_API_VERSION, "resource": resource}
        headers = {"X-IDENTITY-HEADER": identity_header, "Metadata": "true"}
        idp = "the App Service managed-identity endpoint"
    else:
        if environ.get("MSI_ENDPOINT", "").strip():
            raise ConfigurationError(
                f"{spec.text}: MSI_ENDPOINT is set (Cloud Shell or Azure Machine Learning); that identity "
                "endpoint needs azure-identity: pip install 'oidc-credential-chain[azure]'",
                spec=spec.text,
            )
        authority = environ.get(AUTHORITY_VAR, "").strip() or IMDS_AUTHORITY
        url = authority.rstrip("/") + IMDS_TOKEN_PATH
        params = {"api-version": IMDS_API_VERSION, "resource": resource}
        headers = {"Metadata": "true"}
        idp = "Azure IMDS"
    if client_id:
        params["client_id"] = client_id
    response = _get_with_retries(ctx, spec, idp, url, params, headers)
    refuse_redirect(spec, idp, response)
    if response.status != 200:
        raise _refusal(spec, idp, url, response, client_id)
    return json_string_field(spec, idp, response, "access_token")


def _get_with_retries(
    ctx: FetchContext,
    spec: Spec,
    idp: str,
    url: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
) -> HttpResponse:
    config = ctx.http.config
    deadline = clock.mono() + config.total_timeout
    attempt = 1
    while True:
        try:
            # The metadata endpoint is plain http on a link-local address, and never proxied.
            response = send(
                ctx,
                spec,
                idp,
                "GET",
                url,
                headers=headers,
                params=params,
                allow_http=True,
                direct=True,
                retry=False,
            )
        except TokenFetchError as err:
            raise TokenFetchError(
                f"{err.message}; no managed-identity endpoint answered: is this an Azure VM, App Service "
                "or AKS node with an identity assigned?",
                spec=spec.text,
                retryable=True,
            ) from None
        if response.status not in RETRY_STATUSES or attempt >= ATTEMPTS:
            return response
        delay = _retry_after(response) or config.backoff(attempt)
        if clock.mono() + delay >= deadline:
            return response
        time.sleep(delay)
        attempt += 1


def _retry_after(response: HttpResponse) -> float | None:
    value = response.header("retry-after")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _refusal(spec: Spec, idp: str, url: str, response: HttpResponse, client_id: str) -> TokenFetchError:
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("error") if isinstance(body, dict) else None
    detail = error_detail(response)
    hint = ""
    if response.status == 400 and client_id:
        hint = (
            f"; check that the user-assigned identity {CLIENT_ID_VAR}={client_id} is assigned to this machine"
        )
    elif response.status == 400:
        hint = f"; assign a managed identity, or name a user-assigned one with {CLIENT_ID_VAR}"
    return TokenFetchError(
        f"{spec.text}: {idp} at {describe_url(url)} refused the token request (HTTP {response.status}"
        + (f" {code}" if isinstance(code, str) else "")
        + f": {detail}){hint}",
        spec=spec.text,
        status=response.status,
        retryable=response.status in RETRY_STATUSES,
    )


__all__ = ["imds_access_token", "resource_for"]
