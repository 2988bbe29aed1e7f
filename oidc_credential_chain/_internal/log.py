"""Loggers and once-per-process warnings."""

from __future__ import annotations

import logging

from ..lifecycle.owner import Owned, SharedInstances

ROOT = "oidc_credential_chain"

#: Keys of the warnings given in this process (in the current lifecycle owner).
_warned: Owned[SharedInstances[str, bool]] = Owned(SharedInstances, "warned")


def get_logger(name: str) -> logging.Logger:
    """A logger under the package's root, e.g. ``get_logger("aws")``."""
    return logging.getLogger(f"{ROOT}.{name}" if name else ROOT)


def warn_once(logger: logging.Logger, key: str, message: str, *args: object) -> None:
    """Log ``message`` at WARNING the first time ``key`` is seen in this process."""
    if not _warned.get().add(key):
        return
    logger.warning(message, *args)


def reset_warnings() -> None:
    """Forget which once-per-process warnings were given."""
    _warned.get().clear()
