"""The GitHub Actions ID token endpoint (``$ACTIONS_ID_TOKEN_REQUEST_URL``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ._server import EmulatorServer, Request, Response
from .issuer import OIDCIssuer

TOKEN_PATH = "/_apis/distributedtask/hubs/Actions/plans/00000000/jobs/00000000/idtoken"

DEFAULT_CLAIMS: dict[str, Any] = {
    "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
    "repository": "octo-org/octo-repo",
    "repository_owner": "octo-org",
    "repository_owner_id": "123456",
    "repository_id": "456789",
    "repository_visibility": "private",
    "ref": "refs/heads/main",
    "ref_type": "branch",
    "sha": "0" * 40,
    "workflow": "deploy",
    "workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "event_name": "push",
    "actor": "octocat",
    "actor_id": "1",
    "run_id": "1",
    "run_number": "1",
    "run_attempt": "1",
    "runner_environment": "github-hosted",
}


class GitHubActionsTokenEndpoint(EmulatorServer):
    """Answers ``GET <request URL>&audience=...`` with ``{"value": <JWT>}`` as GitHub does.

    Checks the ``Authorization: Bearer <request token>`` header and that ``Accept`` asks
    for JSON; without ``audience`` the token's ``aud`` is ``https://github.com/<owner>``.

    Example::

        with OIDCIssuer("https://token.actions.githubusercontent.com") as issuer, \
             GitHubActionsTokenEndpoint(issuer) as gh:
            os.environ.update(gh.env())
    """

    name = "github-actions"

    def __init__(self, issuer: OIDCIssuer, *, claims: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.issuer = issuer
        self.claims: dict[str, Any] = {**DEFAULT_CLAIMS, **(claims or {})}
        self.request_token = "ghs_" + secrets.token_urlsafe(24)
        self.lifetime: float | None = None
        #: When set, answer with a 302 to this URL (to test that redirects are refused).
        self.redirect_to: str | None = None

    @property
    def request_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}?api-version=2.0"

    def env(self) -> dict[str, str]:
        """The variables a job with ``id-token: write`` has."""
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def handle(self, request: Request) -> Response:
        if request.path != TOKEN_PATH or request.method != "GET":
            return Response(404, {"message": "Not Found"})
        if self.redirect_to:
            return Response(302, b"", {"Location": self.redirect_to})
        auth = request.header("authorization") or ""
        scheme, _, presented = auth.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(presented, self.request_token):
            return Response(401, {"message": "Bad credentials"})
        accept = request.header("accept") or ""
        if "application/json" not in accept:
            return Response(406, {"message": "Accept must include application/json"})
        audience = request.arg("audience") or f"https://github.com/{self.claims['repository_owner']}"
        token = self.issuer.mint({**self.claims, "aud": audience}, lifetime=self.lifetime)
        return Response(200, {"count": 1, "value": token})
