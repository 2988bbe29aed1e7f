"""Run a function in a forked child and read what it returned, without ever hanging the test."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main"
AWS_SPEC = "oidc/github/sts.amazonaws.com"
AZURE_SPEC = "oidc/github/api://AzureADTokenExchange"
SCOPE = "https://cognitiveservices.azure.com/.default"

#: A child that has not answered after this long is stuck (the library's budget is far shorter).
STUCK_AFTER = 20.0


@dataclasses.dataclass
class ChildOutcome:
    """What the child's function returned (JSON), the error it raised, and how long it took."""

    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    stuck: bool = False


def in_forked_child(fn: Callable[[], Any], *, stuck_after: float = STUCK_AFTER) -> ChildOutcome:
    """Fork; in the child run ``fn`` and report its JSON-able result; in the parent wait for it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read_end)
        started = time.monotonic()
        try:
            report = {"value": fn()}
        except BaseException as err:
            report = {"error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()}
        report["seconds"] = time.monotonic() - started
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], stuck_after)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            return ChildOutcome(stuck=True, seconds=stuck_after)
        raw = b""
        while chunk := os.read(read_end, 65536):
            raw += chunk
        report = json.loads(raw)
        return ChildOutcome(report.get("value"), report.get("error"), report["seconds"])
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def in_background(fn: Callable[[], Any]) -> threading.Thread:
    """Start ``fn`` in a daemon thread (the work in flight when the process forks)."""
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def aws_session(role: str) -> Any:
    """A boto3 session for ``role`` fed by the GitHub spec (as a gateway builds per request)."""
    import oidc_credential_chain.aws as ocaws

    return ocaws.session(role_arn=role, web_identity_token=AWS_SPEC, region_name="us-east-1")
