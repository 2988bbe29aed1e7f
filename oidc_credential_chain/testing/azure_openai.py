"""Azure OpenAI's chat-completions endpoint, over HTTPS on loopback, checking Entra bearer tokens.

``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` answers in the
OpenAI chat-completion shape.  ``Authorization: Bearer <token>`` must carry an access
token from the given :class:`~oidc_credential_chain.testing.entra.EntraEmulator`: the
signature is checked against the keys Entra publishes (JWKS fetched over HTTPS), the
audience must be ``https://cognitiveservices.azure.com`` and the token unexpired by the
emulator's clock.  A failure gets Azure's 401 body,
``{"statusCode": 401, "message": "Unauthorized. Access token is missing, invalid, ..."}``.

Example::

    with EntraEmulator() as entra, AzureOpenAIEmulator(entra) as aoai:
        client = openai.AzureOpenAI(azure_endpoint=aoai.endpoint, api_version=aoai.api_version,
                                    azure_ad_token_provider=token_provider("oidc/github/api://AzureADTokenExchange"))
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._server import EmulatorServer, Request, Response
from .entra import EntraEmulator
from .tls import loopback_ca

COGNITIVE_SERVICES = "https://cognitiveservices.azure.com"
API_VERSION = "2024-10-21"
UNAUTHORIZED_MESSAGE = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
_CHAT_PATH = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$")


@dataclasses.dataclass(frozen=True)
class Completion:
    """A chat completion the emulator served: who asked, what, and the answer."""

    deployment: str
    principal: str | None
    messages: list[Any]
    answer: str


def echo_answer(messages: list[Any]) -> str:
    """The default model: repeat the last user message."""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
            return f"Hello from the Azure OpenAI emulator. You said: {content}"
    return "Hello from the Azure OpenAI emulator."


class AzureOpenAIEmulator(EmulatorServer):
    """Chat completions behind Entra bearer-token (or ``api-key``) authentication.

    ``deployments`` maps deployment names to model names; ``allowed_principals`` (object
    IDs), when given, answers 401 ``PermissionDenied`` to other callers, as a missing
    RBAC role does.  ``unauthorized`` counts 401 answers and ``rejections`` says why.
    """

    name = "azure-openai"

    def __init__(
        self,
        entra: EntraEmulator,
        *,
        deployments: Mapping[str, str] | None = None,
        api_keys: Iterable[str] = (),
        allowed_principals: Iterable[str] | None = None,
        audience: str = COGNITIVE_SERVICES,
        answer: Callable[[list[Any]], str] = echo_answer,
        clock: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("ssl_context", loopback_ca().server_context())
        super().__init__(**kwargs)
        self.entra = entra
        self.deployments = dict(deployments or {"gpt-4o": "gpt-4o-2024-08-06"})
        self.api_keys = set(api_keys)
        self.allowed_principals = set(allowed_principals) if allowed_principals is not None else None
        self.audience = audience
        self.answer = answer
        self._clock = clock
        self.api_version = API_VERSION
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: Why each 401 was answered (``"expired"``, ``"bad signature"``, ...).
        self.rejections: list[str] = []
        self.completions: list[Completion] = []

    @property
    def clock(self) -> Callable[[], float]:
        """The emulator's notion of now: its own if given, else the Entra emulator's."""
        return self._clock or self.entra.clock

    @clock.setter
    def clock(self, value: Callable[[], float] | None) -> None:
        self._clock = value

    @property
    def endpoint(self) -> str:
        """``azure_endpoint`` for ``openai.AzureOpenAI``."""
        return self.url

    @property
    def unauthorized(self) -> int:
        with self._lock:
            return len(self.rejections)

    def env(self) -> dict[str, str]:
        """``AZURE_OPENAI_ENDPOINT`` and ``OPENAI_API_VERSION``, as the openai package reads them."""
        return {"AZURE_OPENAI_ENDPOINT": self.endpoint, "OPENAI_API_VERSION": self.api_version}

    def handle(self, request: Request) -> Response:
        match = _CHAT_PATH.match(request.path)
        if match is None:
            return Response(404, {"error": {"code": "404", "message": "Resource not found"}})
        if request.method != "POST":
            return Response(405, {"error": {"code": "405", "message": "Method not allowed"}})
        if not request.arg("api-version"):
            return Response(404, {"error": {"code": "404", "message": "Resource not found"}})
        principal, refusal = self._authenticate(request)
        if refusal is not None:
            return refusal
        deployment = match.group("deployment")
        model = self.deployments.get(deployment)
        if model is None:
            return Response(
                404,
                {
                    "error": {
                        "code": "DeploymentNotFound",
                        "message": "The API deployment for this resource does not exist. If you created the "
                        "deployment within the last 5 minutes, please wait a moment and try again.",
                    }
                },
            )
        try:
            body = request.json()
        except ValueError:
            body = None
        messages = body.get("messages") if isinstance(body, Mapping) else None
        if not isinstance(messages, list) or not messages:
            return Response(
                400,
                {
                    "error": {
                        "code": "BadRequest",
                        "message": "'messages' is a required property and must be a non-empty array",
                        "param": "messages",
                        "type": "invalid_request_error",
                    }
                },
            )
        text = self.answer(messages)
        with self._lock:
            self.completions.append(Completion(deployment, principal, messages, text))
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in messages if isinstance(m, Mapping)
        )
        completion_tokens = len(text.split())
        filters = {
            name: {"filtered": False, "severity": "safe"}
            for name in ("hate", "self_harm", "sexual", "violence")
        }
        return Response(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(self.clock()),
                "model": model,
                "system_fingerprint": "fp_emulated",
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": filters}],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                        "content_filter_results": filters,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {"apim-request-id": str(uuid.uuid4()), "x-ms-region": "East US"},
        )

    # authentication --------------------------------------------------------------------
    def _reject(self, reason: str, body: Mapping[str, Any] | None = None) -> Response:
        with self._lock:
            self.rejections.append(reason)
        return Response(401, body or {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE})

    def _authenticate(self, request: Request) -> tuple[str | None, Response | None]:
        api_key = request.header("api-key")
        if api_key is not None:
            if any(secrets.compare_digest(api_key, key) for key in self.api_keys):
                return None, None
            return None, self._reject(
                "invalid api-key",
                {
                    "error": {
                        "code": "401",
                        "message": (
                            "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                            "to provide a valid key for an active subscription and use a correct regional "
                            "API endpoint for your resource."
                        ),
                    }
                },
            )
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, self._reject("missing bearer token")
        claims, reason = self._verify(token.strip())
        if claims is None:
            return None, self._reject(reason)
        principal = claims.get("oid")
        principal = principal if isinstance(principal, str) else None
        if self.allowed_principals is not None and principal not in self.allowed_principals:
            return principal, self._reject(
                "no role assignment",
                {
                    "error": {
                        "code": "PermissionDenied",
                        "message": "Principal does not have access to API/Operation.",
                    }
                },
            )
        return principal, None

    def _verify(self, token: str) -> tuple[dict[str, Any] | None, str]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            key = self._key(header.get("kid"))
            if key is None:
                return None, "unknown signing key"
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError as err:
            return None, f"invalid token ({type(err).__name__})"
        aud = claims.get("aud")
        if aud not in (self.audience, self.audience + "/"):
            return None, f"wrong audience {aud!r}"
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or claims.get("iss") != self.entra.token_issuer(tenant):
            return None, "unknown issuer"
        exp = claims.get("exp")
        now = self.clock()
        if not isinstance(exp, (int, float)) or exp <= now:
            return None, "expired"
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > now:
            return None, "not yet valid"
        return claims, ""

    def _key(self, kid: object) -> Any:
        """The Entra signing key ``kid``, from Entra's JWKS fetched over HTTPS (refetched for a new kid)."""
        import jwt
        import requests

        if not isinstance(kid, str):
            return None
        with self._lock:
            key = self._keys.get(kid)
        if key is not None:
            return key
        jwks = requests.get(self.entra.jwks_url, timeout=5, verify=self.entra.ca_path).json()
        keys = {
            jwk["kid"]: jwt.PyJWK(jwk, algorithm="RS256").key
            for jwk in jwks.get("keys", [])
            if isinstance(jwk, dict) and "kid" in jwk
        }
        with self._lock:
            self._keys.update(keys)
        return keys.get(kid)


__all__ = [
    "API_VERSION",
    "COGNITIVE_SERVICES",
    "UNAUTHORIZED_MESSAGE",
    "AzureOpenAIEmulator",
    "Completion",
    "echo_answer",
]
