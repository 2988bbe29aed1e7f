"""Vertex AI ``generateContent``, answering only callers with a valid Google access token.

The bearer token must have been issued by one of the given authorities (the STS and IAM
Credentials emulators), be unexpired, carry the ``cloud-platform`` scope, and belong to a
member allowed on the project (any authenticated caller unless ``allowed_members`` is set).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable
from typing import Any, Protocol

from ._server import EmulatorServer, Request, Response
from .google_sts import CLOUD_PLATFORM, AccessTokenRecord, bearer, google_error, member_matches

_PATH = re.compile(
    r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+):generateContent$"
)


class TokenAuthority(Protocol):
    def lookup_token(self, token: str) -> AccessTokenRecord | None: ...


@dataclasses.dataclass(frozen=True)
class VertexCall:
    """One answered request: who called, which model, what text."""

    principal: str
    model: str
    prompt: str


class VertexAIEmulator(EmulatorServer):
    """``POST /v1/projects/<p>/locations/<l>/publishers/google/models/<m>:generateContent``.

    Example::

        vertex = VertexAIEmulator(sts, iam).start()
        AuthorizedSession(creds).post(vertex.model_url("gemini-2.0-flash"), json={"contents": [...]})
    """

    name = "vertex-ai"

    def __init__(
        self,
        *authorities: TokenAuthority,
        project: str = "demo-project",
        project_number: str = "123456789012",
        location: str = "us-central1",
        models: Iterable[str] = ("gemini-2.0-flash", "gemini-2.5-pro"),
        allowed_members: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.authorities = list(authorities)
        self.project = project
        self.project_number = project_number
        self.location = location
        self.models = set(models)
        self.allowed_members = None if allowed_members is None else list(allowed_members)
        self.calls: list[VertexCall] = []
        self._lock = threading.Lock()

    def model_url(self, model: str = "gemini-2.0-flash") -> str:
        return (
            f"{self.url}/v1/projects/{self.project}/locations/{self.location}"
            f"/publishers/google/models/{model}:generateContent"
        )

    def _caller(self, token: str) -> AccessTokenRecord | None:
        for authority in self.authorities:
            record = authority.lookup_token(token)
            if record is not None:
                return record
        return None

    def handle(self, request: Request) -> Response:
        match = _PATH.match(request.path)
        if match is None:
            return google_error(404, "NOT_FOUND", f"no such method {request.path}")
        if request.method != "POST":
            return google_error(405, "METHOD_NOT_ALLOWED", "use POST")
        presented = bearer(request)
        caller = self._caller(presented) if presented else None
        if caller is None or caller.expired():
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
            )
        if not caller.has_scope(CLOUD_PLATFORM):
            return google_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        project, location, model = match.group("project"), match.group("location"), match.group("model")
        if project not in (self.project, self.project_number) or location != self.location:
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/projects/{project}/locations/{location}/publishers/google/"
                f"models/{model}' (or it may not exist).",
            )
        if self.allowed_members is not None and not any(
            member_matches(caller, m) for m in self.allowed_members
        ):
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/projects/{project}/locations/{location}/publishers/google/"
                f"models/{model}' (or it may not exist).",
            )
        if model not in self.models:
            return google_error(
                404,
                "NOT_FOUND",
                f"Publisher Model `projects/{project}/locations/{location}/publishers/google/models/{model}` "
                "was not found or your project does not have access to it.",
            )
        prompt = _prompt(request)
        if prompt is None:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument: contents must hold text parts.",
            )
        with self._lock:
            self.calls.append(VertexCall(principal=caller.principal, model=model, prompt=prompt))
        answer = f"[{model} emulator] you said: {prompt}"
        prompt_tokens, answer_tokens = len(prompt.split()), len(answer.split())
        return Response(
            200,
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": answer}]}, "finishReason": "STOP"}
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt_tokens,
                    "candidatesTokenCount": answer_tokens,
                    "totalTokenCount": prompt_tokens + answer_tokens,
                },
                "modelVersion": f"{model}-001",
            },
        )


def _prompt(request: Request) -> str | None:
    try:
        body = request.json()
    except ValueError:
        return None
    contents = body.get("contents") if isinstance(body, dict) else None
    if not isinstance(contents, list) or not contents:
        return None
    texts: list[str] = []
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list):
            return None
        texts += [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return " ".join(texts) if texts else None


__all__ = ["TokenAuthority", "VertexAIEmulator", "VertexCall"]
