"""google-auth external-account credentials (workload identity federation) fed by a spec.

The flow, as Google's own clients run it: the spec's ID token goes to Google STS
(``/v1/token``, RFC 8693 token exchange) for a federated access token; with a service
account, IAM Credentials ``generateAccessToken`` turns that into the service account's
token.  google-auth does the exchanges and refreshes; this module supplies the subject
token and turns every failure into a ``RefreshError`` that is also an :class:`OIDCError`
naming the token's ``iss``/``aud``/``sub``/``exp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.auth import exceptions, identity_pool

from .._internal.http import InsecureURLError, check_url_security
from .._internal.log import get_logger
from .._internal.redact import redact_text
from .._internal.untrusted_json import parse_json
from ..errors import ConfigurationError, OIDCError
from ..jwt import format_claims
from ..providers.base import FetchContext
from ..providers.registry import get_provider, parse_spec
from ..spec import Spec, split_spec
from ._transport import BoundedRequest
from .errors import ExchangeRefreshError
from .supplier import SpecSubjectTokenSupplier

_log = get_logger("gcp")

SUBJECT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
DEFAULT_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
DEFAULT_IAM_ENDPOINT = "https://iamcredentials.googleapis.com"
#: Providers whose argument is an audience but whose bare form names another token source.
_BARE_FORM_IS_A_SOURCE = frozenset({"azure"})


def subject_token_spec(token: str | Spec, audience: str) -> Spec:
    """The spec to fetch, with ``https:`` + the pool audience filled in when the spec has no audience.

    Example::

        >>> subject_token_spec("oidc/github", "//iam.googleapis.com/projects/1/locations/global/"
        ...                    "workloadIdentityPools/p/providers/r").argument
        'https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r'
    """
    raw = token if isinstance(token, Spec) else split_spec(token)
    if raw.argument is None and raw.provider not in _BARE_FORM_IS_A_SOURCE:
        provider = get_provider(raw.provider)
        if provider.argument_name == "audience" and provider.argument.value != "none":
            raw = Spec(raw.provider, "https:" + audience)
    return parse_spec(raw)


def _check_audience(audience: object) -> str:
    if not isinstance(audience, str) or not audience.startswith("//") or "/providers/" not in audience:
        raise ConfigurationError(
            "audience must be a workload identity pool provider's full name, e.g. "
            "'//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/<pool>/"
            f"providers/<provider>'; got {audience!r}"
        )
    return audience


class Credentials(identity_pool.Credentials):
    """``google.auth.identity_pool.Credentials`` whose refresh failures are also :class:`OIDCError`.

    google-auth reports an STS refusal as ``OAuthError``, which Google Cloud clients do not
    treat as a refresh failure; here it is an :class:`~oidc_credential_chain.gcp.ExchangeRefreshError`
    (a ``RefreshError``) carrying Google's error code and the subject token's claims.
    Build it with :func:`credentials`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # google-auth copies credentials with ``self.__class__(**constructor args)``, which keeps
        # the supplier, so copies (with_scopes, impersonation's source) stay ours.
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        supplier = kwargs.get("subject_token_supplier")
        self._oidc_supplier = supplier if isinstance(supplier, SpecSubjectTokenSupplier) else None
        # The pool provider for messages, from the constructor argument rather than google-auth's
        # private ``_audience``.
        self._pool_provider = kwargs.get("audience", args[0] if args else None)

    def refresh(self, request: Any) -> None:
        """Refresh through :class:`~._transport.BoundedRequest`, whatever ``request`` the caller passed:
        the token requests follow the library's transport rules (no redirects, https, budgets)."""
        try:
            super().refresh(BoundedRequest())  # type: ignore[no-untyped-call]
        except OIDCError:
            raise
        except exceptions.OAuthError as err:
            raise self._refusal("Google STS", "token exchange", err) from None
        except exceptions.RefreshError as err:
            raise self._refusal("IAM Credentials", "generateAccessToken", err) from None
        except exceptions.TransportError as err:
            raise self._unreachable(err) from None
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            # google-auth parses answers with json.loads and indexing: a 200 that is not the
            # documented JSON surfaces as one of these.
            raise self._malformed(err) from None
        _log.info(
            "Google %s token obtained for %s (pool provider %s, token %s), expires %s",
            f"service-account ({self.service_account_email})" if self.service_account_email else "federated",
            self._spec_text(),
            self._pool_provider,
            format_claims(self._claims()),
            self.expiry.isoformat() + "Z" if self.expiry else "never",
        )

    def _spec_text(self) -> str:
        return self._oidc_supplier.spec.text if self._oidc_supplier else "the subject token supplier"

    def _claims(self) -> dict[str, Any]:
        last = self._oidc_supplier.last_token if self._oidc_supplier else None
        return last.summary() if last is not None else {}

    def _refusal(self, service: str, operation: str, err: Exception) -> ExchangeRefreshError:
        code, detail, http_status = _parse_error_body(err)
        claims = self._claims()
        if service == "Google STS":
            if self._oidc_supplier is not None:
                self._oidc_supplier.mark_rejected()
            advice = (
                f"check the workload identity pool provider {self._pool_provider}: its issuer, allowed "
                "audiences and attribute condition must accept this token"
            )
        else:
            advice = (
                f"the federated identity needs roles/iam.workloadIdentityUser on {self.service_account_email}"
            )
        presented = f"the token presented had {format_claims(claims)}" if claims else "no token was presented"
        retryable = code in ("server_error", "temporarily_unavailable", "UNAVAILABLE", "INTERNAL") or (
            http_status is not None and (http_status >= 500 or http_status == 429)
        )
        return ExchangeRefreshError(
            f"{self._spec_text()}: {service} refused the {operation} "
            f"({code or 'no error code'}: {detail}); {presented}; {advice}",
            spec=self._oidc_supplier.spec.text if self._oidc_supplier else None,
            service=service,
            code=code,
            status=http_status,
            claims=claims,
            retryable=retryable,
        )

    def _malformed(self, err: Exception) -> ExchangeRefreshError:
        return ExchangeRefreshError(
            f"{self._spec_text()}: the Google token exchange answered with something other than the "
            f"documented JSON ({type(err).__name__}); the body is not shown",
            spec=self._oidc_supplier.spec.text if self._oidc_supplier else None,
            service="Google STS",
            claims=self._claims(),
            retryable=True,
        )

    def _unreachable(self, err: Exception) -> ExchangeRefreshError:
        return ExchangeRefreshError(
            f"{self._spec_text()}: the Google token exchange could not be completed "
            f"({type(err).__name__}: {_first_line(err)})",
            spec=self._oidc_supplier.spec.text if self._oidc_supplier else None,
            service="Google STS",
            claims=self._claims(),
            retryable=True,
        )


