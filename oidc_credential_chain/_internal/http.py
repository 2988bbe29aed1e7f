"""A small HTTP transport with bounded time, retries and the library's safety rules.

Rules applied to every request: TLS verification on; ``https`` required except for
loopback and the link-local metadata endpoints; redirects never followed; connection
errors, 5xx and 429 retried with exponential backoff and full jitter (``Retry-After``
honoured) within an overall deadline; other 4xx returned at once.  ``requests`` is
imported on first use so that importing the package stays cheap.
"""

from __future__ import annotations

import dataclasses
import email.utils
import ipaddress
import json
import math
import os
import random
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..lifecycle import Owned, reset_after_fork
from . import clock
from .log import get_logger

if TYPE_CHECKING:
    import requests

_log = get_logger("http")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Per-attempt timeouts never drop below this, so a nearly spent deadline still sends a real request.
_MIN_TIMEOUT = 0.05


def _env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        from ..errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0 or math.isinf(value):  # also refuses nan
        from ..errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


@dataclasses.dataclass(frozen=True)
class HttpConfig:
    """Timeouts and retry budget for identity-provider and token-exchange calls.

    Example: ``HttpConfig(total_timeout=10, attempts=5)``.
    Environment: ``OIDC_CREDENTIAL_CHAIN_TIMEOUT`` (overall seconds),
    ``OIDC_CREDENTIAL_CHAIN_CONNECT_TIMEOUT``, ``OIDC_CREDENTIAL_CHAIN_ATTEMPTS``.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    attempts: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 4.0
    #: Bodies larger than this are refused unread (token answers are a few KiB).
    max_body: int = 1024 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpConfig:
        env = os.environ if environ is None else environ
        total = _env_float(env, "OIDC_CREDENTIAL_CHAIN_TIMEOUT", cls.total_timeout)
        connect = min(_env_float(env, "OIDC_CREDENTIAL_CHAIN_CONNECT_TIMEOUT", cls.connect_timeout), total)
        attempts_raw = env.get("OIDC_CREDENTIAL_CHAIN_ATTEMPTS", "").strip()
        attempts = cls.attempts
        if attempts_raw:
            if not attempts_raw.isdigit() or int(attempts_raw) < 1:
                from ..errors import ConfigurationError

                raise ConfigurationError(
                    f"OIDC_CREDENTIAL_CHAIN_ATTEMPTS must be a positive integer, got {attempts_raw!r}"
                )
            attempts = int(attempts_raw)
        return cls(
            connect_timeout=connect,
            read_timeout=min(cls.read_timeout, total),
            total_timeout=total,
            attempts=attempts,
        )

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff before retry number ``attempt`` (1-based)."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1))))


@dataclasses.dataclass
class HttpResponse:
    """A received response: status, lower-cased headers and the raw body."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class TransportError(Exception):
    """The request could not be completed (connection refused, timeout, TLS failure).

    ``retryable`` is False for failures another attempt cannot fix (an oversized body,
    a missing CA bundle).
    """

    def __init__(self, message: str, *, url: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.url = url
        self.retryable = retryable


class InsecureURLError(ValueError):
    """A credential-bearing request to a plain-http, non-loopback URL."""


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


def describe_url(url: str) -> str:
    """``scheme://host/path`` without query or credentials, for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{host_of(url)}{parts.path}"


def is_loopback_host(hostname: str) -> bool:
    if hostname in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url_security(url: str, *, allow_http: bool = False) -> None:
    """Refuse anything but https, loopback http, or http the caller vouches for (metadata).

    Example: ``check_url_security("http://10.0.0.1/x")`` raises :class:`InsecureURLError`.
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and (allow_http or is_loopback_host(parts.hostname or "")):
        return
    raise InsecureURLError(
        f"refusing {parts.scheme or 'schemeless'} URL {describe_url(url)}: https is required "
        "except for loopback and the link-local metadata endpoints"
    )


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.now())


