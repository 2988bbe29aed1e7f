"""Where ``tests/live`` runs: the loopback emulators (default), or the real clouds from GitHub Actions.

``OIDC_LIVE_TARGET=github`` (set by ``.github/workflows/live.yml``) uses the job's real GitHub OIDC
token and the real AWS, Azure and Google endpoints named by ``LIVE_*`` variables; a relying party whose
variables are not set is reported as not run.  Otherwise every part runs against one emulator world.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest

from tests.docs.world import SERVICE_ACCOUNT, docs_world

#: Captured before the root conftest strips ambient variables from each test.
_AMBIENT = dict(os.environ)
_GITHUB_VARIABLES = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")


@dataclasses.dataclass
class Target:
    name: str
    #: Variables each part sets before it runs (the identity provider's, endpoints).
    env: dict[str, str]
    settings: dict[str, str]
    #: Google STS / IAM Credentials endpoints (the emulators'), None for Google's own.
    token_url: str | None = None
    iam_endpoint: str | None = None

    def need(self, *names: str) -> dict[str, str]:
        """The named settings; a part without them is reported as not run (live target only)."""
        missing = [name for name in names if not self.settings.get(name)]
        if missing:
            pytest.skip(f"not run: repository variables {', '.join(missing)} not set")
        return {name: self.settings[name] for name in names}


def _live_settings() -> dict[str, str]:
    return {name: value for name, value in _AMBIENT.items() if name.startswith("LIVE_") and value}


@pytest.fixture(scope="session")
def _target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if _AMBIENT.get("OIDC_LIVE_TARGET") == "github":
        env = {name: _AMBIENT[name] for name in _GITHUB_VARIABLES if name in _AMBIENT}
        yield Target("github", env, _live_settings())
        return
    with docs_world(str(tmp_path_factory.mktemp("live-home"))) as world:
        settings = {
            "LIVE_AWS_ROLE_ARN": world.role_arn,
            "LIVE_AWS_REGION": "us-east-1",
            "LIVE_BEDROCK_MODEL_ID": "amazon.nova-micro-v1:0",
            "LIVE_AZURE_TENANT_ID": world.entra.tenant_id,
            "LIVE_AZURE_CLIENT_ID": world.entra.client_id,
            "LIVE_AZURE_OPENAI_ENDPOINT": world.azure_openai.endpoint,
            "LIVE_AZURE_OPENAI_DEPLOYMENT": "gpt-4o",
            "LIVE_GCP_WORKLOAD_IDENTITY_PROVIDER": world.pool_provider,
            "LIVE_GCP_PROJECT": world.vertex.project,
            "LIVE_GCP_LOCATION": "us-central1",
            "LIVE_GCP_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
            "LIVE_VERTEX_MODEL": "gemini-2.0-flash",
            "LIVE_VERTEX_ENDPOINT": world.vertex.url,
        }
        yield Target(
            "emulators",
            world.env,
            settings,
            token_url=world.google_sts.token_url,
            iam_endpoint=world.iam_credentials.url,
        )


@pytest.fixture
def target(_target: Target, monkeypatch: pytest.MonkeyPatch) -> Target:
    for name, value in _target.env.items():
        monkeypatch.setenv(name, value)
    return _target


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Which relying parties ran, also in the GitHub job summary."""
    lines = []
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") in ("call", "setup") and "tests/live" in report.nodeid:
                lines.append(f"- {report.nodeid.rsplit('::', 1)[-1]}: {outcome}")
    if not lines:
        return
    terminalreporter.write_line("live parts: " + "; ".join(line[2:] for line in lines))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and os.environ.get("OIDC_LIVE_TARGET") == "github":
        with open(summary, "a", encoding="utf-8") as out:
            out.write("## Live relying parties\n\n" + "\n".join(lines) + "\n")
