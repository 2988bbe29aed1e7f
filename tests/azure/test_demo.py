"""``demo``'s Azure half runs the stock openai client through the whole chain."""

from __future__ import annotations

import io
import os

from oidc_credential_chain._demo.azure import run_azure_demo
from oidc_credential_chain.testing import loopback_ca


def test_azure_demo_runs_and_prints_each_step() -> None:
    before = dict(os.environ)
    out = io.StringIO()

    run_azure_demo(out)

    text = out.getvalue()
    assert "1. ID token from the metadata server (oidc/google/api://AzureADTokenExchange):" in text
    assert "iss='https://accounts.google.com'" in text
    assert "2. Entra ID accepted it as a client assertion" in text
    assert "aud='https://cognitiveservices.azure.com'" in text
    assert "Hello from the Azure OpenAI emulator. You said: Which identity is asking?" in text
    assert "Azure demo passed: 1 Entra exchange(s), 1 Azure OpenAI call(s)" in text
    assert "eyJ" not in text  # claims are shown, tokens never
    assert dict(os.environ) == before  # the demo restores the environment


def test_azure_demo_twice_in_one_process() -> None:
    loopback_ca()
    for _ in range(2):
        out = io.StringIO()
        run_azure_demo(out)
        assert "Azure demo passed" in out.getvalue()
