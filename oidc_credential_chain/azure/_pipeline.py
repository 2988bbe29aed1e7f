"""azure-core pipelines for the Entra token endpoint, taking the transport options azure-identity takes.

``connection_verify``, ``connection_cert``, ``proxies``, ``transport``, ``policies``,
``retry_*``, ``headers``, ``logging_enable``... pass through as in any Azure SDK client.
Defaults differ in two ways: time is bounded (the library's ``OIDC_CREDENTIAL_CHAIN_TIMEOUT``
budget, connect/read timeouts and a few retries instead of azure-core's 300 s timeouts and
10 retries) and ``OIDC_CREDENTIAL_CHAIN_CA_BUNDLE`` is the default ``connection_verify``.
No redirect policy is installed: a request carrying a client assertion is never redirected.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._internal.http import HttpConfig

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
        ContentDecodePolicy,
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
        ContentDecodePolicy(**options),
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

        transport = RequestsTransport(**options)
    return Pipeline(transport, policies=policies)


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

            transport = AsyncioRequestsTransport(**options)
        else:
            from azure.core.pipeline.transport import AioHttpTransport

            transport = AioHttpTransport(**options)
    return AsyncPipeline(transport, policies=policies)
