"""The emulators' own lifecycle: a server that is down refuses connections and keeps its port."""

from __future__ import annotations

import socket

import pytest

from oidc_credential_chain.testing import STSEmulator


def _connect(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_a_server_that_is_down_refuses_connections_and_keeps_its_port() -> None:
    with STSEmulator() as sts:
        port = sts.port
        sts.down()
        with pytest.raises(ConnectionRefusedError):
            _connect(port)
        # Another server (another test worker starting one) cannot be handed the port meanwhile.
        other = socket.socket()
        with pytest.raises(OSError, match="Address already in use"):
            other.bind(("127.0.0.1", port))
        other.close()
        sts.up()
        assert sts.port == port
        _connect(port)
    # Stopped for good: the port is free again.
    free = socket.socket()
    free.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    free.bind(("127.0.0.1", port))
    free.close()
