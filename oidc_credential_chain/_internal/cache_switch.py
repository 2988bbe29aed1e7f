"""Whether the credential file cache is on: the one question every exchange asks.

Apart from :mod:`.file_cache` so that a process with the cache off (the library's default)
never imports the cache itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import ConfigurationError

CACHE_SWITCH_VAR = "OIDC_CREDENTIAL_CHAIN_CACHE"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

_HAVE_FCNTL: bool
try:
    import fcntl as _fcntl  # noqa: F401

    _HAVE_FCNTL = True
except ImportError:  # pragma: no cover - Windows
    _HAVE_FCNTL = False


def cache_enabled(
    environ: Mapping[str, str] | None = None,
    *,
    explicit: bool | None = None,
    command_line: bool = False,
) -> bool:
    """Whether to use the file cache.

    An explicit argument wins, then ``OIDC_CREDENTIAL_CHAIN_CACHE`` (1/0, true/false, yes/no,
    on/off); otherwise the command line uses it unless ``CI`` is set (shared runners), and
    the library does not.  Always off where ``fcntl`` is unavailable.

    Example: ``cache_enabled({"OIDC_CREDENTIAL_CHAIN_CACHE": "1"})`` is True.
    """
    if not _HAVE_FCNTL:
        return False
    if explicit is not None:
        return explicit
    env = os.environ if environ is None else environ
    raw = env.get(CACHE_SWITCH_VAR, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw:
        raise ConfigurationError(
            f"{CACHE_SWITCH_VAR} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}"
        )
    if command_line:
        return not env.get("CI", "").strip()
    return False