class HttpClient:
    """Sends requests under the rules in this module's docstring.

    Example::

        client = HttpClient(HttpConfig(total_timeout=5))
        response = client.request("GET", "https://example.com/token", headers={...})
    """

    def __init__(self, config: HttpConfig | None = None, *, ca_bundle: str | None = None) -> None:
        self.config = config or HttpConfig.from_env()
        self._ca_bundle = ca_bundle or os.environ.get("OIDC_CREDENTIAL_CHAIN_CA_BUNDLE") or None
        self._local = threading.local()
        reset_after_fork(self)

    def after_fork_in_child(self) -> None:
        """A forked child opens its own connections: a pooled socket is never shared with the parent."""
        self._local = threading.local()

    def _session(self, *, direct: bool) -> requests.Session:
        attr = "direct" if direct else "proxied"
        session: requests.Session | None = getattr(self._local, attr, None)
        if session is None:
            import requests

            session = requests.Session()
            # trust_env=False ignores HTTP(S)_PROXY, which must never see metadata-server traffic.
            session.trust_env = not direct
            # Redirects are refused by allow_redirects=False on every request.  (max_redirects=0
            # would not do it: requests then raises TooManyRedirects on any 3xx, even unfollowed.)
            # A no-op auth keeps requests from replacing our Authorization header with ~/.netrc entries.
            session.auth = _keep_headers
            setattr(self._local, attr, session)
        return session

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | bytes | None = None,
        allow_http: bool = False,
        direct: bool = False,
        retry: bool = True,
        verify: bool | str | None = None,
    ) -> HttpResponse:
        """Send one logical request, retrying transient failures within the deadline.

        Returns the final response (any status); raises :class:`TransportError` when no
        response could be obtained.  ``direct=True`` bypasses proxies.
        """
        check_url_security(url, allow_http=allow_http)
        config = self.config
        deadline = clock.mono() + config.total_timeout
        attempts = config.attempts if retry else 1
        where = describe_url(url)
        attempt = 1
        while True:
            # The first attempt always runs; later ones only start when the deadline leaves
            # time for them, so ``remaining`` is positive whenever a request is sent.
            remaining = max(deadline - clock.mono(), _MIN_TIMEOUT)
            started = time.perf_counter()
            try:
                response = self._send_once(method, url, headers, params, data, direct, remaining, verify)
            except TransportError as err:
                _log.debug("%s %s failed on attempt %d: %s", method, where, attempt, err)
                delay = config.backoff(attempt)
                if not err.retryable or attempt >= attempts or clock.mono() + delay >= deadline:
                    raise
            else:
                _log.debug(
                    "%s %s -> %d in %.0f ms (attempt %d)",
                    method,
                    where,
                    response.status,
                    (time.perf_counter() - started) * 1000,
                    attempt,
                )
                if response.status not in RETRYABLE_STATUSES or attempt >= attempts:
                    return response
                retry_after = _retry_after_seconds(response.header("retry-after"))
                delay = retry_after if retry_after is not None else config.backoff(attempt)
                if clock.mono() + delay >= deadline:
                    _log.debug("%s %s: no time left to wait %.1f s before retrying", method, where, delay)
                    return response
            time.sleep(delay)
            attempt += 1

    def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | bytes | None,
        direct: bool,
        remaining: float,
        verify: bool | str | None,
    ) -> HttpResponse:
        import requests

        session = self._session(direct=direct)
        timeout = (min(self.config.connect_timeout, remaining), min(self.config.read_timeout, remaining))
        where = describe_url(url)
        verify_arg: bool | str = verify if verify is not None else (self._ca_bundle or True)
        if verify_arg is False:
            verify_arg = True  # TLS verification is never turned off.
        if isinstance(verify_arg, str) and not os.path.exists(verify_arg):
            from ..errors import ConfigurationError

            raise ConfigurationError(
                f"the CA bundle {verify_arg!r} does not exist; fix OIDC_CREDENTIAL_CHAIN_CA_BUNDLE"
            )
        try:
            raw = session.request(
                method,
                url,
                headers=dict(headers or {}),
                params=dict(params) if params else None,
                data=data,
                timeout=timeout,
                allow_redirects=False,
                verify=verify_arg,
                stream=True,
            )
            try:
                body = _read_body(raw, self.config.max_body, clock.mono() + remaining, where, url)
            finally:
                raw.close()
        except requests.exceptions.SSLError:
            raise TransportError(f"TLS verification failed for {where}", url=url) from None
        except requests.exceptions.ConnectTimeout:
            raise TransportError(f"timed out connecting to {where}", url=url) from None
        except (requests.exceptions.ReadTimeout, requests.exceptions.Timeout):
            raise TransportError(f"timed out waiting for {where}", url=url) from None
        except requests.exceptions.ConnectionError as err:
            reason = _connection_reason(err)
            if reason == "read timed out":  # a stalled body surfaces as a ConnectionError
                raise TransportError(f"timed out waiting for {where}", url=url) from None
            raise TransportError(f"could not reach {where} ({reason})", url=url) from None
        except requests.exceptions.ChunkedEncodingError:
            raise TransportError(f"the connection to {where} broke off mid-response", url=url) from None
        except requests.exceptions.RequestException as err:
            raise TransportError(f"request to {where} failed ({type(err).__name__})", url=url) from None
        headers_out = {k.lower(): v for k, v in raw.headers.items()}
        return HttpResponse(status=raw.status_code, headers=headers_out, body=body, url=url)


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _read_body(raw: requests.Response, limit: int, deadline: float, where: str, url: str) -> bytes:
    # The read timeout bounds each socket read, not the whole body: a server dripping bytes
    # is cut off at the deadline too.
    chunks: list[bytes] = []
    size = 0
    for chunk in raw.iter_content(chunk_size=64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if clock.mono() > deadline:
            raise TransportError(f"timed out reading the response from {where}", url=url)
        if size > limit:
            raise TransportError(
                f"the response from {where} is larger than {limit} bytes; refused", url=url, retryable=False
            )
    return b"".join(chunks)


def _connection_reason(err: Exception) -> str:
    text = str(err)
    for marker in (
        "Read timed out",
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection reset",
        "Connection aborted",
        "Remote end closed connection",
        "IncompleteRead",
        "No route to host",
        "Network is unreachable",
    ):
        if marker in text:
            return marker.lower()
    return "connection error"


class _DefaultClient:
    def __init__(self) -> None:
        self.client: HttpClient | None = None
        self.lock = threading.Lock()
        reset_after_fork(self)

    def after_fork_in_child(self) -> None:
        self.lock = threading.Lock()


_default: Owned[_DefaultClient] = Owned(_DefaultClient, "http client")


def default_client() -> HttpClient:
    """The process-wide client configured from the environment."""
    default = _default.get()
    with default.lock:
        if default.client is None:
            default.client = HttpClient()
        return default.client


def reset_default_client() -> None:
    """Drop the process-wide client so the next call re-reads the environment."""
    default = _default.get()
    with default.lock:
        default.client = None
