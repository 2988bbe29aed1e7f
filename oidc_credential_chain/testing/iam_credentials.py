"""IAM Credentials ``generateAccessToken``: a federated identity impersonates a service account.

The caller presents a federated token issued by :class:`~.google_sts.GoogleSTSEmulator`;
the service account must grant that identity (``principal://``/``principalSet://`` member,
standing for ``roles/iam.workloadIdentityUser``).  Answers use Google's error envelope.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from ._server import EmulatorServer, Request, Response
from .google_sts import AccessTokenRecord, GoogleSTSEmulator, bearer, google_error, member_matches

_PATH = re.compile(r"^/v1/projects/-/serviceAccounts/(?P<name>[^/:]+):generateAccessToken$")
_LIFETIME = re.compile(r"^(\d+)(?:\.\d+)?s$")
DEFAULT_LIFETIME = 3600
_DENIED = "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."


@dataclasses.dataclass
class ServiceAccount:
    email: str
    unique_id: str
    #: IAM members holding roles/iam.workloadIdentityUser on this account.
    members: list[str] = dataclasses.field(default_factory=list)

    @property
    def member(self) -> str:
        return f"serviceAccount:{self.email}"


class IAMCredentialsEmulator(EmulatorServer):
    """``POST /v1/projects/-/serviceAccounts/<email|id>:generateAccessToken``.

    Example::

        iam = IAMCredentialsEmulator(sts).start()
        iam.add_service_account("vertex@demo-project.iam.gserviceaccount.com",
                                members=[provider.principal_set("repository", "octo-org/octo-repo")])
        creds = gcp.credentials(..., service_account="vertex@...", iam_endpoint=iam.url)
    """

    name = "iam-credentials"

    def __init__(self, sts: GoogleSTSEmulator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sts = sts
        self.accounts: dict[str, ServiceAccount] = {}
        #: Upper bound for ``lifetime`` (raised only by an org policy in real projects).
        self.max_lifetime = 3600
        #: When set, tokens live this long whatever was asked (tests of expiry).
        self.token_lifetime: int | None = None
        self._tokens: dict[str, AccessTokenRecord] = {}
        self._lock = threading.Lock()

    def add_service_account(
        self, email: str, *, members: Iterable[str] = (), unique_id: str | None = None
    ) -> ServiceAccount:
        account = ServiceAccount(
            email=email,
            unique_id=unique_id or str(100000000000000000000 + len(self.accounts)),
            members=list(members),
        )
        self.accounts[email] = account
        return account

    def impersonation_url(self, service_account: str) -> str:
        return f"{self.url}/v1/projects/-/serviceAccounts/{service_account}:generateAccessToken"

    def lookup_token(self, token: str) -> AccessTokenRecord | None:
        with self._lock:
            return self._tokens.get(token)

    def _account(self, name: str) -> ServiceAccount | None:
        for account in self.accounts.values():
            if name in (account.email, account.unique_id):
                return account
        return None

    def handle(self, request: Request) -> Response:
        match = _PATH.match(unquote(request.path))
        if match is None:
            return google_error(404, "NOT_FOUND", f"no such method {request.path}")
        if request.method != "POST":
            return google_error(405, "METHOD_NOT_ALLOWED", "use POST")
        presented = bearer(request)
        if presented is None:
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
            )
        caller = self.sts.lookup_token(presented) or self.lookup_token(presented)
        if caller is None or caller.expired():
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
            )
        if not caller.has_scope("https://www.googleapis.com/auth/iam"):
            return google_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        try:
            body = request.json()
        except ValueError:
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if not isinstance(body, dict):
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        scopes = body.get("scope")
        if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
            return google_error(400, "INVALID_ARGUMENT", "Scope required.")
        if body.get("delegates"):
            return google_error(400, "INVALID_ARGUMENT", "Delegation chains are not emulated.")
        lifetime = DEFAULT_LIFETIME
        raw_lifetime = body.get("lifetime")
        if raw_lifetime is not None:
            parsed = _LIFETIME.match(str(raw_lifetime))
            if parsed is None:
                return google_error(400, "INVALID_ARGUMENT", f"Invalid lifetime {raw_lifetime!r}.")
            lifetime = int(parsed.group(1))
            if not 1 <= lifetime <= self.max_lifetime:
                return google_error(
                    400,
                    "INVALID_ARGUMENT",
                    f"The lifetime requested is outside the allowed range of 1s to {self.max_lifetime}s.",
                )
        account = self._account(match.group("name"))
        if account is None or not any(member_matches(caller, m) for m in account.members):
            return google_error(403, "PERMISSION_DENIED", _DENIED)
        if self.token_lifetime is not None:
            lifetime = self.token_lifetime
        expires = int(time.time()) + lifetime
        token = "ya29.c." + secrets.token_urlsafe(48)
        record = AccessTokenRecord(
            token=token,
            principal=account.member,
            scopes=tuple(scopes),
            expires_at=expires,
            issued_by="iam",
        )
        with self._lock:
            self._tokens[token] = record
        expire_time = datetime.fromtimestamp(expires, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Response(200, {"accessToken": token, "expireTime": expire_time})


__all__ = ["IAMCredentialsEmulator", "ServiceAccount"]
