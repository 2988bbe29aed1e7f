"""``get_id_token``: fetch (or reuse) the ID token a spec names."""

from __future__ import annotations

from ._internal.log import get_logger, warn_once
from .cache import ExpiringCache
from .errors import OIDCError
from .idtoken import IdToken, make_id_token, refresh_margin
from .providers.base import FetchContext
from .providers.registry import get_provider
from .spec import Spec, parse_spec

_log = get_logger("token")

_cache: ExpiringCache[str, IdToken] = ExpiringCache()


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
    if not provider.official:
        warn_once(
            _log,
            f"unofficial:{provider.name}",
            "%s uses the generic '%s' provider: it works, but nothing refreshes the token for you; "
            "prefer a named provider (github, google, circleci, azure, kubernetes...) where one fits",
            parsed.text,
            provider.name,
        )

    def fetch() -> tuple[IdToken, float]:
        _log.debug("fetching an ID token for %s", parsed.text)
        text = provider.fetch(parsed, ctx)
        token = make_id_token(
            text,
            spec=parsed.text,
            source=provider.source(parsed, ctx),
            remote=provider.is_remote(parsed),
        )
        _log.debug("fetched an ID token for %s: %s", parsed.text, token.describe())
        return token, max(0.0, token.lifetime - refresh_margin(token.lifetime))

    try:
        fingerprint = provider.fingerprint(parsed, ctx)
        return _cache.get(parsed.text, fetch, force_refresh=force_refresh, fingerprint=fingerprint)
    except OIDCError as err:
        if err.spec is None:
            err.spec = parsed.text
        raise


def get_id_token(spec: str | Spec, force_refresh: bool = False) -> str:
    """The raw ID token text a spec names.

    Example::

        token = get_id_token("oidc/github/sts.amazonaws.com")
    """
    return fetch_id_token(spec, force_refresh=force_refresh).value


def clear_token_cache() -> None:
    """Forget every cached ID token (the next call fetches anew)."""
    _cache.clear()
