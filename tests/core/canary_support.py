"""Helpers for canary tests: run real flows with a known secret, then prove it leaked nowhere.

A flow is run while :class:`LogCapture` records every record of the ``oidc_credential_chain``
loggers at DEBUG; :func:`collect_exception_texts` turns errors into every text a user could
see (``str``, ``repr``, the formatted traceback with its chained causes);
:func:`assert_no_secret` then checks records and texts.  Other areas add their flows (AWS,
Azure) to ``tests/core/test_canary.py`` with the same helpers.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

ROOT_LOGGER = "oidc_credential_chain"


class LogCapture(logging.Handler):
    """Keeps every record of the package's loggers, formatted the way a handler would."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # Formatting here also fills exc_text, as any real handler would.
        self.format(record)
        with self._guard:
            self.records.append(record)


@contextmanager
def capture_package_logs() -> Iterator[LogCapture]:
    """Attach a :class:`LogCapture` to ``oidc_credential_chain`` at DEBUG for the block."""
    logger = logging.getLogger(ROOT_LOGGER)
    handler = LogCapture()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a record could put in a log: message, raw args, exception text, stack."""
    texts = [record.getMessage(), str(record.msg), repr(record.args)]
    for attribute in ("exc_text", "stack_info"):
        value = getattr(record, attribute, None)
        if value:
            texts.append(str(value))
    if record.exc_info and record.exc_info[1] is not None:
        texts.extend(collect_exception_texts(record.exc_info[1]))
    return texts


def collect_exception_texts(error: BaseException) -> list[str]:
    """``str``, ``repr`` and the full formatted traceback (causes and contexts included)."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.extend([str(current), repr(current), repr(vars(current))])
        current = current.__cause__ or current.__context__
    return texts


def assert_no_secret(
    records: Iterable[logging.LogRecord], texts: Iterable[str], secret: str, *, label: str = "secret"
) -> None:
    """Fail if ``secret`` (or a recognisable part of it) appears in any record or text.

    For a JWT the signature and payload segments are checked on their own too, so a
    message that printed half a token is caught.
    """
    needles = {secret}
    parts = secret.split(".")
    if len(parts) == 3:
        needles.update(part for part in parts[1:] if len(part) >= 16)
    for record in records:
        for text in record_texts(record):
            for needle in needles:
                assert needle not in text, (
                    f"the {label} appears in a {record.levelname} record of {record.name}: {record.msg!r}"
                )
    for index, text in enumerate(texts):
        for needle in needles:
            assert needle not in text, f"the {label} appears in text #{index}: {text[:200]!r}"
