"""A temporary, isolated process environment for the demos."""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any


@contextlib.contextmanager
def isolated_environ(updates: Mapping[str, str], *, drop_prefixes: Sequence[str] = ()) -> Iterator[None]:
    """Set ``updates`` and remove variables starting with ``drop_prefixes``; restore on exit.

    Loopback is added to ``NO_PROXY`` so a configured proxy never sees emulator traffic.
    """
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.startswith(tuple(drop_prefixes)):
                del os.environ[name]
        no_proxy = ",".join(p for p in (os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost") if p)
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = no_proxy
        os.environ.update(updates)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def empty_aws_config_env(directory: str) -> dict[str, str]:
    """Point botocore at empty config files so the user's ``~/.aws`` cannot interfere."""
    return {
        "AWS_CONFIG_FILE": os.path.join(directory, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(directory, "credentials"),
    }


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="oidc-credential-chain-demo-")


def in_words(seconds: float) -> str:
    """``in 45 s``, ``in 5 min``, ``in 1 h``; ``5 min ago`` for the past."""
    later = seconds >= 0
    seconds = abs(seconds)
    if seconds < 90:
        amount = f"{seconds:.0f} s"
    elif seconds < 90 * 60:
        amount = f"{seconds / 60:.0f} min"
    else:
        amount = f"{seconds / 3600:.1f}".removesuffix(".0") + " h"
    return f"in {amount}" if later else f"{amount} ago"


def when(epoch: float, now: float | None = None) -> str:
    """``17:30:05 UTC (in 5 min)``: a time users can read, not an epoch."""
    current = time.time() if now is None else now
    clock = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%H:%M:%S UTC")
    return f"{clock} ({in_words(epoch - current)})"


def describe_claims(claims: Mapping[str, Any], now: float | None = None) -> str:
    """``iss=..., aud=..., sub=..., expires 17:30:05 UTC (in 5 min)``: never the token."""
    shown = [f"{name}={claims[name]!r}" for name in ("iss", "aud", "sub") if name in claims]
    exp = claims.get("exp")
    if isinstance(exp, (int, float)):
        shown.append(f"expires {when(exp, now)}")
    return ", ".join(shown)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 STS exchange``, ``2 STS exchanges``."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


#: Variables whose value is a credential: listed by name, never shown.
SECRET_VARIABLES = frozenset({"ACTIONS_ID_TOKEN_REQUEST_TOKEN"})


def environment_lines(env: Mapping[str, str], names: Sequence[str]) -> list[str]:
    """``NAME=value`` for each variable a user sets to repeat a step by hand."""
    hidden = "<the runner's request token; not shown>"
    return [
        f"    {name}={hidden if name in SECRET_VARIABLES else env[name]}" for name in names if name in env
    ]
