"""When to refresh short-lived credentials, and what to do when an early refresh fails.

botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry.  With
STS's shortest, 15-minute sessions those windows cover the whole lifetime, so every use
calls STS again.  Here both windows are a fraction of the credential's lifetime, capped at
botocore's values, so a 15-minute session is refreshed about once per lifetime and an
hour-long one exactly as botocore would.  The advisory window is jittered (moved towards
expiry by up to a fifth) so that processes holding the same credentials, e.g. read from
the shared file cache, do not all refresh in the same second.  Entra access tokens use the
same windows: renewed from the advisory window on, never handed out inside the mandatory one.

Inside the advisory window (:attr:`Freshness.STALE`) a failed refresh is not fatal: the
credentials are still valid, so they keep being served, a warning is logged, and the next
attempt waits (backoff with jitter) so an identity provider that is down does not cost
every request the whole retry budget.  Only inside the mandatory window
(:attr:`Freshness.INVALID`) does a failure reach the caller.

The numbers live in one :class:`RefreshPolicy`; the functions below read the policy of the
current :class:`~oidc_credential_chain.lifecycle.Lifecycle` owner.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import TypeVar

from .._internal import clock
from .._internal.record import Record
from .fork import reset_after_fork
from .freshness import Freshness
from .single_flight import fresh_copy

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
#: Entra counts ``expires_in`` in whole seconds from its own clock rounded down, so a token
#: may expire up to a second before ``sent + expires_in``.
WHOLE_SECOND = 1.0
#: A shared cache lets go of credentials this long (at most 5 % of their lifetime) before the
#: widest advisory window opens.
CACHE_SLACK_SECONDS = 1.0

# Not _internal.log's get_logger: that module keeps its state in the lifecycle owner.
_log = logging.getLogger("oidc_credential_chain.refresh")


class RefreshWindows(Record):
    """Seconds before expiry at which a refresh is tried (advisory) and required (mandatory).

    Example::

        windows = refresh_windows(900)          # advisory ~216-270 s, mandatory 135 s
        windows.freshness(seconds_left=200)     # Freshness.STALE
    """

    advisory: float
    mandatory: float

    def freshness(self, seconds_left: float) -> Freshness:
        """FRESH before the advisory window, STALE inside it, INVALID inside the mandatory one."""
        if seconds_left < self.mandatory or seconds_left <= 0:
            return Freshness.INVALID
        if seconds_left < self.advisory:
            return Freshness.STALE
        return Freshness.FRESH

    def refresh_in(self, seconds_left: float) -> float:
        """Seconds from now until the advisory window opens (0 if it already has)."""
        return max(0.0, seconds_left - self.advisory)


class RefreshPolicy(Record):
    """The library's refresh windows and backoffs, in one place.

    Example::

        RefreshPolicy().windows(3600, jitter=0)   # RefreshWindows(advisory=900.0, mandatory=540.0)
    """

    advisory_fraction: float = ADVISORY_FRACTION
    mandatory_fraction: float = MANDATORY_FRACTION
    advisory_cap: float = BOTOCORE_ADVISORY
    mandatory_cap: float = BOTOCORE_MANDATORY
    jitter: float = JITTER

    def windows(
        self,
        lifetime: float,
        *,
        jitter: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> RefreshWindows:
        """The windows of a credential living ``lifetime`` seconds (see :func:`refresh_windows`)."""
        jitter = self.jitter if jitter is None else jitter
        lifetime = max(0.0, float(lifetime))
        advisory = min(self.advisory_cap, lifetime * self.advisory_fraction)
        mandatory = min(self.mandatory_cap, lifetime * self.mandatory_fraction)
        spread = min(advisory - mandatory, advisory * max(0.0, min(1.0, jitter)))
        advisory -= spread * rand()
        return RefreshWindows(advisory=advisory, mandatory=mandatory)

    def expiry_margin(self, expires_in: float) -> float:
        """Seconds before expiry after which an access token is no longer handed out: the
        mandatory window plus the second Entra's rounding may take.

        Example: ``expiry_margin(120)`` is ``19.0``; ``expiry_margin(3600)`` is ``541.0``.
        """
        return self.windows(max(0.0, expires_in), jitter=0.0).mandatory + WHOLE_SECOND

    def renew_at(self, expires_in: float, now: float) -> float:
        """The time (on ``now``'s clock) from which a token expiring ``expires_in`` seconds after
        ``now`` is renewed: when its advisory window opens, and never later than the point where
        it stops being handed out.

        Example: ``renew_at(3600, now=1000.0)`` is between ``3700.0`` and ``3880.0``.
        """
        life = max(0.0, expires_in)
        return now + max(0.0, life - max(self.windows(life).advisory, self.expiry_margin(life)))

    def widest_advisory(self, lifetime: float) -> float:
        """The largest advisory window :meth:`windows` can return for this lifetime (no jitter)."""
        return self.windows(lifetime, jitter=0.0).advisory

    def cache_keep(self, lifetime: float, seconds_left: float) -> float:
        """How long a cache shared by several holders may hand out credentials that live
        ``lifetime`` seconds and have ``seconds_left``: it lets go just before the widest
        advisory window any holder could be using opens (:data:`CACHE_SLACK_SECONDS`, at most
        5 % of the lifetime, earlier), so the refresh a holder asks for always finds new ones.

        Example: ``cache_keep(3600, 3600)`` is ``2699.0``.
        """
        slack = min(CACHE_SLACK_SECONDS, 0.05 * max(0.0, lifetime))
        return max(0.0, seconds_left - self.widest_advisory(lifetime) - slack)

    @staticmethod
    def renewal_retry_delay(seconds_until_stale: float) -> float:
        """After a failed early renewal of an access token, how long the current one keeps being
        served before trying again: half the time left before it must be replaced, 1 to 30 s, so
        Entra is not asked on every request while it is down."""
        return min(30.0, max(1.0, seconds_until_stale / 2))


def current_policy() -> RefreshPolicy:
    """The policy of the current :class:`~oidc_credential_chain.lifecycle.Lifecycle` owner."""
    from .owner import current

    return current().policy


def refresh_windows(
    lifetime: float,
    *,
    jitter: float | None = None,
    rand: Callable[[], float] = random.random,
) -> RefreshWindows:
    """The refresh windows for a credential that lives ``lifetime`` seconds.

    Advisory: 30 % of the lifetime, at most 15 minutes, minus up to ``jitter`` of itself.
    Mandatory: 15 % of the lifetime, at most 10 minutes.  ``rand`` returns a number in
    [0, 1) (injectable for tests).

    Example::

        refresh_windows(3600, jitter=0)   # RefreshWindows(advisory=900.0, mandatory=540.0)
    """
    return current_policy().windows(lifetime, jitter=jitter, rand=rand)


def widest_advisory(lifetime: float) -> float:
    """The largest advisory window :func:`refresh_windows` can return for this lifetime."""
    return current_policy().widest_advisory(lifetime)


def cache_keep_seconds(lifetime: float, seconds_left: float) -> float:
    """How long a shared cache may hand out credentials (see :meth:`RefreshPolicy.cache_keep`).

    Example: ``cache_keep_seconds(3600, 3600)`` is ``2699.0``.
    """
    return current_policy().cache_keep(lifetime, seconds_left)


class _Failure(Record):
    at: float  # monotonic
    error: BaseException
    mandatory: bool


class RefreshState:
    """What one refreshable credential remembers between refreshes: failures and backoff.

    ``attempt(refresh, seconds_left=..., windows=...)`` runs ``refresh`` when it is due:

    - fresh credentials: nothing runs, None is returned;
    - advisory window (STALE): ``refresh`` runs unless a previous failure is still backing
      off; if it raises, a warning is logged, the next attempt is scheduled, and None is
      returned (the caller keeps serving what it has);
    - mandatory window (INVALID): ``refresh`` always runs, and its error is raised.

    Thread-safe, and fork-safe (its lock is replaced in a forked child).  Example::

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
        reset_after_fork(self)

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
        error = failure.error
        return fresh_copy(error) if isinstance(error, Exception) else error

    def attempt(
        self,
        refresh: Callable[[], T],
        *,
        seconds_left: float,
        windows: RefreshWindows,
    ) -> T | None:
        """Run ``refresh`` if due (see the class docstring); None when nothing new was obtained."""
        freshness = windows.freshness(seconds_left)
        if freshness is Freshness.FRESH:
            return None
        mandatory = freshness is Freshness.INVALID
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

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()


def describe_error(error: BaseException, limit: int = 300) -> str:
    """``Type: message`` cut to ``limit`` characters, for warnings.

    The library's own errors never carry secrets; this only bounds the length.
    """
    text = " ".join(str(error).split())
    name = type(error).__name__
    return f"{name}: {text[:limit]}" if text else name


__all__ = [
    "ADVISORY_FRACTION",
    "BOTOCORE_ADVISORY",
    "BOTOCORE_MANDATORY",
    "CACHE_SLACK_SECONDS",
    "JITTER",
    "MANDATORY_FRACTION",
    "WHOLE_SECOND",
    "RefreshPolicy",
    "RefreshState",
    "RefreshWindows",
    "cache_keep_seconds",
    "current_policy",
    "describe_error",
    "refresh_windows",
    "widest_advisory",
]
