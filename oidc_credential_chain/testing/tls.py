"""A throwaway certificate authority for emulators that serve HTTPS on loopback.

One CA per process (:func:`loopback_ca`) signs a certificate for ``127.0.0.1``,
``localhost`` and ``::1``.  Emulators take :meth:`LoopbackCA.server_context`; clients
trust the CA through :meth:`LoopbackCA.env` (``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``,
read by requests, httpx and OpenSSL) or by passing :attr:`LoopbackCA.ca_path` as
``connection_verify`` / ``verify``.

Example::

    ca = loopback_ca()
    with EntraEmulator(ssl_context=ca.server_context()) as entra, ca.trusted():
        requests.post(entra.url + "/tenant/oauth2/v2.0/token", data=...)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

#: The names every loopback emulator certificate is valid for.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

#: Variables through which common HTTP stacks pick up a CA bundle.
TRUST_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "OIDC_CREDENTIAL_CHAIN_CA_BUNDLE")


class LoopbackCA:
    """A CA (via ``trustme``), one server certificate for loopback, and PEM files on disk.

    ``ca_path`` holds only this CA; ``bundle_path`` holds it plus the public roots from
    ``certifi`` when installed, so a process told to trust it can still reach real hosts.
    """

    def __init__(self, names: tuple[str, ...] = LOOPBACK_NAMES) -> None:
        import trustme

        self._ca: Any = trustme.CA(organization_name="oidc-credential-chain test CA")
        self._leaf: Any = self._ca.issue_cert(*names)
        self.directory = tempfile.mkdtemp(prefix="oidc-chain-ca-")
        atexit.register(shutil.rmtree, self.directory, True)
        self.ca_path = os.path.join(self.directory, "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        self.bundle_path = os.path.join(self.directory, "bundle.pem")
        with open(self.bundle_path, "wb") as bundle:
            bundle.write(self._ca.cert_pem.bytes())
            roots = _public_roots()
            if roots:
                bundle.write(b"\n" + roots)

    @property
    def ca_pem(self) -> bytes:
        return bytes(self._ca.cert_pem.bytes())

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting the loopback certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._leaf.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client-side context that trusts only this CA."""
        return ssl.create_default_context(cafile=self.ca_path)

    def env(self) -> dict[str, str]:
        """Variables that make requests, httpx, OpenSSL and this library trust the CA."""
        return dict.fromkeys(TRUST_VARIABLES, self.bundle_path)

    @contextlib.contextmanager
    def trusted(self) -> Iterator[LoopbackCA]:
        """Set :meth:`env` in ``os.environ`` for the duration, then restore what was there.

        Clients created inside the block trust the CA (httpx and aiohttp read the
        variables when a client or context is created).
        """
        saved = {name: os.environ.get(name) for name in TRUST_VARIABLES}
        os.environ.update(self.env())
        try:
            yield self
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _public_roots() -> bytes:
    try:
        import certifi
    except ImportError:
        return b""
    try:
        with open(certifi.where(), "rb") as handle:
            return handle.read()
    except OSError:
        return b""


_shared: LoopbackCA | None = None
_shared_lock = threading.Lock()


def loopback_ca() -> LoopbackCA:
    """The process-wide CA every TLS emulator uses (created on first call).

    Example: ``EntraEmulator(ssl_context=loopback_ca().server_context())``.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LoopbackCA()
        return _shared


__all__ = ["LOOPBACK_NAMES", "TRUST_VARIABLES", "LoopbackCA", "loopback_ca"]