def _first_line(err: Exception) -> str:
    text = str(err.args[0]) if err.args else type(err).__name__
    return redact_text(text.splitlines()[0])[:300] if text else type(err).__name__


def _parse_error_body(err: Exception) -> tuple[str | None, str, int | None]:
    """``(code, description, HTTP status)`` from the response body google-auth attaches to its error."""
    body = err.args[1] if len(err.args) > 1 else None
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    data: Any = None
    if isinstance(body, str):
        try:
            data = parse_json(body)
        except ValueError:
            data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):  # Google's envelope: {"error": {"code", "message", "status"}}
            status = error.get("code")
            return (
                str(error.get("status") or "") or None,
                redact_text(str(error.get("message") or "(no message)"))[:300],
                status if isinstance(status, int) else None,
            )
        if isinstance(error, str):  # OAuth: {"error", "error_description"}
            return error, redact_text(str(data.get("error_description") or "(no description)"))[:300], None
    text = " ".join(redact_text(str(body or _first_line(err))).split())[:300]
    return None, text or "(empty body)", None


def _require_https(name: str, url: str) -> None:
    try:
        check_url_security(url)
    except InsecureURLError as err:
        raise ConfigurationError(
            f"{name}: {err}; the subject token would cross the network in clear text"
        ) from None


def credentials(
    *,
    token: str | Spec,
    audience: str,
    service_account: str | None = None,
    scopes: Sequence[str] | None = None,
    token_url: str | None = None,
    iam_endpoint: str | None = None,
    context: FetchContext | None = None,
    **kwargs: Any,
) -> Credentials:
    """google-auth credentials for workload identity federation, fed by an ``oidc/...`` spec.

    ``audience`` is the pool provider's full name
    (``//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/R``).
    A spec without an audience (``oidc/github``, ``oidc/google``) asks for ``https:`` + that
    name, the audience a pool provider accepts by default.  With ``service_account`` (an
    email or unique ID) the federated token is exchanged for that account's token.
    ``token_url`` / ``iam_endpoint`` move Google STS and IAM Credentials (emulators, private
    endpoints); other keywords (``quota_project_id``, ``universe_domain``,
    ``service_account_impersonation_options``) go to google-auth.

    Example::

        creds = credentials(token="oidc/github", audience=POOL_PROVIDER,
                            service_account="vertex@my-project.iam.gserviceaccount.com")
        AuthorizedSession(creds).post(url, json=body)
    """
    audience = _check_audience(audience)
    spec = subject_token_spec(token, audience)
    if service_account is not None and (not isinstance(service_account, str) or not service_account.strip()):
        raise ConfigurationError(f"service_account must be an email or a unique ID, got {service_account!r}")
    options: dict[str, Any] = dict(kwargs)
    if token_url is not None:
        _require_https("token_url", token_url)
        options["token_url"] = token_url
    if iam_endpoint is not None:
        _require_https("iam_endpoint", iam_endpoint)
    if service_account is not None:
        universe = options.get("universe_domain") or "googleapis.com"
        base = (iam_endpoint or f"https://iamcredentials.{universe}").rstrip("/")
        options["service_account_impersonation_url"] = (
            f"{base}/v1/projects/-/serviceAccounts/{service_account.strip()}:generateAccessToken"
        )
    return Credentials(
        audience=audience,
        subject_token_type=SUBJECT_TOKEN_TYPE,
        subject_token_supplier=SpecSubjectTokenSupplier(spec, context=context),
        scopes=list(scopes) if scopes is not None else list(DEFAULT_SCOPES),
        **options,
    )


__all__ = ["DEFAULT_SCOPES", "SUBJECT_TOKEN_TYPE", "Credentials", "credentials", "subject_token_spec"]
