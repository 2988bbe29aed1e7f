"""A google-auth ``SubjectTokenSupplier`` fed by an ``oidc/...`` spec.

google-auth asks its supplier for a subject token on every refresh and does not cache it;
this one serves it from the library's per-spec cache (shared with every other user of the
same spec in the process), and fetches a fresh one after Google STS refused the last.
"""

from __future__ import annotations

from typing import Any

from google.auth import identity_pool

from .._api import fetch_id_token
from ..errors import OIDCError
from ..idtoken import IdToken
from ..lifecycle.fork import ForkSafeLock
from ..providers.base import FetchContext
from ..providers.registry import parse_spec
from ..spec import Spec
from .errors import as_refresh_error


class SpecSubjectTokenSupplier(identity_pool.SubjectTokenSupplier):
    """Supplies the ID token a spec names to ``google.auth.identity_pool.Credentials``.

    Example::

        supplier = SpecSubjectTokenSupplier("oidc/github/https://iam.googleapis.com/projects/...")
        creds = identity_pool.Credentials(audience, "urn:ietf:params:oauth:token-type:jwt",
                                          subject_token_supplier=supplier)
    """

    def __init__(self, spec: str | Spec, *, context: FetchContext | None = None) -> None:
        self.spec = parse_spec(spec)
        self._context = context
        self._lock = ForkSafeLock()
        self._rejected = False
        self._last: IdToken | None = None

    def get_subject_token(self, context: Any, request: Any) -> str:
        """The spec's ID token, from the cache while fresh; raises a ``RefreshError`` on failure."""
        with self._lock:
            force = self._rejected
        try:
            token = fetch_id_token(self.spec, force_refresh=force, context=self._context)
        except OIDCError as err:
            raise as_refresh_error(err) from None
        with self._lock:
            self._rejected = False
            self._last = token
        return token.value

    @property
    def last_token(self) -> IdToken | None:
        """The token supplied last (its claims explain a refusal); never shown in reprs."""
        return self._last

    def mark_rejected(self) -> None:
        """The relying party refused the last token: the next call fetches a fresh one."""
        with self._lock:
            self._rejected = True

    def __repr__(self) -> str:
        return f"SpecSubjectTokenSupplier({self.spec.text!r})"


__all__ = ["SpecSubjectTokenSupplier"]
