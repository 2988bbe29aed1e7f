"""What an identity provider is: a name, an argument rule, and a way to fetch a token."""

from __future__ import annotations

import abc
import enum
import hashlib
import os
from collections.abc import Hashable, Mapping

from .._internal.http import HttpClient, HttpResponse, default_client
from ..errors import ConfigurationError
from ..spec import Spec


class Argument(str, enum.Enum):
    """Whether the part after ``oidc/<provider>/`` is needed."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class FetchContext:
    """What a provider may use while fetching: the environment and an HTTP client.

    The repr names neither: the environment holds request tokens and keys.

    Example: ``FetchContext(environ={"ACTIONS_ID_TOKEN_REQUEST_URL": url, ...})``.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, http: HttpClient | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.http: HttpClient = default_client() if http is None else http

    def __repr__(self) -> str:
        return f"FetchContext(environ=<{len(self.environ)} variables, not shown>)"


class Provider(abc.ABC):
    """An identity provider behind ``oidc/<name>/...``.

    Third-party providers subclass this and are published through the entry-point group
    ``oidc_credential_chain.providers`` (the entry point names the class or an instance).

    Example::

        class MyCI(Provider):
            name = "myci"
            argument = Argument.NONE
            description = "env MYCI_OIDC_TOKEN"

            def fetch(self, spec, ctx):
                return require_env(ctx.environ, "MYCI_OIDC_TOKEN", spec)
    """

    name: str = ""
    argument: Argument = Argument.NONE
    #: What the argument means, for error messages (``"audience"``, ``"path"``...).
    argument_name: str = "argument"
    #: One line for docs and ``doctor``: where the token comes from.
    description: str = ""
    #: True when the token comes over the network (a bad answer is a fetch error).
    remote: bool = False
    #: False for the generic providers that log a once-per-process recommendation.
    official: bool = True

    def check_argument(self, spec: Spec) -> None:
        """Raise :class:`ConfigurationError` if the spec's argument breaks the rule."""
        if self.argument is Argument.NONE and spec.argument is not None:
            raise ConfigurationError(
                f"'oidc/{self.name}' takes no argument, but {spec.text!r} gives one; "
                f"write 'oidc/{self.name}'",
                spec=spec.text,
            )
        if self.argument is Argument.REQUIRED and spec.argument is None:
            raise ConfigurationError(
                f"'oidc/{self.name}' needs {_article(self.argument_name)} {self.argument_name}: "
                f"write 'oidc/{self.name}/<{self.argument_name}>'",
                spec=spec.text,
            )

    @abc.abstractmethod
    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        """Return the raw token text (validation and caching are done by the caller)."""

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        """Identifies the token's source so a cached token is dropped when it changes.

        Local sources return e.g. a file's inode and mtime; remote ones None.
        """
        return None

    def is_remote(self, spec: Spec) -> bool:
        """True when this spec's token comes over the network."""
        return self.remote

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        """Where the token came from, for messages (never the token itself)."""
        return f"oidc/{self.name}"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def require_env(environ: Mapping[str, str], name: str, spec: Spec, *, hint: str = "") -> str:
    """The stripped value of ``name``, or a configuration error naming it."""
    value = environ.get(name, "")
    if not value.strip():
        state = "is empty" if name in environ else "is not set"
        raise ConfigurationError(
            f"{spec.text} reads the environment variable {name}, which {state}"
            + (f"; {hint}" if hint else ""),
            spec=spec.text,
        )
    return value.strip()


def require_header_value(environ: Mapping[str, str], name: str, spec: Spec, *, hint: str = "") -> str:
    """Like :func:`require_env`, for a value sent in an HTTP header: CR, LF or NUL is a configuration error.

    Such a value can never be sent, so retrying is pointless; the message names the
    variable, never the value.
    """
    value = require_env(environ, name, spec, hint=hint)
    if any(ch in value for ch in "\r\n\x00"):
        raise ConfigurationError(
            f"{spec.text}: the environment variable {name} contains a line break or NUL byte, so it "
            "cannot be sent in an HTTP header; it is malformed (its value is not shown)",
            spec=spec.text,
        )
    return value


def send(
    ctx: FetchContext,
    spec: Spec,
    idp: str,
    method: str,
    url: str,
    **kwargs: object,
) -> HttpResponse:
    """Send a request to an identity provider, turning transport failures into fetch errors.

    ``idp`` names the endpoint in messages ("GitHub Actions' ID token endpoint").
    """
    from .._internal.http import InsecureURLError, TransportError, describe_url
    from ..errors import TokenFetchError

    try:
        return ctx.http.request(method, url, **kwargs)  # type: ignore[arg-type]
    except InsecureURLError as err:
        raise ConfigurationError(f"{spec.text}: {err}", spec=spec.text) from None
    except TransportError as err:
        config = ctx.http.config
        if not err.retryable:
            raise TokenFetchError(f"{spec.text}: {idp}: {err}", spec=spec.text) from None
        # The transport error names the whole URL; the server's origin is enough here.
        origin = describe_url(url).split("/", 3)
        raise TokenFetchError(
            f"{spec.text}: {idp} at {'/'.join(origin[:3])} did not answer ({err}) after up to "
            f"{config.attempts} attempts within {config.total_timeout:g} s",
            spec=spec.text,
            retryable=True,
        ) from None


def refuse_redirect(spec: Spec, idp: str, response: HttpResponse) -> None:
    """Raise a fetch error for a 3xx answer: redirects are never followed."""
    from .._internal.http import host_of
    from ..errors import TokenFetchError

    if 300 <= response.status < 400:
        location = response.header("location") or ""
        target = host_of(location) if "://" in location else "the same host"
        raise TokenFetchError(
            f"{spec.text}: {idp} answered HTTP {response.status} redirecting to {target}; "
            "redirects are not followed on requests that carry credentials",
            spec=spec.text,
            status=response.status,
        )


def error_detail(response: HttpResponse, *secrets: str | None, limit: int = 300) -> str:
    """A short, secret-free excerpt of an error body (JSON ``message``/``error`` preferred).

    The body goes through :func:`~oidc_credential_chain._internal.redact.quote_body`, so a
    server that echoes what it was sent (``Bearer ghs_...``, a token) shows none of it.
    """
    from .._internal.redact import quote_body

    return quote_body(response.body, *secrets, limit=limit)


def env_fingerprint(value: str | None) -> str | None:
    """A digest of a variable's value, so a changed token is noticed without keeping it twice."""
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def json_string_field(spec: Spec, idp: str, response: HttpResponse, field: str) -> str:
    """The non-empty string ``field`` of a 200 answer's JSON body, or a fetch error that shows no body."""
    from .._internal.untrusted_json import parse_json
    from ..errors import TokenFetchError

    try:
        body = parse_json(response.body)
    except ValueError:
        body = None
    value = body.get(field) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise TokenFetchError(
            f"{spec.text}: {idp} answered HTTP 200 without a JSON {field!r} field; the body is not shown",
            spec=spec.text,
            status=200,
        )
    return value
