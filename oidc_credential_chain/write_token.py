"""Keep an ID token in a file, fresh, for SDKs that read token files.

botocore's ``AWS_WEB_IDENTITY_TOKEN_FILE``, azure-identity's ``AZURE_FEDERATED_TOKEN_FILE``,
google-auth's file-sourced external-account credentials, and every other language's
SDKs read a token from a path.  :func:`write_token_file` writes one atomically (readers see
the old token or the new one, never half of either) without a trailing newline, and
:class:`TokenFileWatcher` rewrites it at 80 % of each token's lifetime (leaving at least a
minute, or half the lifetime of very short tokens), backing off while
the identity provider fails and stopping cleanly when asked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import tempfile
import threading
from collections.abc import Callable

from ._internal import clock
from ._internal.log import get_logger
from .errors import ConfigurationError, ErrorKind, OIDCError
from .idtoken import IdToken
from .providers.registry import parse_spec
from .spec import Spec

_log = get_logger("write_token")

#: Rewrite the file when this fraction of the token's lifetime has passed...
REFRESH_FRACTION = 0.8
#: ...but at least this many seconds before it expires (half the lifetime for short tokens).
MIN_MARGIN = 60.0
DEFAULT_MODE = 0o600


def parse_mode(text: str) -> int:
    """An octal permission string (``"0600"``, ``"600"``, ``"0o640"``) as an int.

    Raises :class:`ConfigurationError` for anything that is not 3-4 octal digits within 0o777.

    Example: ``parse_mode("0640") == 0o640``.
    """
    raw = text.strip().lower()
    digits = raw[2:] if raw.startswith("0o") else raw
    if not digits or len(digits) > 4 or any(c not in "01234567" for c in digits):
        raise ConfigurationError(f"--mode {text!r} is not an octal file mode such as 0600 or 0640")
    mode = int(digits, 8)
    if mode > 0o777:
        raise ConfigurationError(f"--mode {text!r} sets bits beyond rwx for user/group/other; use e.g. 0600")
    if not mode & 0o400:
        raise ConfigurationError(f"--mode {text!r} would make the token file unreadable by its owner")
    return mode


def write_token_file(path: str | os.PathLike[str], token: str, *, mode: int = DEFAULT_MODE) -> None:
    """Write ``token`` to ``path`` atomically, with permissions ``mode`` and no trailing newline.

    The text goes to a temporary file in the same directory, is flushed to disk, and is
    renamed over ``path``, so a reader never sees a partial token.  Raises
    :class:`ConfigurationError` when the directory is missing or not writable.

    Example: ``write_token_file("/var/run/token", fetch_id_token(spec).value)``.
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise ConfigurationError(
            f"cannot write the token to {target!r}: the directory {directory!r} does not exist"
        )
    if os.path.isdir(target):
        raise ConfigurationError(f"cannot write the token to {target!r}: it is a directory")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise ConfigurationError(
            f"cannot write the token to {target!r}: {err.strerror or err} (in {directory!r})"
        ) from None
    try:
        try:
            os.fchmod(fd, mode)
            data = token.strip().encode("ascii")
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ConfigurationError(f"cannot write the token to {target!r}: {err.strerror or err}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable; not possible on every platform/filesystem, and not required for readers.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclasses.dataclass(frozen=True)
class WriteEvent:
    """What the watcher did: a write (``token`` set) or a failure (``error`` set)."""

    token: IdToken | None
    error: OIDCError | None
    next_in: float


def refresh_delay(token: IdToken, fraction: float = REFRESH_FRACTION) -> float:
    """Seconds from now until the file should be rewritten.

    At ``fraction`` of the token's lifetime, but leaving readers at least
    :data:`MIN_MARGIN` seconds of validity (or half the lifetime, for tokens shorter than
    two minutes): a reader that takes the file just before the rewrite still presents a
    token with time to spare.

    Example: a 300 s GitHub token fetched just now is rewritten after 240 s; a 3600 s one
    after 2880 s; a 60 s one after 30 s.
    """
    margin = min(max((1.0 - fraction) * token.lifetime, MIN_MARGIN), token.lifetime / 2)
    due = token.fetched_mono + token.lifetime - margin
    return max(0.5, due - clock.mono())


class TokenFileWatcher:
    """Writes the spec's token to a file and rewrites it before it expires.

    ``run()`` blocks until ``stop()`` is called (for instance from a SIGTERM handler).
    Identity-provider failures are retried with exponential backoff (``backoff_initial``
    doubling up to ``backoff_max``, with jitter) while the previous file stays in place.

    Example::

        watcher = TokenFileWatcher("oidc/github/sts.amazonaws.com", "/tmp/token")
        threading.Thread(target=watcher.run, daemon=True).start()
        ...
        watcher.stop()
    """

    def __init__(
        self,
        spec: str | Spec,
        path: str | os.PathLike[str],
        *,
        mode: int = DEFAULT_MODE,
        refresh_fraction: float = REFRESH_FRACTION,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        on_event: Callable[[WriteEvent], None] | None = None,
    ) -> None:
        if not 0.1 <= refresh_fraction <= 0.95:
            raise ConfigurationError(
                "the refresh fraction must be between 0.1 and 0.95 of the token's lifetime"
            )
        self.spec = parse_spec(spec)
        self.path = os.fspath(path)
        self.mode = mode
        self.refresh_fraction = refresh_fraction
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.on_event = on_event
        self.writes = 0
        self.failures = 0
        self._stop = threading.Event()

    def write_once(self) -> IdToken:
        """Fetch a fresh token and write it; returns it.  Raises the fetch or write error."""
        from ._api import fetch_id_token

        token = fetch_id_token(self.spec, force_refresh=True)
        write_token_file(self.path, token.value, mode=self.mode)
        self.writes += 1
        _log.info("wrote the token for %s to %s (%s)", self.spec.text, self.path, token.describe())
        return token

    def stop(self) -> None:
        """Ask ``run()`` to return (safe to call from a signal handler or another thread)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Write, then rewrite before each expiry, until :meth:`stop`.

        A configuration error on the first attempt is raised (nothing will fix it by
        waiting); later errors of any kind are logged and retried with backoff.
        """
        attempt = 0
        first = True
        while not self._stop.is_set():
            try:
                token = self.write_once()
            except OIDCError as err:
                if first and err.kind is ErrorKind.CONFIGURATION:
                    raise
                attempt += 1
                self.failures += 1
                delay = self._backoff(attempt)
                _log.warning(
                    "could not refresh the token file %s for %s (attempt %d): %s; retrying in %.1f s",
                    self.path,
                    self.spec.text,
                    attempt,
                    err,
                    delay,
                )
                self._emit(WriteEvent(None, err, delay))
                self._stop.wait(delay)
                continue
            first = False
            attempt = 0
            delay = refresh_delay(token, self.refresh_fraction)
            self._emit(WriteEvent(token, None, delay))
            self._stop.wait(delay)

    def _backoff(self, attempt: int) -> float:
        base = min(self.backoff_max, self.backoff_initial * (2 ** (attempt - 1)))
        jittered: float = base * random.uniform(0.8, 1.0)
        return max(0.05, jittered)

    def _emit(self, event: WriteEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)


__all__ = [
    "DEFAULT_MODE",
    "MIN_MARGIN",
    "REFRESH_FRACTION",
    "TokenFileWatcher",
    "WriteEvent",
    "parse_mode",
    "refresh_delay",
    "write_token_file",
]
