"""Loggers and once-per-process warnings."""

from __future__ import annotations

import logging
import threading

ROOT = "oidc_credential_chain"

_warned: set[str] = set()
_warned_lock = threading.Lock()


def get_logger(name: str) -> logging.Logger:
    """A logger under the package's root, e.g. ``get_logger("aws")``."""
    return logging.getLogger(f"{ROOT}.{name}" if name else ROOT)


def warn_once(logger: logging.Logger, key: str, message: str, *args: object) -> None:
    """Log ``message`` at WARNING the first time ``key`` is seen in this process."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning(message, *args)


def reset_warnings() -> None:
    """Forget which once-per-process warnings were given (for tests)."""
    with _warned_lock:
        _warned.clear()
