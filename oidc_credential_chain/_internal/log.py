"""Loggers and once-per-process warnings."""

from __future__ import annotations

import logging

from ..lifecycle.owner import Owned, SharedInstances

ROOT = "oidc_credential_chain"

#: Keys of the warnings given in this process (in the current lifecycle owner).
_warned: Owned[SharedInstances[str, bool]] = Owned(SharedInstances, "warned")


class RedactingFilter(logging.Filter):
    """Passes every record of the package's loggers through the one redaction path.

    The message is formatted here (``msg % args``) and redacted, so neither the text nor
    the raw arguments of a record can carry a token to a handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from .redact import redact_text

        record.msg = redact_text(record.getMessage())
        record.args = None
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """A logger under the package's root, e.g. ``get_logger("aws")``; its records are redacted."""
    logger = logging.getLogger(f"{ROOT}.{name}" if name else ROOT)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def warn_once(logger: logging.Logger, key: str, message: str, *args: object) -> None:
    """Log ``message`` at WARNING the first time ``key`` is seen in this process."""
    if not _warned.get().add(key):
        return
    logger.warning(message, *args)


def reset_warnings() -> None:
    """Forget which once-per-process warnings were given."""
    _warned.get().clear()
