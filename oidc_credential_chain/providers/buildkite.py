"""Buildkite: ``buildkite-agent oidc request-token`` run as a subprocess, with a deadline."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

from ..errors import ConfigurationError, TokenFetchError
from ..spec import Spec
from .base import Argument, FetchContext, Provider

AGENT = "buildkite-agent"
#: stderr excerpts in messages are cut to this many characters.
_STDERR_LIMIT = 300


def request_token_command(agent: str, spec: Spec) -> list[str]:
    """The agent invocation; without an audience the agent's default applies (``https://buildkite.com/<org>``)."""
    command = [agent, "oidc", "request-token"]
    if spec.argument is not None:
        command += ["--audience", spec.argument]
    return command


class BuildkiteProvider(Provider):
    name = "buildkite"
    argument = Argument.OPTIONAL
    argument_name = "audience"
    description = "Buildkite job token (buildkite-agent oidc request-token --audience <aud>)"
    remote = True

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        agent = shutil.which(AGENT, path=ctx.environ.get("PATH", os.defpath))
        if agent is None:
            raise ConfigurationError(
                f"{spec.text}: the {AGENT} command is not on PATH; oidc/buildkite works only inside a "
                "Buildkite job, where the agent provides it",
                spec=spec.text,
            )
        timeout = ctx.http.config.total_timeout
        command = request_token_command(agent, spec)
        try:
            # A new session lets a timeout kill the agent and anything it started.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(ctx.environ),
                start_new_session=True,
            )
        except OSError as err:
            raise ConfigurationError(
                f"{spec.text}: could not run {agent} ({err.strerror or type(err).__name__})", spec=spec.text
            ) from None
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise TokenFetchError(
                f"{spec.text}: '{AGENT} oidc request-token' did not finish within {timeout:g} s "
                "(OIDC_CREDENTIAL_CHAIN_TIMEOUT); the agent could not reach the Buildkite API",
                spec=spec.text,
                retryable=True,
            ) from None
        if process.returncode != 0:
            detail = " ".join(stderr.decode("utf-8", "replace").split())[:_STDERR_LIMIT] or "(no output)"
            raise TokenFetchError(
                f"{spec.text}: '{AGENT} oidc request-token' exited with status {process.returncode}: "
                f"{detail}; it needs BUILDKITE_AGENT_ACCESS_TOKEN and BUILDKITE_JOB_ID, which the agent "
                "sets in every job",
                spec=spec.text,
            )
        return stdout.decode("utf-8", "replace")

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the output of '{AGENT} oidc request-token'"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.communicate()
