"""``demo``'s Google half: GitHub identity -> Google STS -> impersonation -> Vertex AI."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

from oidc_credential_chain._demo.gcp import run_gcp_demo


def test_gcp_demo_prints_every_verified_step() -> None:
    before = dict(os.environ)
    out = io.StringIO()

    run_gcp_demo(out)

    text = out.getvalue()
    assert (
        "1. ID token from GitHub Actions (oidc/github: its audience is https: + the pool provider's" in text
    )
    assert "sub='repo:octo-org/octo-repo:ref:refs/heads/main'" in text
    assert re.search(r"expires \d\d:\d\d:\d\d UTC \(in 5 min\)", text)
    assert "2. Google STS verified it" in text
    assert "3. IAM Credentials generateAccessToken: an access token for vertex-caller@demo-project" in text
    assert "[gemini-2.0-flash emulator] you said: Which identity is asking?" in text
    assert "Google demo passed: 1 Google STS exchange, 1 impersonation, 1 Vertex AI call" in text
    # Every variable to repeat it, the request token by name only; never a token.
    for name in ("ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:", "POOL_PROVIDER=//iam.googleapis.com/"):
        assert name in text
    assert "ACTIONS_ID_TOKEN_REQUEST_TOKEN=<the runner's request token; not shown>" in text
    assert "eyJ" not in text and "ya29." not in text
    assert dict(os.environ) == before


def test_demo_command_gcp_part() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oidc_credential_chain.cli", "demo", "--only", "gcp"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Google demo passed" in done.stdout
