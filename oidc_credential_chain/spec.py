"""The grammar of ``oidc/<provider>/<argument>`` strings.

The literal prefix ``oidc/``, a provider name up to the next ``/``, and everything after
that ``/`` as the argument, used exactly as written.  An empty argument is no argument
(``oidc/circleci`` and ``oidc/circleci/`` are the same spec).

This module knows no providers: :func:`oidc_credential_chain.parse_spec` (in
``providers/registry.py``) splits with :func:`split_spec` and then checks the provider, so
imports run one way, from the providers down to the grammar.
"""

from __future__ import annotations

from ._internal.record import Record
from .errors import ConfigurationError

PREFIX = "oidc/"


class Spec(Record):
    """An immutable, validated token spec.

    Example::

        >>> split_spec("oidc/google/https://example.com/")
        Spec('oidc/google/https://example.com/')
        >>> _.argument
        'https://example.com/'
    """

    provider: str
    argument: str | None = None

    def __post_init__(self) -> None:
        if self.argument == "":
            object.__setattr__(self, "argument", None)  # an empty argument is no argument

    @property
    def text(self) -> str:
        """The canonical spec string (``oidc/x`` for ``oidc/x/``)."""
        if self.argument is None:
            return f"{PREFIX}{self.provider}"
        return f"{PREFIX}{self.provider}/{self.argument}"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        # A spec names where a token comes from; one with a token pasted into it is redacted.
        from ._internal.redact import redact_text

        return f"Spec({redact_text(self.text)!r})"


def is_spec(value: object) -> bool:
    """True when ``value`` is a string that looks like an ``oidc/...`` spec.

    Example: ``is_spec("oidc/github")`` is True; ``is_spec("/var/run/token")`` is False.
    """
    return isinstance(value, str) and value.strip().startswith(PREFIX)


def split_spec(text: str) -> Spec:
    """Split a spec string into provider and argument without checking the provider.

    Raises :class:`ConfigurationError` for strings that are not specs at all.
    """
    if not isinstance(text, str):
        raise ConfigurationError(
            f"a token spec must be a string like 'oidc/github', not {type(text).__name__}"
        )
    stripped = text.strip()
    if stripped in ("oidc", PREFIX):
        raise ConfigurationError(
            f"{stripped!r} names no identity provider: write 'oidc/<provider>[/<argument>]', "
            "for example 'oidc/github/sts.amazonaws.com'"
        )
    if not stripped.startswith(PREFIX):
        raise ConfigurationError(
            "a token spec must start with 'oidc/' (for example 'oidc/github/sts.amazonaws.com'); "
            "the value given does not"
        )
    rest = stripped[len(PREFIX) :]
    provider, sep, argument = rest.partition("/")
    if not provider:
        raise ConfigurationError(
            "the token spec names no identity provider between 'oidc/' and the next '/': "
            "write 'oidc/<provider>[/<argument>]'"
        )
    if _looks_like_a_token(provider) or _looks_like_a_token(argument):
        # Specs are shown in messages and reprs; a token pasted into one must not be.
        raise ConfigurationError(
            "the token spec holds what looks like a token itself; a spec names where the token comes "
            "from (put the token in a variable and write 'oidc/env/<VARIABLE>'); the value is not shown"
        )
    return Spec(provider=provider, argument=argument if sep and argument else None)


def _looks_like_a_token(argument: str) -> bool:
    from .jwt import looks_like_jwt

    # Every JWT starts with the base64url of '{"', which no audience, path or variable name does.
    return argument.startswith("eyJ") and looks_like_jwt(argument)


__all__ = ["PREFIX", "Spec", "is_spec", "split_spec"]
