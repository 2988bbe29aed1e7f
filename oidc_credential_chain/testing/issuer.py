"""An OIDC issuer on loopback: signing keys, discovery document, JWKS, token minting."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ._server import EmulatorServer, Request, Response, Router

_key_lock = threading.Lock()
_spare_keys: list[Any] = []


def _new_rsa_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OIDCIssuer(EmulatorServer):
    """Serves ``/.well-known/openid-configuration`` and ``/.well-known/jwks.json`` and mints tokens.

    ``issuer`` is the ``iss`` claim and the discovery document's ``issuer``; it defaults to
    the server's own URL, and may be any string (``https://token.actions.githubusercontent.com``)
    so that tokens look like a real provider's while their keys are served here.

    Example::

        with OIDCIssuer() as issuer:
            token = issuer.mint({"sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com"})
    """

    name = "oidc-issuer"

    def __init__(
        self,
        issuer: str | None = None,
        *,
        lifetime: float = 300.0,
        algorithm: str = "RS256",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._issuer = issuer
        self.lifetime = lifetime
        self.algorithm = algorithm
        self._keys: list[tuple[str, Any]] = []
        self.rotate_key()
        #: The time source for ``iat``/``exp`` (tests shift it to simulate skew).
        self.clock_offset: float = 0.0
        #: Tokens minted, for assertions.
        self.minted = 0
        self._router = Router()
        self._router.add("GET", "/.well-known/openid-configuration", self._discovery)
        self._router.add("GET", "/.well-known/jwks.json", self._jwks)

    @property
    def issuer(self) -> str:
        return self._issuer or self.url

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    def rotate_key(self) -> str:
        """Add a new signing key (the old ones stay in the JWKS); returns its ``kid``."""
        with _key_lock:
            key = _spare_keys.pop() if _spare_keys else _new_rsa_key()
        kid = uuid.uuid4().hex[:16]
        self._keys.append((kid, key))
        return kid

    @property
    def kid(self) -> str:
        return self._keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        keys = []
        for kid, key in self._keys:
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": self.algorithm})
            keys.append(jwk)
        return {"keys": keys}

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def mint(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        lifetime: float | None = None,
        iat: int | None = None,
        headers: Mapping[str, Any] | None = None,
        signing_key: Any = None,
    ) -> str:
        """A signed JWT with ``iss``, ``iat``, ``nbf``, ``exp`` and ``jti`` filled in.

        Explicit ``claims`` override the defaults (set ``exp`` to mint an expired token).
        ``signing_key`` signs with a key the JWKS does not hold (a forged token).
        """
        import jwt

        issued = self.now() if iat is None else iat
        life = self.lifetime if lifetime is None else lifetime
        body: dict[str, Any] = {
            "iss": self.issuer,
            "iat": issued,
            "nbf": issued - 5,
            "exp": int(issued + life),
            "jti": uuid.uuid4().hex,
        }
        body.update(claims or {})
        kid, key = self._keys[-1]
        header = {"kid": kid, "typ": "JWT"}
        header.update(headers or {})
        self.minted += 1
        return jwt.encode(body, signing_key or key, algorithm=self.algorithm, headers=header)

    def verify(
        self, token: str, *, audience: str | list[str] | None = None, leeway: float = 0
    ) -> dict[str, Any]:
        """Verify a token minted here (signature, ``iss``, ``exp``, ``aud``); returns its claims."""
        import jwt

        header = jwt.get_unverified_header(token)
        for kid, key in self._keys:
            if kid == header.get("kid"):
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key.public_key(),
                    algorithms=[self.algorithm],
                    audience=audience,
                    issuer=self.issuer,
                    leeway=leeway,
                    options={"verify_aud": audience is not None},
                )
                return claims
        raise jwt.InvalidSignatureError("unknown kid")

    def handle(self, request: Request) -> Response:
        return self._router.dispatch(request)

    def _discovery(self, request: Request) -> Response:
        return Response(
            200,
            {
                "issuer": self.issuer,
                "jwks_uri": self.jwks_url,
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": [self.algorithm],
                "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
            },
        )

    def _jwks(self, request: Request) -> Response:
        return Response(200, self.jwks())


def prepare_keys(count: int) -> None:
    """Generate ``count`` RSA keys ahead of time (tests start many issuers)."""
    keys = [_new_rsa_key() for _ in range(count)]
    with _key_lock:
        _spare_keys.extend(keys)
