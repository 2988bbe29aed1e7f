"""azure-core pipelines for the Entra token endpoint, taking the transport options azure-identity takes.

``connection_verify``, ``connection_cert``, ``proxies``, ``transport``, ``policies``,
``retry_*``, ``headers``, ``logging_enable``... pass through as in any Azure SDK client.
Defaults differ in two ways: time is bounded (the library's ``OIDC_CREDENTIAL_CHAIN_TIMEOUT``
budget, connect/read timeouts and a few retries instead of azure-core's 300 s timeouts and
10 retries) and ``OIDC_CREDENTIAL_CHAIN_CA_BUNDLE`` is the default ``connection_verify``.
No redirect policy is installed: a request carrying a client assertion is never redirected.
``~/.netrc`` is never consulted (requests and aiohttp add its Basic auth under ``trust_env``);
``HTTP(S)_PROXY``/``NO_PROXY`` still apply.  Answers are read under the budget and refused
past 1 MiB (:func:`send_bounded`).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from .._internal import clock
from .._internal.http import (
    HttpConfig,
    TransportError,
    describe_url,
    proxy_for,
    read_body,
    watch_deadline,
    watched_pool_classes,
)

if TYPE_CHECKING:
    from azure.core.pipeline import AsyncPipeline, Pipeline

CA_BUNDLE_VAR = "OIDC_CREDENTIAL_CHAIN_CA_BUNDLE"
#: A token request changes nothing at Entra, so a POST that failed in transit (reset, timeout) is
#: repeated like a GET, as azure-identity does.
RETRY_ON_METHODS = ["POST"]


def _user_agent() -> str:
    from .. import __version__

    return f"oidc-credential-chain/{__version__}"


def bounded_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the library's time bounds and CA bundle as defaults (explicit values win)."""
    config = HttpConfig.from_env()
    options = dict(kwargs)
    options.setdefault("connection_timeout", config.connect_timeout)
    options.setdefault("read_timeout", config.read_timeout)
    options.setdefault("timeout", config.total_timeout)
    options.setdefault("retry_total", max(0, config.attempts - 1))
    options.setdefault("retry_backoff_factor", config.backoff_base)
    options.setdefault("retry_backoff_max", config.backoff_cap)
    bundle = os.environ.get(CA_BUNDLE_VAR, "").strip()
    if bundle:
        options.setdefault("connection_verify", bundle)
    return options


def time_budget(kwargs: dict[str, Any]) -> float:
    """The overall seconds a token request may take (``timeout``), for messages."""
    return float(bounded_options(kwargs)["timeout"])


def _policies(retry_policy: Any, options: dict[str, Any]) -> list[Any]:
    from azure.core.pipeline.policies import (
        CustomHookPolicy,
        DistributedTracingPolicy,
        HeadersPolicy,
        HttpLoggingPolicy,
        NetworkTraceLoggingPolicy,
        ProxyPolicy,
        RequestIdPolicy,
        UserAgentPolicy,
    )

    return [
        RequestIdPolicy(**options),
        HeadersPolicy(**options),
        UserAgentPolicy(base_user_agent=_user_agent(), **options),
        ProxyPolicy(**options),
        # No ContentDecodePolicy: the body is parsed once, by read_token_response, as untrusted
        # JSON (azure-core's json.loads raises RecursionError on deeply nested answers).
        retry_policy,
        CustomHookPolicy(**options),
        NetworkTraceLoggingPolicy(**options),
        DistributedTracingPolicy(**options),
        HttpLoggingPolicy(**options),
    ]


def build_pipeline(**kwargs: Any) -> Pipeline[Any, Any]:
    """A synchronous pipeline (``RequestsTransport`` unless ``transport=`` is given)."""
    from azure.core.pipeline import Pipeline
    from azure.core.pipeline.policies import RetryPolicy

    options = bounded_options(kwargs)
    transport = options.pop("transport", None)
    policies = options.pop("policies", None) or _policies(RetryPolicy(**options), options)
    if transport is None:
        from azure.core.pipeline.transport import RequestsTransport

        transport = RequestsTransport(session=_session_without_netrc(), session_owner=True, **options)
    return Pipeline(transport, policies=policies)


