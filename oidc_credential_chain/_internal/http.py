"""A small HTTP transport with bounded time and size, retries and the library's safety rules.

Rules applied to every request: TLS verification on; ``https`` required except for
loopback and the link-local metadata endpoints; redirects never followed; ``~/.netrc``
never consulted; connection errors, 5xx and 429 retried with exponential backoff and full
jitter (``Retry-After`` honoured) within an overall deadline; other 4xx returned at once.

Time: each attempt runs under the overall deadline.  Sockets time out at the time left,
bodies are read in small pieces with the deadline checked after each, and a watchdog shuts
the socket when the deadline passes, so a server that drips its headers or body cannot
hold a call past the budget.  Size: bodies over ``max_body`` (1 MiB) are refused and the
rest is not read.

Built on urllib3 (already loaded by botocore) and imported on first use, so importing the
package stays cheap.  ``HTTP(S)_PROXY``/``NO_PROXY`` are read from the environment (as
``urllib.request`` reads them) for every request except the metadata endpoints'.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import ipaddress
import math
import os
import random
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from ..lifecycle import Owned, reset_after_fork
from . import clock
from .log import get_logger
from .record import Record

if TYPE_CHECKING:
    import urllib3

_log = get_logger("http")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Per-attempt timeouts never drop below this, so a nearly spent deadline still sends a real request.
_MIN_TIMEOUT = 0.05
#: Bodies are read at most this many bytes per socket read, so the deadline is checked often.
READ_SIZE = 16 * 1024


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


class HttpConfig(Record):
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


class HttpResponse(Record):
    """A received response: status, lower-cased headers and the raw body."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def __repr__(self) -> str:
        # The body may hold a token; the query may hold anything.
        where = describe_url(self.url)
        return f"HttpResponse(status={self.status}, url={where!r}, body=<{len(self.body)} bytes>)"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as untrusted JSON; any failure is a ``ValueError`` (``JSONParseError``)."""
        from .untrusted_json import parse_json

        return parse_json(self.body)

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
        deadline: float | None = None,
    ) -> HttpResponse:
        """Send one logical request, retrying transient failures within the deadline.

        Returns the final response (any status); raises :class:`TransportError` when no
        response could be obtained.  ``direct=True`` bypasses proxies.  ``deadline`` (on
        :func:`clock.mono`'s scale) shortens the configured budget for callers with their own.
        """
        check_url_security(url, allow_http=allow_http)
        config = self.config
        own_deadline = clock.mono() + config.total_timeout
        deadline = own_deadline if deadline is None else min(deadline, own_deadline)
        attempts = config.attempts if retry else 1
        where = describe_url(url)
        prepared = _prepare(url, headers, params, data)
        attempt = 1
        while True:
            # The first attempt always runs; later ones only start when the deadline leaves
            # time for them, so ``remaining`` is positive whenever a request is sent.
            remaining = max(deadline - clock.mono(), _MIN_TIMEOUT)
            started = time.perf_counter()
            try:
                response = self._send_once(method, prepared, direct, remaining, verify)
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

    def _verify_path(self, verify: bool | str | None, direct: bool) -> str | None:
        """The CA bundle to trust (None: the default store).  TLS verification is never turned off."""
        chosen = verify if isinstance(verify, str) else self._ca_bundle
        if chosen is None and not direct:
            # requests honoured these for proxied traffic; users who set them keep their trust store.
            chosen = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
        if chosen is not None and not os.path.exists(chosen):
            from ..errors import ConfigurationError

            raise ConfigurationError(
                f"the CA bundle {chosen!r} does not exist; fix OIDC_CREDENTIAL_CHAIN_CA_BUNDLE"
            )
        return chosen

    def _send_once(
        self,
        method: str,
        prepared: _Prepared,
        direct: bool,
        remaining: float,
        verify: bool | str | None,
    ) -> HttpResponse:
        import urllib3

        url = prepared.url
        where = describe_url(url)
        manager = _manager(None if direct else proxy_for(url), self._verify_path(verify, direct))
        timeout = urllib3.Timeout(
            connect=min(self.config.connect_timeout, remaining),
            read=min(self.config.read_timeout, remaining),
        )
        raw: urllib3.BaseHTTPResponse | None = None
        with watch_deadline(clock.mono() + remaining) as watchdog:
            try:
                raw = manager.urlopen(
                    method,
                    url,
                    body=prepared.body,
                    headers=prepared.headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    timeout=timeout,
                )
                body = read_capped(raw, self.config.max_body, watchdog.deadline, where, url)
            except urllib3.exceptions.HTTPError as err:
                raise _transport_error(err, where, url, timed_out=watchdog.fired) from None
            except OSError as err:  # raised by http.client below urllib3 while reading
                raise _transport_error(err, where, url, timed_out=watchdog.fired) from None
            finally:
                if raw is not None:
                    raw.release_conn()
        headers_out = {k.lower(): v for k, v in raw.headers.items()}
        return HttpResponse(status=raw.status, headers=headers_out, body=body, url=url)


class _Prepared(Record):
    url: str
    headers: dict[str, str]
    body: bytes | None


def _prepare(
    url: str,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    data: Mapping[str, str] | bytes | None,
) -> _Prepared:
    out = {"User-Agent": _user_agent(), "Accept-Encoding": "identity"}
    out.update(headers or {})
    if params:
        url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(dict(params))}"
    body: bytes | None
    if isinstance(data, Mapping):
        body = urlencode(dict(data)).encode("ascii")
        if not any(name.lower() == "content-type" for name in out):
            out["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        body = data
    return _Prepared(url, out, body)


def _user_agent() -> str:
    from .. import __version__

    return f"oidc-credential-chain/{__version__}"


def read_capped(raw: Any, limit: int, deadline: float, where: str, url: str) -> bytes:
    """The body of a urllib3 response, refused past ``limit`` bytes or the ``deadline``.

    Reads at most :data:`READ_SIZE` bytes per socket read, each with the socket's timeout
    set to the time left, and checks the deadline after each: a server dripping a byte at a
    time is cut off at the deadline, and a flood is cut off one read past the limit.

    Example: ``read_capped(urllib3_response, 1 << 20, clock.mono() + 5, "https://h/p", url)``.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - clock.mono()
        if left <= 0:
            _close_quietly(raw)
            raise TransportError(f"timed out reading the response from {where}", url=url)
        _set_socket_timeout(raw, left)
        chunk = raw.read1(READ_SIZE, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            _close_quietly(raw)
            raise TransportError(
                f"the response from {where} is larger than {limit} bytes; refused", url=url, retryable=False
            )
        chunks.append(chunk)


def read_body(raw: Any, limit: int, deadline: float, where: str, url: str) -> bytes:
    """:func:`read_capped` for a urllib3 response another library opened (azure-core's requests
    transport), under a watchdog, with every failure a :class:`TransportError`."""
    import urllib3

    watchdog = _Watchdog(deadline)
    watchdog.watch(getattr(raw, "connection", None))
    try:
        return read_capped(raw, limit, deadline, where, url)
    except (urllib3.exceptions.HTTPError, OSError) as err:
        raise _transport_error(err, where, url, timed_out=watchdog.fired) from None
    finally:
        watchdog.cancel()


def _set_socket_timeout(raw: Any, seconds: float) -> None:
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(min(seconds, sock.gettimeout() or seconds))


def _close_quietly(raw: Any) -> None:
    # Closing (not draining) the response drops the connection: nothing more is read.
    with contextlib.suppress(Exception):  # best effort on a connection being abandoned
        raw.close()


class _Watchdog:
    """Shuts the in-flight request's socket when the deadline passes.

    Socket timeouts bound each read, not a whole response: a server sending one header byte
    inside every read timeout would otherwise hold the call for as long as it likes.
    Shutting the socket down wakes any blocked read at once.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._connection: Any = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
            if self._timer is None:
                self._timer = threading.Timer(max(0.0, self.deadline - clock.mono()), self._fire)
                self._timer.daemon = True
                self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            sock = getattr(self._connection, "sock", None)
            if sock is None:
                return
            self.fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._connection = None


_in_flight = threading.local()


def _watched(base: type) -> type:
    """``base`` (a urllib3 connection class) that puts each request under the thread's watchdog."""

    class Watched(base):  # type: ignore[misc]
        def request(self, *args: Any, **kwargs: Any) -> None:
            watchdog: _Watchdog | None = getattr(_in_flight, "watchdog", None)
            if watchdog is not None:
                if clock.mono() >= watchdog.deadline:
                    # A retry (azure-core's) after the deadline: nothing left to wait for.
                    raise TimeoutError("the time budget is spent")
                watchdog.watch(self)
            super().request(*args, **kwargs)

    Watched.__name__ = Watched.__qualname__ = f"Watched{base.__name__}"
    return Watched


_managers: dict[tuple[str | None, str | None], urllib3.PoolManager] = {}
_managers_lock = threading.Lock()


class _PoolsAfterFork:
    """Gives a forked child pools of its own (the parent's sockets are not the child's to use)
    and a lock that no thread of the parent can be holding."""

    def after_fork_in_child(self) -> None:
        global _managers_lock
        _managers_lock = threading.Lock()
        reset_pools()


_pools_after_fork = _PoolsAfterFork()
reset_after_fork(_pools_after_fork)


def _manager(proxy: str | None, ca_bundle: str | None) -> urllib3.PoolManager:
    """The shared connection pools for one proxy and trust store."""
    key = (proxy, ca_bundle)
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = _new_manager(proxy, ca_bundle)
        return manager


@functools.cache
def watched_pool_classes() -> dict[str, type]:
    """urllib3 pool classes (for ``PoolManager.pool_classes_by_scheme``) whose connections put
    every request under the watchdog of :func:`watch_deadline`, when one is set."""
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Pool(HTTPConnectionPool):
        ConnectionCls = _watched(HTTPConnectionPool.ConnectionCls)

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = _watched(HTTPSConnectionPool.ConnectionCls)

    return {"http": Pool, "https": TlsPool}


@contextlib.contextmanager
def watch_deadline(deadline: float) -> Iterator[_Watchdog]:
    """Requests this thread sends through :func:`watched_pool_classes` pools have their socket
    shut at ``deadline`` (``clock.mono()`` scale), wherever they are blocked.

    Example: ``with watch_deadline(clock.mono() + 5): pipeline.run(request)``.
    """
    previous = getattr(_in_flight, "watchdog", None)
    watchdog = _Watchdog(deadline)
    _in_flight.watchdog = watchdog
    try:
        yield watchdog
    finally:
        _in_flight.watchdog = previous
        watchdog.cancel()


def _new_manager(proxy: str | None, ca_bundle: str | None) -> urllib3.PoolManager:
    import urllib3

    trust = ca_bundle or _default_ca_bundle()
    # A directory of hashed certificates (c_rehash), as requests accepts in REQUESTS_CA_BUNDLE, or a file.
    where = "ca_cert_dir" if trust is not None and os.path.isdir(trust) else "ca_certs"
    options: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", where: trust}
    manager: urllib3.PoolManager
    if proxy is None:
        manager = urllib3.PoolManager(num_pools=8, maxsize=4, **options)
    else:
        parts = urlsplit(proxy)
        proxy_headers = None
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            proxy_headers = urllib3.make_headers(proxy_basic_auth=credentials)
        bare = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        manager = urllib3.ProxyManager(bare, num_pools=8, maxsize=4, proxy_headers=proxy_headers, **options)
    manager.pool_classes_by_scheme = watched_pool_classes()
    return manager


@functools.cache
def _default_ca_bundle() -> str | None:
    # certifi's bundle when installed (what requests and botocore trust), else the system store.
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``);
    None when ``NO_PROXY`` exempts its host or none is set.

    Example: with ``HTTPS_PROXY=http://proxy:3128``, ``proxy_for("https://sts.amazonaws.com/")``
    is ``"http://proxy:3128"``.
    """
    import urllib.request

    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def reset_pools() -> None:
    """Forget every pooled connection (the next request opens new ones).

    A forked child does this already (with a new pool lock), through the library's at-fork
    hook (:func:`oidc_credential_chain.lifecycle.reset_after_fork`): the parent's sockets are
    not the child's to use.

    Example: ``reset_pools()``; the next ``HttpClient().request(...)`` connects anew.
    """
    global _managers
    with _managers_lock:
        _managers = {}


def _transport_error(err: BaseException, where: str, url: str, *, timed_out: bool) -> TransportError:
    import urllib3.exceptions as errors

    if timed_out or isinstance(err, (errors.ReadTimeoutError, socket.timeout, TimeoutError)):
        return TransportError(f"timed out waiting for {where}", url=url)
    # NewConnectionError subclasses ConnectTimeoutError: test it first.
    if isinstance(err, (errors.NewConnectionError, errors.NameResolutionError)):
        return TransportError(f"could not reach {where} ({_connection_reason(err)})", url=url)
    if isinstance(err, errors.ConnectTimeoutError):
        return TransportError(f"timed out connecting to {where}", url=url)
    if isinstance(err, errors.SSLError):
        return TransportError(f"TLS verification failed for {where}", url=url)
    if isinstance(err, errors.ProxyError):
        return TransportError(
            f"could not reach {where} through the proxy ({_connection_reason(err)})", url=url
        )
    if isinstance(err, (errors.ProtocolError, OSError)):
        reason = _connection_reason(err)
        if reason == "connection error":
            return TransportError(f"the connection to {where} broke off mid-response", url=url)
        return TransportError(f"could not reach {where} ({reason})", url=url)
    return TransportError(f"request to {where} failed ({type(err).__name__})", url=url)


def _connection_reason(err: BaseException) -> str:
    text = f"{err} {err.__context__ or ''}"
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
