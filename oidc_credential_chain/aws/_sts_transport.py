"""The STS client's HTTP sender: the library's bounded transport in place of botocore's.

botocore bounds each socket read (``read_timeout``), not a response: an endpoint that
drips its answer a byte at a time, or floods it, holds the call and its memory for as long
as it likes.  The library's transport ends every request at the exchange's deadline and
refuses bodies over 1 MiB.  Everything before the send is botocore's own: signing, event
hooks, endpoint resolution; proxies are read from the environment as botocore reads them.

The transport is plugged in through botocore's documented ``before-send`` event: the
endpoint uses the first answer a handler gives instead of sending.  botocore calls every
handler, even after one has answered, so the handler here answers with a response that
sends only when botocore reads it: when a user's handler answered first (botocore's
``Stubber`` answers earlier still, at ``before-call``), nothing is sent.  The handler is
registered last, on the least specific name, so every other handler comes first.
"""

from __future__ import annotations

import contextvars
import importlib
from collections.abc import Iterator
from typing import Any

from .._internal.http import HttpClient, HttpConfig, HttpResponse, TransportError

#: The exchange's deadline (``clock.mono()`` scale), set by ``assume_role_with_web_identity``.
exchange_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "oidc_credential_chain_sts_deadline", default=None
)

#: Least specific, so that handlers registered for ``before-send.sts...`` run first.
SEND_EVENT = "before-send"


class _Body:
    """The ``raw`` botocore's ``AWSResponse`` reads: the already read, capped body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


class BoundedStsSender:
    """Sends botocore's prepared requests through :class:`HttpClient` (one attempt each).

    Example: ``BoundedStsSender("botocore", HttpConfig(), ca_bundle=None).send(prepared)``.
    """

    def __init__(self, package: str, config: HttpConfig, *, ca_bundle: str | None) -> None:
        self._package = package
        self._client = HttpClient(config, ca_bundle=ca_bundle)

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        """The ``before-send`` handler: a response that sends on first read."""
        awsrequest = importlib.import_module(f"{self._package}.awsrequest")
        return _deferred_response_class(awsrequest.AWSResponse)(self, request)

    def send(self, request: Any) -> HttpResponse:
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
            return self._client.request(
                request.method,
                request.url,
                headers=headers,
                data=body,
                retry=False,  # the exchange's retry policy is the only one
                deadline=exchange_deadline.get(),
            )
        except TransportError as err:
            raise self._botocore_error(err, request.url) from None

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


_DEFERRED: dict[type, type] = {}


def _deferred_response_class(base: type) -> type:
    """A subclass of botocore's ``AWSResponse`` whose fields come from one send, on first read."""
    cls = _DEFERRED.get(base)
    if cls is None:

        class DeferredResponse(base):  # type: ignore[misc]
            def __init__(self, sender: BoundedStsSender, request: Any) -> None:
                self._sender = sender
                self._request = request
                self._received: tuple[int, Any, _Body] | None = None
                self._content = None
                self.url = request.url

            def _fields(self) -> tuple[int, Any, _Body]:
                if self._received is None:
                    response = self._sender.send(self._request)
                    headers = importlib.import_module(base.__module__).HeadersDict(response.headers)
                    self._received = (response.status, headers, _Body(response.body))
                return self._received

            @property
            def status_code(self) -> int:
                return self._fields()[0]

            @property
            def headers(self) -> Any:
                return self._fields()[1]

            @property
            def raw(self) -> _Body:
                return self._fields()[2]

        cls = _DEFERRED[base] = DeferredResponse
    return cls


def use_bounded_sender(client: Any, package: str, config: HttpConfig, ca_bundle: str | None) -> None:
    """Make ``client`` send through :class:`BoundedStsSender` (botocore's ``before-send`` event).

    aiobotocore awaits its own sender; its clients keep it (bounded per read by the timeouts
    of the client's config).
    """
    if any(cls.__module__.startswith("aiobotocore") for cls in type(client).__mro__):
        return
    client.meta.events.register_last(SEND_EVENT, BoundedStsSender(package, config, ca_bundle=ca_bundle))
