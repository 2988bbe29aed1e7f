"""A temporary, isolated process environment for the demos."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence


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
