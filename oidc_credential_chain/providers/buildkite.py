"""Buildkite: ``buildkite-agent oidc request-token`` run as a subprocess, with a deadline.

Its output is read under the deadline and capped: at most ``MAX_TOKEN_BYTES`` + 1 bytes of
stdout (one more than a token may have, so an oversized answer is recognised) and a short
stderr excerpt; past the cap the agent is stopped and nothing more is read.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess

from .._internal import clock
from ..errors import ConfigurationError, TokenFetchError
from ..idtoken import MAX_TOKEN_BYTES
from ..spec import Spec
from .base import Argument, FetchContext, Provider

AGENT = "buildkite-agent"
#: stderr excerpts in messages are cut to this many characters.
_STDERR_LIMIT = 300
#: One byte more than a token may have: enough to tell that the output is not one.
STDOUT_CAP = MAX_TOKEN_BYTES + 1


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
            stdout, stderr = read_capped_output(process, clock.mono() + timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise TokenFetchError(
                f"{spec.text}: '{AGENT} oidc request-token' did not finish within {timeout:g} s "
                "(OIDC_CREDENTIAL_CHAIN_TIMEOUT); the agent could not reach the Buildkite API",
                spec=spec.text,
                retryable=True,
            ) from None
        if len(stdout) >= STDOUT_CAP:
            raise TokenFetchError(
                f"{spec.text}: '{AGENT} oidc request-token' printed more than {MAX_TOKEN_BYTES} bytes; "
                "not a token (the agent was stopped and the rest not read)",
                spec=spec.text,
            )
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


def read_capped_output(process: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes]:
    """``(stdout, stderr)`` of ``process`` until it exits, at most :data:`STDOUT_CAP` bytes of stdout.

    Raises ``subprocess.TimeoutExpired`` at the ``deadline`` (``clock.mono()`` scale).  Once
    stdout reaches the cap the process group is killed and the rest is never read.
    """
    assert process.stdout is not None and process.stderr is not None
    out = bytearray()
    err = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            left = deadline - clock.mono()
            if left <= 0:
                raise subprocess.TimeoutExpired(process.args, 0)
            for key, _ in selector.select(left):
                buffer: bytearray = key.data
                cap = STDOUT_CAP if buffer is out else _STDERR_LIMIT * 4
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer += chunk[: max(0, cap - len(buffer))]
                if buffer is out and len(out) >= STDOUT_CAP:
                    _kill_group(process)
                    return bytes(out), bytes(err)
    try:
        process.wait(max(0.0, deadline - clock.mono()))
    except subprocess.TimeoutExpired:
        raise subprocess.TimeoutExpired(process.args, 0) from None
    return bytes(out), bytes(err)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    # Reap without reading what is left in the pipes.
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    process.wait()
