"""Emulated worlds for the fault suite, and the ``--fault-table`` report.

``aws_world``: GitHub Actions -> STS -> Bedrock Runtime, driven through stock boto3.
``azure_world``: GitHub Actions -> Entra ID -> Azure OpenAI, driven through stock openai.
Both count every call each emulator received, so a test can say what a fault cost.

``pytest tests/resilience/test_faults.py --fault-table=FILE`` writes the fault table
(one row per test marked ``@pytest.mark.fault``, with its outcome) as markdown.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from oidc_credential_chain._internal.http import HttpConfig
from oidc_credential_chain.testing.azure_openai import AzureOpenAIEmulator
from oidc_credential_chain.testing.bedrock import BedrockRuntimeEmulator
from oidc_credential_chain.testing.entra import EntraEmulator
from oidc_credential_chain.testing.github import TOKEN_PATH, GitHubActionsTokenEndpoint
from oidc_credential_chain.testing.issuer import OIDCIssuer
from oidc_credential_chain.testing.sts import STSEmulator

AWS_SPEC = "oidc/github/sts.amazonaws.com"
AZURE_SPEC = "oidc/github/api://AzureADTokenExchange"
SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"
#: The timeout budget the fault tests configure (OIDC_CREDENTIAL_CHAIN_TIMEOUT).
TOTAL_TIMEOUT = 2.0


def error_bound(config: HttpConfig | None = None) -> float:
    """A generous upper bound for how long a failing call may take.

    An exchange spends at most one budget fetching the ID token and one at the token
    service, and may re-fetch a fresh token once: three budgets, plus slack for a loaded
    machine.
    """
    config = config or HttpConfig.from_env()
    return 3 * config.total_timeout + 10.0


@dataclasses.dataclass
class Elapsed:
    seconds: float = 0.0


@pytest.fixture
def timed() -> Callable[..., Any]:
    """``timed(fn)`` -> (result or exception, seconds)."""

    def run(fn: Callable[[], Any]) -> tuple[Any, float]:
        started = time.monotonic()
        try:
            result: Any = fn()
        except Exception as err:
            result = err
        return result, time.monotonic() - started

    return run


@pytest.fixture(autouse=True)
def _short_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_TIMEOUT", str(TOTAL_TIMEOUT))
    monkeypatch.setenv("OIDC_CREDENTIAL_CHAIN_CONNECT_TIMEOUT", "1")


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubActionsTokenEndpoint]:
    with (
        OIDCIssuer("https://token.actions.githubusercontent.com") as issuer,
        GitHubActionsTokenEndpoint(issuer) as endpoint,
    ):
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        yield endpoint


class AwsWorld:
    """GitHub -> STS -> Bedrock, with one long-lived boto3 client (as a gateway keeps)."""

    def __init__(self, github: GitHubActionsTokenEndpoint, sts: STSEmulator, bedrock: BedrockRuntimeEmulator):
        self.github = github
        self.sts = sts
        self.bedrock = bedrock
        sts.register_provider(github.issuer)
        self.role_arn = sts.allow("bedrock", github.issuer, sub="repo:octo-org/octo-repo:*")
        self._client: Any = None

    def session(self) -> Any:
        import oidc_credential_chain.aws as ocaws

        return ocaws.session(role_arn=self.role_arn, web_identity_token=AWS_SPEC, region_name="us-east-1")

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.session().client("bedrock-runtime")
        return self._client

    def call(self, text: str = "hello") -> str:
        response = self.client.converse(
            modelId="anthropic.claude-3-haiku", messages=[{"role": "user", "content": [{"text": text}]}]
        )
        return str(response["output"]["message"]["content"][0]["text"])

    @property
    def idp_calls(self) -> int:
        return self.github.count(TOKEN_PATH)

    @property
    def sts_calls(self) -> int:
        return self.sts.calls("AssumeRoleWithWebIdentity")

    def assert_no_request_with_expired_credentials(self) -> None:
        """Every request that reached Bedrock was accepted: none carried expired credentials."""
        assert self.bedrock.count() == len(self.bedrock.calls), "Bedrock refused a request"


@pytest.fixture
def aws_world(github: GitHubActionsTokenEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsWorld]:
    with STSEmulator() as sts, BedrockRuntimeEmulator(sts) as bedrock:
        for name, value in {**sts.env(), **bedrock.env()}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield AwsWorld(github, sts, bedrock)


class AzureWorld:
    """GitHub -> Entra -> Azure OpenAI, with one long-lived ``openai.AzureOpenAI`` client."""

    def __init__(self, github: GitHubActionsTokenEndpoint, entra: EntraEmulator, aoai: AzureOpenAIEmulator):
        self.github = github
        self.entra = entra
        self.aoai = aoai
        entra.add_federated_credential(github.issuer, SUBJECT)
        self._client: Any = None
        self.provider: Callable[[], str] | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import openai

            from oidc_credential_chain.azure import token_provider

            self.provider = token_provider(AZURE_SPEC)
            self._client = openai.AzureOpenAI(
                azure_endpoint=self.aoai.endpoint,
                api_version=self.aoai.api_version,
                azure_ad_token_provider=self.provider,
                max_retries=0,
            )
        return self._client

    def call(self, text: str = "hello") -> str:
        completion = self.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": text}]
        )
        return str(completion.choices[0].message.content)

    @property
    def idp_calls(self) -> int:
        return self.github.count(TOKEN_PATH)

    @property
    def entra_calls(self) -> int:
        return self.entra.token_requests

    def assert_no_request_with_expired_credentials(self) -> None:
        assert self.aoai.unauthorized == 0, self.aoai.rejections


@pytest.fixture
def azure_world(
    github: GitHubActionsTokenEndpoint, entra: EntraEmulator, azure_openai: AzureOpenAIEmulator
) -> Iterator[AzureWorld]:
    yield AzureWorld(github, entra, azure_openai)


# The fault table -----------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fault(fault, path, sees): a row of the README's fault table (see tests/resilience/conftest.py)",
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fault-table", default=None, help="write the fault table (markdown) to this file")


_rows: dict[str, dict[str, str]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    marker = item.get_closest_marker("fault")
    if marker is None:
        return
    # The row travels with the report, so that under pytest-xdist the controller sees it too.
    report = outcome.get_result()
    order = str(item.session.items.index(item))  # the table lists rows in collection order
    report.user_properties.append(("fault_row", {**marker.kwargs, "test": item.name, "order": order}))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "fault_row":
            row = _rows.setdefault(report.nodeid, {**value, "outcome": "passed"})
            if report.failed:
                row["outcome"] = "FAILED"


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("fault_table", default=None)
    # An xdist worker's reports reach the controller, which writes the table.
    if not path or not _rows or hasattr(session.config, "workerinput"):
        return
    lines = [
        "| Fault | Where | What the caller sees | Test |",
        "|---|---|---|---|",
    ]
    # Parametrized variants of one test share a row.
    merged: dict[tuple[str, str, str], list[str]] = {}
    for row in sorted(_rows.values(), key=lambda row: int(row["order"])):
        mark = "" if row["outcome"] == "passed" else " (FAILED)"
        merged.setdefault((row["fault"], row["path"], row["sees"]), []).append(f"`{row['test']}`{mark}")
    for (fault, path_, sees), tests in merged.items():
        lines.append(f"| {fault} | {path_} | {sees} | {', '.join(tests)} |")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
