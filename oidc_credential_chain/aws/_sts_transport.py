"""The STS client's HTTP sender: the library's bounded transport in place of botocore's.

botocore bounds each socket read (``read_timeout``), not a response: an endpoint that
drips its answer a byte at a time, or floods it, holds the call and its memory for as long
as it likes.  The library's transport ends every request at the exchange's deadline and
refuses bodies over 1 MiB.  Everything before the send is botocore's own: signing, event
hooks (``before-send`` stubs such as botocore's ``Stubber`` still answer first), endpoint
resolution; proxies are read from the environment as botocore reads them.
"""

from __future__ import annotations

import contextvars
import importlib
from collections.abc import Iterator
from typing import Any

from .._internal.http import HttpClient, HttpConfig, TransportError
from .._internal.log import get_logger

_log = get_logger("aws")

#: The exchange's deadline (``clock.mono()`` scale), set by ``assume_role_with_web_identity``.
exchange_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "oidc_credential_chain_sts_deadline", default=None
)


class _Body:
    """The ``raw`` botocore's ``AWSResponse`` reads: the already read, capped body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


class BoundedStsSession:
    """Sends botocore's prepared requests through :class:`HttpClient` (one attempt each).

    Example: ``BoundedStsSession("botocore", HttpConfig(), ca_bundle=None).send(prepared)``.
    """

    def __init__(self, package: str, config: HttpConfig, *, ca_bundle: str | None) -> None:
        self._package = package
        self._client = HttpClient(config, ca_bundle=ca_bundle)

    def send(self, request: Any) -> Any:
        awsrequest = importlib.import_module(f"{self._package}.awsrequest")
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = body.read()
        headers = {
            name: value.decode("latin-1") if isinstance(value, bytes) else str(value)
            for name, value in request.headers.items()
        }
        try:
            response = self._client.request(
                request.method,
                request.url,
                headers=headers,
                data=body,
                retry=False,  # the exchange's retry policy is the only one
                deadline=exchange_deadline.get(),
            )
        except TransportError as err:
            raise self._botocore_error(err, request.url) from None
        return awsrequest.AWSResponse(request.url, response.status, response.headers, _Body(response.body))

    def _botocore_error(self, err: TransportError, url: str) -> Exception:
        errors = importlib.import_module(f"{self._package}.exceptions")
        text = str(err)
        if text.startswith("timed out connecting"):
            return errors.ConnectTimeoutError(endpoint_url=url, error=text)  # type: ignore[no-any-return]
        if text.startswith("timed out"):
            return errors.ReadTimeoutError(endpoint_url=url, error=text)  # type: ignore[no-any-return]
        if text.startswith("could not reach"):
            return errors.EndpointConnectionError(endpoint_url=url, error=text)  # type: ignore[no-any-return]
        return errors.HTTPClientError(error=text)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Nothing to close: connections live in the library's shared pools."""


def use_bounded_sender(client: Any, package: str, config: HttpConfig, ca_bundle: str | None) -> None:
    """Make ``client`` send through :class:`BoundedStsSession`.

    botocore has no public way to choose a client's HTTP session; its endpoint holds one
    in ``http_session`` (the seam its own tests use).  The one write to a private
    attribute is here; without it the client keeps botocore's sender and its timeouts.
    """
    endpoint = getattr(client, "_endpoint", None)
    if endpoint is None or not hasattr(endpoint, "http_session"):
        _log.debug("botocore's STS endpoint has no http_session; keeping botocore's sender")
        return
    if type(endpoint).__module__.startswith("aiobotocore"):
        # aiobotocore awaits its sender: it keeps its own (bounded per read by the timeouts above).
        return
    endpoint.http_session = BoundedStsSession(package, config, ca_bundle=ca_bundle)
