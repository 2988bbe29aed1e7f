"""A threaded loopback HTTP(S) server with request recording and fault injection.

Every emulator in this package is an :class:`EmulatorServer` subclass that implements
:meth:`EmulatorServer.handle`.  Faults are queued (``server.faults.add(...)``) or set
persistently (``server.faults.delay = 2``) and apply before the handler runs.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclasses.dataclass
class Request:
    """A request as the emulator received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_path: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, str]:
        """The body as ``application/x-www-form-urlencoded`` (first value of each field)."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclasses.dataclass
class Response:
    """What a handler answers. ``body`` may be bytes, text, or JSON-serialisable data."""

    status: int = 200
    body: bytes | str | Mapping[str, Any] | list[Any] = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(self.body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return data, headers


def json_response(status: int, body: Mapping[str, Any], **headers: str) -> Response:
    return Response(status=status, body=body, headers=dict(headers))


@dataclasses.dataclass
class Fault:
    """One injected failure.

    ``status``: answer this status (with ``body``/``headers``) instead of the handler's.
    ``delay``: sleep this long first.  ``malformed``: replace the handler's body with
    garbage.  ``reset``: send headers promising a body, then close mid-body.
    ``path``: apply only to requests whose path contains it.  ``times``: how many
    requests it applies to.
    """

    status: int | None = None
    body: bytes | str | Mapping[str, Any] = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0
    malformed: bool = False
    reset: bool = False
    path: str | None = None
    times: int = 1

    def applies_to(self, request: Request) -> bool:
        return self.path is None or self.path in request.path


class Faults:
    """The fault plan of one server: a queue of one-off faults plus persistent settings."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()
        #: Seconds to wait before answering every request.
        self.delay: float = 0.0

    def add(self, fault: Fault | None = None, /, **kwargs: Any) -> Fault:
        """Queue a fault: ``server.faults.add(status=503, times=2)``."""
        fault = fault or Fault(**kwargs)
        with self._lock:
            self._queue.append(fault)
        return fault

    def fail(self, status: int, times: int = 1, **kwargs: Any) -> Fault:
        return self.add(Fault(status=status, times=times, **kwargs))

    def throttle(self, retry_after: float, times: int = 1, status: int = 429) -> Fault:
        return self.add(Fault(status=status, times=times, headers={"Retry-After": f"{retry_after:g}"}))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
        self.delay = 0.0

    def take(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.applies_to(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._queue.remove(fault)
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, keep-alive clients
    # wait for a delayed ACK (about 40 ms) on every response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def _serve(self) -> None:
        emulator = self.server.emulator
        if emulator._server is not self.server:
            # down() (or stop()) was called: a kept-alive connection must fail as a closed port would.
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_path=self.path,
        )
        emulator._record(request)
        fault = emulator.faults.take(request)
        delay = emulator.faults.delay + (fault.delay if fault else 0.0)
        if delay:
            time.sleep(delay)
        if fault is not None and fault.status is not None:
            response = Response(status=fault.status, body=fault.body, headers=dict(fault.headers))
        else:
            try:
                response = emulator.handle(request)
            except Exception as err:  # noqa: BLE001 - an emulator bug must show as a 500, not a hang
                response = Response(500, f"emulator error: {type(err).__name__}: {err}")
        data, headers = response.encoded()
        if fault is not None and fault.malformed:
            data = b'{"truncated": <<not json or xml'
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if fault is not None and fault.reset:
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many clients connecting at once (concurrency tests, benchmarks) overflow the default backlog of 5.
    request_queue_size = 128
    emulator: EmulatorServer


class EmulatorServer:
    """Base of every emulator: serves on an ephemeral loopback port in a daemon thread.

    Example::

        with MyEmulator() as server:
            requests.get(server.url + "/x")
            assert server.count("/x") == 1
    """

    name = "emulator"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None):
        self.host = host
        self._port = port
        self.ssl_context = ssl_context
        self.faults = Faults()
        self.requests: list[Request] = []
        self._requests_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._reserved: socket.socket | None = None

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        if self._server is not None:
            return self
        self._release_port()
        server = _Server((self.host, self._port), _Handler)
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        server.emulator = self
        self._port = server.server_address[1]
        self._server = server
        # A short poll interval makes stop() (and so every test teardown) quick.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release_port()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def down(self) -> None:
        """Stop listening (connections are refused) but keep the port for :meth:`up`."""
        self.stop()
        # A bound socket that does not listen refuses connections and holds the port, so another
        # server starting meanwhile (another test worker) cannot be handed it and answer instead.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        reserved = socket.socket(family, socket.SOCK_STREAM)
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reserved.bind((self.host, self._port))
        self._reserved = reserved

    def up(self) -> None:
        """Listen again on the same port after :meth:`down`."""
        self.start()

    def _release_port(self) -> None:
        reserved, self._reserved = self._reserved, None
        if reserved is not None:
            reserved.close()

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # addresses -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self._port}"

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.netloc}"

    # recording -------------------------------------------------------------------------
    def _record(self, request: Request) -> None:
        with self._requests_lock:
            self.requests.append(request)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        """Requests received, optionally only those whose path contains ``path``."""
        with self._requests_lock:
            return sum(
                1
                for r in self.requests
                if (path is None or path in r.path) and (method is None or r.method == method)
            )

    def reset_counts(self) -> None:
        with self._requests_lock:
            self.requests.clear()

    # behaviour -------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request (after faults were considered). Subclasses override."""
        return Response(404, {"message": f"no route for {request.method} {request.path}"})


class Router:
    """Maps ``(method, path-predicate)`` to handlers for emulators with several routes."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, Callable[[str], bool], Callable[[Request], Response]]] = []

    def add(
        self, method: str, match: str | Callable[[str], bool], handler: Callable[[Request], Response]
    ) -> None:
        predicate = (lambda p, m=match: p == m) if isinstance(match, str) else match
        self._routes.append((method, predicate, handler))

    def dispatch(self, request: Request) -> Response:
        allowed: list[str] = []
        for method, predicate, handler in self._routes:
            if predicate(request.path):
                if method == request.method:
                    return handler(request)
                allowed.append(method)
        if allowed:
            return Response(405, {"message": f"{request.method} not allowed"}, {"Allow": ", ".join(allowed)})
        return Response(404, {"message": f"no route for {request.method} {request.path}"})


def first(values: Iterable[str] | None) -> str | None:
    for value in values or ():
        return value
    return None
