"""Amazon Bedrock Runtime on loopback: ``Converse`` and ``InvokeModel``, SigV4-verified.

Every request's signature is recomputed with the secret the :class:`~.sts.STSEmulator`
issued for the access key (service ``bedrock``); unknown keys, a wrong session token, a bad
signature, a stale ``X-Amz-Date`` and expired credentials are refused with Bedrock's
rest-json errors (``x-amzn-ErrorType`` header, ``{"message": ...}`` body).  Optional API keys
are accepted as ``Authorization: Bearer`` (what ``AWS_BEARER_TOKEN_BEDROCK`` makes botocore send).

The model answers deterministically, naming the caller, so tests can see whose
credentials signed the request.

Example::

    with BedrockRuntimeEmulator(sts) as bedrock:
        os.environ.update(bedrock.env())
        boto3.client("bedrock-runtime", region_name="us-east-1").converse(modelId=..., messages=...)
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from ._server import EmulatorServer, Request, Response
from .sigv4 import SigV4Error, verify
from .sts import STSEmulator

SERVICE = "bedrock"


@dataclasses.dataclass(frozen=True)
class BedrockCall:
    """One accepted request: operation, model, and who signed it."""

    operation: str  # "Converse" or "InvokeModel"
    model_id: str
    caller: str  # assumed-role/user ARN, or "api-key"
    access_key_id: str | None
    prompt: str


def bedrock_error(status: int, code: str, message: str) -> Response:
    return Response(
        status,
        {"message": message},
        {
            "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "x-amzn-RequestId": str(uuid.uuid4()),
        },
    )


def _last_user_text(messages: object) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                texts = [block.get("text", "") for block in content if isinstance(block, dict)]
                return " ".join(t for t in texts if isinstance(t, str))
    return ""


class BedrockRuntimeEmulator(EmulatorServer):
    """Bedrock Runtime, verifying SigV4 with the secrets ``sts`` issued.

    ``models``: accepted model IDs (None: any).  ``api_keys``: bearer keys accepted instead
    of SigV4.  ``reply(model_id, prompt, caller)`` makes the answer text.
    """

    name = "bedrock-runtime"

    def __init__(
        self,
        sts: STSEmulator,
        *,
        models: Iterable[str] | None = None,
        api_keys: Iterable[str] = (),
        reply: Callable[[str, str, str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sts = sts
        self.models = set(models) if models is not None else None
        self.api_keys = set(api_keys)
        self.reply = reply or (lambda model, prompt, caller: f"Hello {caller}. You asked {model}: {prompt!r}")
        self.calls: list[BedrockCall] = []
        self._calls_lock = threading.Lock()

    def env(self) -> dict[str, str]:
        """``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``: point botocore's bedrock-runtime clients here."""
        return {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.url}

    def callers(self) -> list[str]:
        """The caller ARN of every accepted request, in order."""
        with self._calls_lock:
            return [call.caller for call in self.calls]

    def handle(self, request: Request) -> Response:
        parts = request.path.split("/")
        # /model/{modelId}/converse | /model/{modelId}/invoke
        if request.method != "POST" or len(parts) != 4 or parts[1] != "model":
            return bedrock_error(404, "UnknownOperationException", f"no operation at {request.path}")
        operation = {"converse": "Converse", "invoke": "InvokeModel"}.get(parts[3])
        if operation is None:
            return bedrock_error(404, "UnknownOperationException", f"no operation at {request.path}")
        model_id = unquote(parts[2])
        caller = self._authenticate(request)
        if isinstance(caller, Response):
            return caller
        caller_arn, access_key_id = caller
        if self.models is not None and model_id not in self.models:
            return bedrock_error(404, "ResourceNotFoundException", f"Model {model_id} not found.")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return bedrock_error(400, "ValidationException", "The request body is not valid JSON.")
        if operation == "Converse":
            return self._converse(model_id, body, caller_arn, access_key_id)
        return self._invoke(model_id, body, caller_arn, access_key_id)

    def _authenticate(self, request: Request) -> tuple[str, str | None] | Response:
        authorization = request.header("authorization") or ""
        if authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
            if any(hmac.compare_digest(presented, key) for key in self.api_keys):
                return "api-key", None
            return bedrock_error(
                403, "AccessDeniedException", "Invalid API Key format or the API key is invalid."
            )
        try:
            result = verify(
                request, self.sts.lookup, service=SERVICE, now=time.time() + self.sts.clock_offset
            )
        except SigV4Error as err:
            return bedrock_error(err.status, err.code, err.message)
        credentials = self.sts.lookup(result.access_key_id)
        assert credentials is not None
        return credentials.arn, result.access_key_id

    def _record_call(
        self, operation: str, model_id: str, caller: str, access_key_id: str | None, prompt: str
    ) -> None:
        with self._calls_lock:
            self.calls.append(BedrockCall(operation, model_id, caller, access_key_id, prompt))

    def _converse(self, model_id: str, body: Any, caller: str, access_key_id: str | None) -> Response:
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return bedrock_error(
                400, "ValidationException", "The messages field is required and must not be empty."
            )
        prompt = _last_user_text(messages)
        text = self.reply(model_id, prompt, caller)
        self._record_call("Converse", model_id, caller, access_key_id, prompt)
        tokens_in, tokens_out = max(1, len(prompt.split())), max(1, len(text.split()))
        return Response(
            200,
            {
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": "end_turn",
                "usage": {
                    "inputTokens": tokens_in,
                    "outputTokens": tokens_out,
                    "totalTokens": tokens_in + tokens_out,
                },
                "metrics": {"latencyMs": 1},
            },
            {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())},
        )

    def _invoke(self, model_id: str, body: Any, caller: str, access_key_id: str | None) -> Response:
        if not isinstance(body, dict):
            return bedrock_error(400, "ValidationException", "The request body must be a JSON object.")
        if "messages" in body:  # Anthropic Messages format
            prompt = _last_user_text(body["messages"])
            text = self.reply(model_id, prompt, caller)
            answer: dict[str, Any] = {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": model_id,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": max(1, len(prompt.split())),
                    "output_tokens": max(1, len(text.split())),
                },
            }
        elif "inputText" in body:  # Amazon Titan text format
            prompt = str(body["inputText"])
            text = self.reply(model_id, prompt, caller)
            answer = {
                "inputTextTokenCount": max(1, len(prompt.split())),
                "results": [
                    {
                        "tokenCount": max(1, len(text.split())),
                        "outputText": text,
                        "completionReason": "FINISH",
                    }
                ],
            }
        else:
            prompt = str(body.get("prompt", ""))
            text = self.reply(model_id, prompt, caller)
            answer = {"generation": text, "stop_reason": "stop"}
        self._record_call("InvokeModel", model_id, caller, access_key_id, prompt)
        return Response(
            200, answer, {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
        )


__all__ = ["SERVICE", "BedrockCall", "BedrockRuntimeEmulator", "bedrock_error"]
