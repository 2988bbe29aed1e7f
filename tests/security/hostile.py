"""A loopback HTTP server that misbehaves on purpose: drips, floods, redirects, records.

Each connection reads one request, then answers by the configured behaviour.  Every
behaviour is bounded in bytes and seconds, so a client that never gives up still lets the
server stop by itself.  Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from typing import Any

#: No connection is served for longer than this, whatever the client does.
MAX_SECONDS = 30.0


@dataclasses.dataclass
class Received:
    """One request as it arrived: the request line, lower-cased headers and the body."""

    line: str
    headers: dict[str, str]
    body: bytes

    @property
    def method(self) -> str:
        return self.line.split(" ", 1)[0]

    @property
    def target(self) -> str:
        return self.line.split(" ")[1]


@dataclasses.dataclass
class Drip:
    """Headers promising ``length`` bytes, then ``count`` bytes of ``byte``, one per ``interval`` s."""

    length: int = 65536
    count: int = 40
    interval: float = 0.5
    byte: bytes = b" "
    status: int = 200
    content_type: str = "application/json"


@dataclasses.dataclass
class HeaderDrip:
    """A status line, then one header byte every ``interval`` s (``count`` of them): the headers never end."""

    count: int = 40
    interval: float = 0.5


@dataclasses.dataclass
class Flood:
    """A ``size``-byte answer sent as fast as the client reads it (``prefix`` first)."""

    size: int = 20 * 1024 * 1024
    prefix: bytes = b""
    status: int = 200
    content_type: str = "application/json"


@dataclasses.dataclass
class Answer:
    """A plain, well-formed answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


Behaviour = Drip | HeaderDrip | Flood | Answer


class HostileServer:
    """``with HostileServer(Drip()) as server: ...``; ``server.url``, ``server.sent``, ``server.requests``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[Received] = []
        #: Body bytes the server managed to hand to the kernel, over all connections.
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        started = time.monotonic()
        conn.settimeout(5)
        with conn:
            try:
                received = _read_request(conn)
            except OSError:
                return
            if received is None:
                return
            with self._lock:
                self.requests.append(received)
            try:
                self._answer(conn, started)
            except OSError:  # the client gave up: exactly what a bounded client does
                return

    def _answer(self, conn: socket.socket, started: float) -> None:
        behaviour = self.behaviour
        if isinstance(behaviour, Answer):
            head = _head(behaviour.status, len(behaviour.body), behaviour.headers)
            conn.sendall(head + behaviour.body)
            return
        if isinstance(behaviour, HeaderDrip):
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            for _ in range(behaviour.count):
                if self._stop.wait(behaviour.interval) or time.monotonic() - started > MAX_SECONDS:
                    return
                conn.sendall(b"a")
                self._count(1)
            return
        if isinstance(behaviour, Drip):
            conn.sendall(_head(behaviour.status, behaviour.length, {"Content-Type": behaviour.content_type}))
            for _ in range(behaviour.count):
                if self._stop.wait(behaviour.interval) or time.monotonic() - started > MAX_SECONDS:
                    return
                conn.sendall(behaviour.byte)
                self._count(1)
            return
        conn.sendall(_head(behaviour.status, behaviour.size, {"Content-Type": behaviour.content_type}))
        conn.sendall(behaviour.prefix)
        remaining = behaviour.size - len(behaviour.prefix)
        block = b"x" * 65536
        while remaining > 0 and not self._stop.is_set() and time.monotonic() - started < MAX_SECONDS:
            piece = block[: min(remaining, len(block))]
            conn.sendall(piece)
            remaining -= len(piece)
            self._count(len(piece))

    def _count(self, n: int) -> None:
        with self._lock:
            self.sent += n


def _head(status: int, length: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {length}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_request(conn: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1024 * 1024:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Received(line, headers, body)


def seconds(fn: Any) -> tuple[Any, float]:
    """``(result or exception, elapsed seconds)`` of calling ``fn()``."""
    started = time.monotonic()
    try:
        result = fn()
    except Exception as err:
        result = err
    return result, time.monotonic() - started