def _session_without_netrc() -> Any:
    """A requests session for token requests: no ~/.netrc, environment proxies, watched sockets."""
    import requests
    from urllib3.util.retry import Retry

    session = requests.Session()
    # requests adds ~/.netrc Basic auth only when no auth is set: a no-op auth keeps it out of
    # token requests while trust_env still brings the environment's proxies.
    session.auth = _keep_request
    # What azure-core's own session set-up does (no urllib3 retries or redirects: the pipeline's
    # policies decide), with pools whose sockets the deadline watchdog can shut.
    adapter = requests.adapters.HTTPAdapter(
        max_retries=Retry(total=False, redirect=False, raise_on_status=False)
    )
    adapter.poolmanager.pool_classes_by_scheme = watched_pool_classes()
    make_proxy_manager = adapter.proxy_manager_for

    def proxy_manager_for(proxy: str, **kwargs: Any) -> Any:
        manager = make_proxy_manager(proxy, **kwargs)
        manager.pool_classes_by_scheme = watched_pool_classes()
        return manager

    adapter.proxy_manager_for = proxy_manager_for  # type: ignore[method-assign]
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return session


def _keep_request(request: Any) -> Any:
    return request


def build_async_pipeline(**kwargs: Any) -> AsyncPipeline[Any, Any]:
    """An asynchronous pipeline: ``AioHttpTransport`` when aiohttp is installed, else azure-core's
    ``AsyncioRequestsTransport`` (requests in the loop's executor), unless ``transport=`` is given."""
    from azure.core.pipeline import AsyncPipeline
    from azure.core.pipeline.policies import AsyncRetryPolicy

    options = bounded_options(kwargs)
    transport = options.pop("transport", None)
    policies = options.pop("policies", None) or _policies(AsyncRetryPolicy(**options), options)
    if transport is None:
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            from azure.core.pipeline.transport import AsyncioRequestsTransport

            transport = AsyncioRequestsTransport(
                session=_session_without_netrc(), session_owner=True, **options
            )
        else:
            transport = _aiohttp_transport(options)
    return AsyncPipeline(transport, policies=policies)


def _aiohttp_transport(options: dict[str, Any]) -> Any:
    """azure-core's aiohttp transport without ``trust_env`` (which adds ~/.netrc Basic auth),
    choosing the environment's proxy per request instead, as ``trust_env`` would."""
    from azure.core.pipeline.transport import AioHttpTransport

    class EnvProxyAioHttpTransport(AioHttpTransport):  # type: ignore[misc]
        async def send(self, request: Any, **config: Any) -> Any:
            if "proxy" not in config and "proxies" not in config:
                proxy = proxy_for(request.url)
                if proxy is not None:
                    config["proxy"] = proxy
            return await super().send(request, **config)

    return EnvProxyAioHttpTransport(**{**options, "use_env_settings": False})


def _service_error(err: TransportError) -> Exception:
    from azure.core.exceptions import ServiceResponseError, ServiceResponseTimeoutError

    text = str(err)
    if text.startswith("timed out"):
        return ServiceResponseTimeoutError(text)
    return ServiceResponseError(text)


def send_bounded(pipeline: Pipeline[Any, Any], request: Any, budget: float) -> tuple[int, str]:
    """``(status, body text)`` of one token request, within ``budget`` seconds and 1 MiB.

    The body is streamed and read in small pieces until the deadline (azure-core's read
    timeout bounds each socket read, not the answer), and refused past the cap unread.  A
    connection broken mid-body is retried within the budget, as azure-core retries it when
    it reads the body itself.  Raises an azure-core ``AzureError`` for every failure.

    Example: ``status, text = send_bounded(build_pipeline(), token_request(exchange), 30)``.
    """
    deadline = clock.mono() + budget
    where = describe_url(request.url)
    limit = HttpConfig.max_body
    attempts = max(1, HttpConfig.from_env().attempts)
    # The watchdog bounds the wait for the status line and headers too (our own sessions' pools).
    with watch_deadline(deadline):
        return _send_until_read(pipeline, request, deadline, where, limit, attempts)


