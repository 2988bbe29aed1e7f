"""``credential_process`` output: credentials for any AWS SDK or tool, in any language.

Profile example (``~/.aws/config``), as ``oidc-credential-chain aws profile bedrock ...``
prints it (the script named by absolute path, so it runs where the virtual environment is
not on ``PATH``)::

    [profile bedrock]
    credential_process = /opt/venv/bin/oidc-credential-chain aws credential-process
        --role-arn arn:aws:iam::123456789012:role/bedrock --token oidc/github/sts.amazonaws.com

(one line in the file; split here for width).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from .config import DEFAULT_DURATION, WebIdentityConfig, default_session_name
from .file_cache import CREDENTIAL_PROCESS_MIN_REMAINING, minimum_remaining


def process_credentials(config: WebIdentityConfig) -> dict[str, Any]:
    """The ``credential_process`` JSON document for ``config`` (``Version`` 1, ``Expiration``).

    Example::

        document = process_credentials(WebIdentityConfig.create(token="oidc/github/sts.amazonaws.com",
                                                                role_arn="arn:aws:iam::123456789012:role/ci"))
    """
    import botocore.session

    from .provider import OIDCWebIdentityProvider

    # A bare session: its config file and AWS_ENDPOINT_URL_STS apply, its credentials are never looked up.
    session = botocore.session.Session()
    provider = OIDCWebIdentityProvider(session, config=config)
    with minimum_remaining(CREDENTIAL_PROCESS_MIN_REMAINING):
        return provider.exchange(config).process_output()


SCRIPT = "oidc-credential-chain"


def installed_command() -> list[str]:
    """This installation's command line: the console script beside the interpreter, else ``python -m``."""
    directory = os.path.dirname(os.path.abspath(sys.executable))
    for name in (SCRIPT, f"{SCRIPT}.exe"):
        script = os.path.join(directory, name)
        if os.path.isfile(script) and os.access(script, os.X_OK):
            return [script]
    return [os.path.abspath(sys.executable), "-m", "oidc_credential_chain"]


def command_line(words: Sequence[str]) -> str:
    """``words`` quoted so that botocore's ``credential_process`` split gives them back."""
    if os.name == "nt":
        return subprocess.list2cmdline(list(words))
    return shlex.join(words)


def profile_block(name: str, config: WebIdentityConfig) -> str:
    """A ``~/.aws/config`` block for profile ``name`` running ``credential-process`` for ``config``.

    Example::

        print(profile_block("bedrock", WebIdentityConfig.create(
            token="oidc/github/sts.amazonaws.com", role_arn="arn:aws:iam::123456789012:role/bedrock")))
    """
    words = [*installed_command(), "aws", "credential-process", "--role-arn", config.role_arn]
    words += ["--token", config.spec.text]
    if config.region:
        words += ["--region", config.region]
    if config.duration_seconds != DEFAULT_DURATION:
        words += ["--duration-seconds", str(config.duration_seconds)]
    if config.session_name != default_session_name():
        words += ["--session-name", config.session_name]
    header = "[default]" if name == "default" else f"[profile {name}]"
    lines = [header, f"credential_process = {command_line(words)}"]
    if config.region:
        lines.append(f"region = {config.region}")
    return "\n".join(lines) + "\n"


__all__ = ["command_line", "installed_command", "process_credentials", "profile_block"]
