"""GitHub Actions: the job's ID token endpoint."""

from __future__ import annotations

from urllib.parse import quote

from ..errors import TokenFetchError
from ..spec import Spec
from .base import (
    Argument,
    FetchContext,
    Provider,
    error_detail,
    json_string_field,
    refuse_redirect,
    require_env,
    require_header_value,
    send,
)

URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
_HINT = "GitHub sets it only in jobs with 'permissions: id-token: write'"


class GitHubProvider(Provider):
    name = "github"
    argument = Argument.OPTIONAL
    argument_name = "audience"
    description = "GitHub Actions ID token endpoint ($ACTIONS_ID_TOKEN_REQUEST_URL)"
    remote = True

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        base_url = require_env(ctx.environ, URL_VAR, spec, hint=_HINT)
        request_token = require_header_value(ctx.environ, TOKEN_VAR, spec, hint=_HINT)
        url = base_url
        if spec.argument is not None:
            url += ("&" if "?" in base_url else "?") + "audience=" + quote(spec.argument, safe="")
        idp = "GitHub Actions' ID token endpoint"
        response = send(
            ctx,
            spec,
            idp,
            "GET",
            url,
            headers={
                "Authorization": f"Bearer {request_token}",
                "Accept": "application/json; api-version=2.0",
                "User-Agent": "actions/oidc-client oidc-credential-chain",
            },
        )
        refuse_redirect(spec, idp, response)
        if response.status in (401, 403):
            raise TokenFetchError(
                f"{spec.text}: {idp} refused the request token (HTTP {response.status}: "
                f"{error_detail(response, request_token)}); the job needs 'permissions: id-token: write', "
                f"and "
                f"{TOKEN_VAR} stops working about 6 hours after the job starts",
                spec=spec.text,
                status=response.status,
            )
        if response.status != 200:
            detail = error_detail(response, request_token)
            raise TokenFetchError(
                f"{spec.text}: {idp} answered HTTP {response.status}: {detail}",
                spec=spec.text,
                status=response.status,
                retryable=response.status >= 500 or response.status == 429,
            )
        return json_string_field(spec, idp, response, "value")
