"""``get_id_token``: fetch (or reuse) the ID token a spec names."""

from __future__ import annotations

import threading

from ._internal.log import get_logger, warn_once
from .cache import ExpiringCache
from .errors import CredentialLoopError, OIDCError
from .idtoken import IdToken, make_id_token, refresh_margin
from .providers.base import FetchContext
from .providers.registry import get_provider, parse_spec
from .spec import Spec

_log = get_logger("token")

_cache: ExpiringCache[str, IdToken] = ExpiringCache()
#: Specs this thread is fetching: asking for one of them again from inside its own fetch is a loop
#: (it would otherwise wait forever on its own single-flight lock).
_in_flight = threading.local()


def fetch_id_token(
    spec: str | Spec,
    *,
    force_refresh: bool = False,
    context: FetchContext | None = None,
) -> IdToken:
    """The :class:`IdToken` a spec names, from the cache while it is fresh.

    Many threads asking at once cause one fetch.  ``force_refresh=True`` fetches anew
    (use it after a relying party rejected the last token).

    Example::

        token = fetch_id_token("oidc/github/sts.amazonaws.com")
        print(token.claims["sub"], token.seconds_left())
    """
    parsed = parse_spec(spec)
    provider = get_provider(parsed.provider)
    ctx = context or FetchContext()

    def fetch() -> tuple[IdToken, float]:
        _log.debug("fetching an ID token for %s", parsed.text)
        outer: frozenset[str] = getattr(_in_flight, "specs", frozenset())
        _in_flight.specs = outer | {parsed.text}
        try:
            text = provider.fetch(parsed, ctx)
        finally:
            _in_flight.specs = outer
        token = make_id_token(
            text,
            spec=parsed.text,
            source=provider.source(parsed, ctx),
            remote=provider.is_remote(parsed),
        )
        _log.debug("fetched an ID token for %s: %s", parsed.text, token.describe())
        return token, max(0.0, token.lifetime - refresh_margin(token.lifetime))

    if parsed.text in getattr(_in_flight, "specs", frozenset()):
        raise CredentialLoopError(
            f"{parsed.text}: fetching this token needs the token itself (the credentials its provider "
            "uses are configured with the same spec); give that provider an identity of its own",
            spec=parsed.text,
        )
    try:
        fingerprint = provider.fingerprint(parsed, ctx)
        token = _cache.get(parsed.text, fetch, force_refresh=force_refresh, fingerprint=fingerprint)
    except OIDCError as err:
        if err.spec is None:
            err.spec = parsed.text
        raise
    if not provider.official:
        # Only once it works, so that a failing command prints its error and nothing else.
        warn_once(
            _log,
            f"unofficial:{provider.name}",
            "%s uses the generic '%s' provider: it works, but nothing says who refreshes the token; "
            "prefer a named provider (github, google, circleci, azure, kubernetes...) where one fits",
            parsed.text,
            provider.name,
        )
    return token


def get_id_token(spec: str | Spec, force_refresh: bool = False) -> str:
    """The raw ID token text a spec names.

    Example::

        token = get_id_token("oidc/github/sts.amazonaws.com")
    """
    return fetch_id_token(spec, force_refresh=force_refresh).value


def clear_token_cache() -> None:
    """Forget every cached ID token (the next call fetches anew)."""
    _cache.clear()
