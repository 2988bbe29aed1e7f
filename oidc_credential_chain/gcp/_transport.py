"""A google-auth ``Request`` over the library's HTTP transport.

google-auth's own adapters follow redirects (a 307/308 from Google STS would re-POST the
subject token to wherever it points) and accept plain-http token URLs.  This one sends every
token-exchange and impersonation request under the library's rules: https except loopback,
redirects refused, the time budget and the 1 MiB cap, environment proxies, no ``~/.netrc``.
Every failure is google-auth's ``TransportError``, which :class:`~.identity_pool.Credentials`
turns into a ``RefreshError`` that is also an ``OIDCError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.auth import exceptions, transport

from .._internal.http import (
    HttpClient,
    HttpResponse,
    InsecureURLError,
    TransportError,
    default_client,
    describe_url,
)

#: Statuses that send the client elsewhere; never followed with a subject token or access token.
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class BoundedResponse(transport.Response):
    """google-auth's view of an :class:`HttpResponse`."""

    def __init__(self, response: HttpResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.body


class BoundedRequest(transport.Request):
    """``google.auth.transport.Request`` that refuses redirects and plain http off loopback.

    Example::

        creds.refresh(BoundedRequest())
    """

    def __init__(self, client: HttpClient | None = None) -> None:
        self._client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> BoundedResponse:
        client = self._client or default_client()
        data = body.encode("utf-8") if isinstance(body, str) else body
        try:
            # google-auth retries token requests itself: one attempt here, under the budget.
            response = client.request(method, url, headers=headers, data=data, retry=False)
        except (InsecureURLError, TransportError) as err:
            raise exceptions.TransportError(str(err)) from None  # type: ignore[no-untyped-call]
        if response.status in REDIRECTS:
            raise exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"{describe_url(url)} answered HTTP {response.status} (a redirect); redirects are never "
                "followed on requests that carry a token"
            )
        return BoundedResponse(response)


__all__ = ["BoundedRequest", "BoundedResponse"]