def _send_until_read(
    pipeline: Pipeline[Any, Any], request: Any, deadline: float, where: str, limit: int, attempts: int
) -> tuple[int, str]:
    from azure.core.exceptions import AzureError

    attempt = 0
    while True:
        attempt += 1
        response = pipeline.run(request, stream=True, retry_on_methods=RETRY_ON_METHODS).http_response
        try:
            raw = getattr(getattr(response, "internal_response", None), "raw", None)
            if raw is not None and hasattr(raw, "read1"):
                body = read_body(raw, limit, deadline, where, request.url)
            else:
                body = _read_chunks(response.iter_bytes(), limit, deadline, where, request.url)
        except (TransportError, AzureError) as err:
            if not _broken_mid_body(err) or attempt >= attempts or clock.mono() >= deadline:
                raise _service_error(err) if isinstance(err, TransportError) else err from None
            continue
        finally:
            response.close()
        text = body.decode("utf-8", "replace")
        _check_json(response.headers.get("Content-Type", ""), text)
        return response.status_code, text


def _broken_mid_body(err: Exception) -> bool:
    if isinstance(err, TransportError):
        text = str(err)
        return err.retryable and not text.startswith("timed out")
    return not isinstance(err, asyncio.TimeoutError)


def _check_json(content_type: str, text: str) -> None:
    """Refuse a JSON answer that does not parse, as azure-core's ContentDecodePolicy does (the
    body is not shown: it may echo the assertion)."""
    if "json" not in content_type.lower() or not text.strip():
        return
    from azure.core.exceptions import DecodeError

    from .._internal.untrusted_json import JSONParseError, parse_json

    try:
        parse_json(text)
    except JSONParseError as err:
        raise DecodeError(f"JSON is invalid: {err}") from None


def _read_chunks(chunks: Any, limit: int, deadline: float, where: str, url: str) -> bytes:
    out: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TransportError(f"the response from {where} is larger than {limit} bytes; refused", url=url)
        if clock.mono() > deadline:
            raise TransportError(f"timed out reading the response from {where}", url=url)
        out.append(chunk)
    return b"".join(out)


async def send_bounded_async(
    pipeline: AsyncPipeline[Any, Any], request: Any, budget: float
) -> tuple[int, str]:
    """The asynchronous :func:`send_bounded`: the whole request and read end at the budget."""
    where = describe_url(request.url)
    limit = HttpConfig.max_body

    async def exchange() -> tuple[int, str]:
        from azure.core.exceptions import AzureError

        attempts = max(1, HttpConfig.from_env().attempts)
        for attempt in range(1, attempts + 1):
            try:
                return await exchange_once()
            except (TransportError, AzureError) as err:
                if not _broken_mid_body(err) or attempt >= attempts:
                    raise
        raise AssertionError("unreachable")

    async def exchange_once() -> tuple[int, str]:
        run = await pipeline.run(request, stream=True, retry_on_methods=RETRY_ON_METHODS)
        response = run.http_response
        out: list[bytes] = []
        size = 0
        try:
            async for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise TransportError(
                        f"the response from {where} is larger than {limit} bytes; refused", url=request.url
                    )
                out.append(chunk)
        finally:
            await response.close() if asyncio.iscoroutinefunction(response.close) else response.close()
        text = b"".join(out).decode("utf-8", "replace")
        _check_json(response.headers.get("Content-Type", ""), text)
        return response.status_code, text

    try:
        return await asyncio.wait_for(exchange(), budget)
    except asyncio.TimeoutError:
        raise _service_error(TransportError(f"timed out waiting for {where}", url=request.url)) from None
    except TransportError as err:
        raise _service_error(err) from None
