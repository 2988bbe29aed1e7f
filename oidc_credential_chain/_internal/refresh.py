"""When to refresh short-lived credentials, and what to do when an early refresh fails.

botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry.  With
STS's shortest, 15-minute sessions those windows cover the whole lifetime, so every use
calls STS again.  Here both windows are a fraction of the credential's lifetime, capped at
botocore's values, so a 15-minute session is refreshed about once per lifetime and an
hour-long one exactly as botocore would.  The advisory window is jittered (moved towards
expiry by up to a fifth) so that processes holding the same credentials, e.g. read from
the shared file cache, do not all refresh in the same second.

Inside the advisory window a failed refresh is not fatal: the credentials are still valid,
so they keep being served, a warning is logged, and the next attempt waits (exponential
backoff with jitter) so an identity provider that is down does not cost every request the
whole retry budget.  Only inside the mandatory window does a failure reach the caller.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import logging
import random
import threading
from collections.abc import Callable
from typing import TypeVar

from . import clock
from .log import get_logger

T = TypeVar("T")

#: botocore's ``RefreshableCredentials`` windows, the caps of ours.
BOTOCORE_ADVISORY = 15 * 60.0
BOTOCORE_MANDATORY = 10 * 60.0
#: Fractions of the lifetime: a refresh never starts before 70 % of the lifetime has passed,
#: so there are at most 1 / 0.7 < 1.5 refreshes per lifetime, whatever the lifetime.
ADVISORY_FRACTION = 0.30
MANDATORY_FRACTION = 0.15
#: The advisory window shrinks by up to this share of itself, at random (never below mandatory).
JITTER = 0.20

_log = get_logger("refresh")


class Phase(str, enum.Enum):
    """Where a credential stands relative to its refresh windows."""

    FRESH = "fresh"
    ADVISORY = "advisory"
    MANDATORY = "mandatory"


@dataclasses.dataclass(frozen=True)
class RefreshWindows:
    """Seconds before expiry at which a refresh is tried (advisory) and required (mandatory).

    Example::

        windows = refresh_windows(900)          # advisory ~216-270 s, mandatory 135 s
        windows.phase(seconds_left=200)         # Phase.ADVISORY
    """

    advisory: float
    mandatory: float

    def phase(self, seconds_left: float) -> Phase:
        if seconds_left < self.mandatory or seconds_left <= 0:
            return Phase.MANDATORY
        if seconds_left < self.advisory:
            return Phase.ADVISORY
        return Phase.FRESH

    def refresh_in(self, seconds_left: float) -> float:
        """Seconds from now until the advisory window opens (0 if it already has)."""
        return max(0.0, seconds_left - self.advisory)


def refresh_windows(
    lifetime: float,
    *,
    jitter: float = JITTER,
    rand: Callable[[], float] = random.random,
) -> RefreshWindows:
    """The refresh windows for a credential that lives ``lifetime`` seconds.

    Advisory: 30 % of the lifetime, at most 15 minutes, minus up to ``jitter`` of itself.
    Mandatory: 15 % of the lifetime, at most 10 minutes.  ``rand`` returns a number in
    [0, 1) (injectable for tests).

    Example::

        refresh_windows(3600, jitter=0)   # RefreshWindows(advisory=900.0, mandatory=540.0)
    """
    lifetime = max(0.0, float(lifetime))
    advisory = min(BOTOCORE_ADVISORY, lifetime * ADVISORY_FRACTION)
    mandatory = min(BOTOCORE_MANDATORY, lifetime * MANDATORY_FRACTION)
    spread = min(advisory - mandatory, advisory * max(0.0, min(1.0, jitter)))
    advisory -= spread * rand()
    return RefreshWindows(advisory=advisory, mandatory=mandatory)


@dataclasses.dataclass(frozen=True)
class _Failure:
    at: float  # monotonic
    error: BaseException
    mandatory: bool


class RefreshState:
    """What one refreshable credential remembers between refreshes: failures and backoff.

    ``attempt(refresh, seconds_left=..., windows=...)`` runs ``refresh`` when it is due:

    - fresh credentials: nothing runs, None is returned;
    - advisory window: ``refresh`` runs unless a previous failure is still backing off; if
      it raises, a warning is logged, the next attempt is scheduled, and None is returned
      (the caller keeps serving what it has);
    - mandatory window: ``refresh`` always runs, and its error is raised.

    Thread-safe.  Example::

        state = RefreshState("AWS credentials for role arn:aws:iam::1:role/r")
        new = state.attempt(exchange, seconds_left=creds.seconds_left(), windows=windows)
        if new is not None:
            creds = new
    """

    def __init__(
        self,
        what: str,
        *,
        base_delay: float = 5.0,
        max_delay: float = 120.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.what = what
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._log = logger or _log
        self._lock = threading.Lock()
        self._failures = 0
        self._next_attempt = float("-inf")
        self._last_failure: _Failure | None = None
        #: Counters for tests and benchmarks.
        self.attempts = 0
        self.successes = 0
        self.advisory_failures = 0
        self.skipped = 0

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def backing_off(self) -> bool:
        """True while a failed advisory refresh's backoff has not elapsed."""
        return clock.mono() < self._next_attempt

    def should_attempt(self, *, mandatory: bool) -> bool:
        return mandatory or not self.backing_off()

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._next_attempt = float("-inf")
            self._last_failure = None
            self.successes += 1

    def record_failure(
        self,
        error: BaseException,
        *,
        seconds_left: float,
        windows: RefreshWindows | None = None,
        mandatory: bool = False,
    ) -> float:
        """Remember a failed refresh; for an advisory one, log a warning and back off.

        Returns the backoff in seconds (0 for a mandatory failure, which the caller raises).
        """
        now = clock.mono()
        with self._lock:
            self._failures += 1
            self._last_failure = _Failure(now, error, mandatory)
            if mandatory:
                return 0.0
            self.advisory_failures += 1
            delay = min(self.max_delay, self.base_delay * 2.0 ** (self._failures - 1))
            delay *= random.uniform(0.5, 1.0)
            if windows is not None:
                # Short-lived credentials have short windows: keep several tries inside the
                # advisory window, so that an outage shorter than it never reaches the mandatory one.
                delay = min(delay, max(0.0, (seconds_left - windows.mandatory) / 4))
            self._next_attempt = now + delay
        self._log.warning(
            "refreshing %s failed (%s); still using the current ones, valid for %.0f s more; "
            "next attempt in %.0f s",
            self.what,
            describe_error(error),
            max(0.0, seconds_left),
            delay,
        )
        return delay

    def failed_since(self, since: float, *, mandatory_only: bool = False) -> BaseException | None:
        """A copy of the error of a refresh that failed after monotonic time ``since``, if any.

        Callers that queued behind a mandatory refresh use it to share that attempt's
        outcome instead of each repeating the full retry budget.  Each caller gets its own
        copy, so threads do not share one traceback.
        """
        failure = self._last_failure
        if failure is None or failure.at < since or (mandatory_only and not failure.mandatory):
            return None
        try:
            return copy.copy(failure.error)
        except Exception:  # noqa: BLE001 - an exception that cannot be copied is shared as it is
            return failure.error

    def attempt(
        self,
        refresh: Callable[[], T],
        *,
        seconds_left: float,
        windows: RefreshWindows,
    ) -> T | None:
        """Run ``refresh`` if due (see the class docstring); None when nothing new was obtained."""
        phase = windows.phase(seconds_left)
        if phase is Phase.FRESH:
            return None
        mandatory = phase is Phase.MANDATORY
        if not self.should_attempt(mandatory=mandatory):
            with self._lock:
                self.skipped += 1
            return None
        with self._lock:
            self.attempts += 1
        try:
            result = refresh()
        except Exception as err:
            self.record_failure(err, seconds_left=seconds_left, windows=windows, mandatory=mandatory)
            if mandatory:
                raise
            return None
        self.record_success()
        return result


def describe_error(error: BaseException, limit: int = 300) -> str:
    """``Type: message`` cut to ``limit`` characters, for warnings.

    The library's own errors never carry secrets; this only bounds the length.
    """
    text = " ".join(str(error).split())
    name = type(error).__name__
    return f"{name}: {text[:limit]}" if text else name
