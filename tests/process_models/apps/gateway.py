"""A small LLM gateway served by gunicorn --preload: Bedrock through boto3, Azure OpenAI through
``token_provider``.

At import (in gunicorn's master, before it forks the workers) it warms both credentials,
waits until they are due for renewal, and starts renewing them in background threads, so
the workers are forked while a refresh is in flight.  Clients (which pool connections) are
made in each worker; credentials are shared from the master.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import oidc_credential_chain.aws as ocaws
from oidc_credential_chain.azure import token_provider

AWS_SPEC = "oidc/github/sts.amazonaws.com"
AZURE_SPEC = "oidc/github/api://AzureADTokenExchange"
#: Seconds the credentials live (the STS and Entra emulators are set to this).
LIFETIME = float(os.environ["GATEWAY_LIFETIME"])

session = ocaws.session(
    role_arn=os.environ["GATEWAY_ROLE_ARN"], web_identity_token=AWS_SPEC, region_name="us-east-1"
)
credentials = session.get_credentials()
credentials.get_frozen_credentials()
azure_token = token_provider(AZURE_SPEC)
azure_token()

# Both are due once 85 % of their life has passed (AWS: the mandatory window; Entra: no longer handed out).
time.sleep(0.87 * LIFETIME)
for renew in (credentials.get_frozen_credentials, azure_token):
    threading.Thread(target=renew, daemon=True).start()
time.sleep(0.3)  # gunicorn forks the workers now, with both renewals in flight

_clients: dict[str, Any] = {}


def _bedrock() -> Any:
    if "bedrock" not in _clients:
        _clients["bedrock"] = session.client("bedrock-runtime")
    return _clients["bedrock"]


def _openai() -> Any:
    if "openai" not in _clients:
        import openai

        _clients["openai"] = openai.AzureOpenAI(azure_ad_token_provider=azure_token, max_retries=0)
    return _clients["openai"]


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    answer = _bedrock().converse(
        modelId="anthropic.claude-3-haiku", messages=[{"role": "user", "content": [{"text": "hi"}]}]
    )
    completion = _openai().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    body = json.dumps(
        {
            "pid": os.getpid(),
            "bedrock": answer["output"]["message"]["content"][0]["text"],
            "openai": completion.choices[0].message.content,
            "access_key": credentials.get_frozen_credentials().access_key,
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
