"""Item: every public type's repr is secret-free, with canary secrets in the environment.

The test walks the package's public modules, builds one instance of every public class
(secret holders with canary secrets in their secret fields, others with harmless values)
and checks each repr for every canary.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable
from typing import Any

import pytest

import oidc_credential_chain
from oidc_credential_chain import gcp
from oidc_credential_chain._internal.file_cache import CacheEntry
from oidc_credential_chain._internal.http import HttpResponse
from oidc_credential_chain._internal.record import Record
from oidc_credential_chain.aws.config import WebIdentityConfig
from oidc_credential_chain.aws.core import Refresher
from oidc_credential_chain.aws.sts import StsCredentials
from oidc_credential_chain.idtoken import IdToken
from oidc_credential_chain.testing import OIDCIssuer
from tests.security.conftest import REQUEST_TOKEN

CANARY_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYSECRET"
CANARY_SESSION = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCANARYSESSION"
CANARY_CLIENT_SECRET = "azure~CANARY~client~secret~0123456789"
CANARY_ENV = {
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/idtoken?api-version=2.0",
    "AWS_SECRET_ACCESS_KEY": CANARY_SECRET_KEY,
    "AWS_SESSION_TOKEN": CANARY_SESSION,
    "AZURE_CLIENT_SECRET": CANARY_CLIENT_SECRET,
}

#: Types with no instances of their own: abstract bases and protocols.
NOT_INSTANTIABLE = {
    "oidc_credential_chain.lifecycle.fork.ResetsAfterFork",
    "oidc_credential_chain.providers.base.Provider",
    "oidc_credential_chain.testing.sigv4.SigningSecret",
    "oidc_credential_chain.testing.vertex.TokenAuthority",
}


def _public_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    package = oidc_credential_chain
    modules = [package.__name__] + [
        m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]
    for name in modules:
        if any(part.startswith("_") for part in name.split(".")[1:]):
            continue
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for attribute in exported:
            obj = getattr(module, attribute, None)
            if inspect.isclass(obj) and obj.__module__.startswith(package.__name__):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


POOL = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/r"


def _harmless(name: str, annotation: Any) -> Any:
    origin = typing.get_origin(annotation) or annotation
    text = str(annotation)
    if name == "spec":
        return "oidc/env/REPR_SPEC"
    if name == "path":
        return "/nonexistent/repr/token"
    if origin is str or "str" in text:
        return "x"
    if origin is bool or text == "bool":
        return False
    if origin is int or text == "int":
        return 1
    if origin is float or text == "float":
        return 1.0
    if "Mapping" in text or "dict" in text:
        return {}
    if any(word in text for word in ("list", "tuple", "Sequence", "Iterable")):
        return ()
    return None


def _secret_holders(token: str) -> dict[type, Callable[[], object]]:
    """Instances whose secret fields hold canaries: their reprs must hide them."""

    def sts_credentials() -> StsCredentials:
        return StsCredentials(
            access_key_id="ASIACANARYKEYID00000",
            secret_access_key=CANARY_SECRET_KEY,
            session_token=CANARY_SESSION,
            expiration=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
            lifetime=3600.0,
            assumed_role_arn="arn:aws:sts::123456789012:assumed-role/r/s",
        )

    return {
        IdToken: lambda: IdToken(
            value=token,
            header={"alg": "RS256"},
            claims={"sub": "repr-canary"},
            spec="oidc/env/CANARY",
            fetched_at=1.0,
            fetched_mono=1.0,
            lifetime=300.0,
        ),
        StsCredentials: sts_credentials,
        Refresher: lambda: Refresher(
            WebIdentityConfig.create(token="oidc/env/REPR_SPEC", role_arn="arn:aws:iam::123456789012:role/r"),
            sts_credentials(),
            exchange=sts_credentials,
        ),
        gcp.Credentials: lambda: gcp.credentials(token="oidc/env/REPR_SPEC", audience=POOL),
        HttpResponse: lambda: HttpResponse(200, {}, f'{{"value": "{token}"}}'.encode(), "http://127.0.0.1/x"),
        CacheEntry: lambda: CacheEntry({"secret": CANARY_SECRET_KEY}, issued_at=1.0, expires_at=2.0),
    }


def _build(cls: type, holders: dict[type, Callable[[], object]]) -> object:
    if cls in holders:
        return holders[cls]()
    if issubclass(cls, enum.Enum):
        return next(iter(cls))
    try:
        return cls("a message") if issubclass(cls, BaseException) else cls()
    except TypeError:
        pass
    hints = typing.get_type_hints(cls.__init__)
    if issubclass(cls, Record):  # fields are class annotations; __init__ is Record's own
        hints = typing.get_type_hints(cls)
    arguments = {
        name: _harmless(name, hints.get(name))
        for name, parameter in inspect.signature(cls).parameters.items()
        if parameter.default is inspect.Parameter.empty
        and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }
    return cls(**arguments)


def test_every_public_repr_is_secret_free(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CANARY_ENV.items():
        monkeypatch.setenv(name, value)
    token = OIDCIssuer("https://repr.example.com").mint({"sub": "repr-canary", "aud": "a"})
    canaries = [*CANARY_ENV.values(), token.rsplit(".", 1)[1], token.split(".")[1]]
    canaries.remove(CANARY_ENV["ACTIONS_ID_TOKEN_REQUEST_URL"])
    holders = _secret_holders(token)
    classes = _public_classes()
    assert len(classes) > 50  # the walk found the package, not an empty shell
    unbuilt: list[str] = []
    for name, cls in sorted(classes.items()):
        if name in NOT_INSTANTIABLE:
            continue
        try:
            instance = _build(cls, holders)
        except Exception as err:
            unbuilt.append(f"{name}: {type(err).__name__}: {err}")
            continue
        text = repr(instance)
        for canary in canaries:
            assert canary not in text, f"repr of {name} shows a canary secret: {text[:300]}"
    assert unbuilt == [], "public classes the test cannot build (give them a factory):\n" + "\n".join(unbuilt)


def test_fetch_context_repr_does_not_dump_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from oidc_credential_chain.providers.base import FetchContext

    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
    text = repr(FetchContext())
    assert REQUEST_TOKEN not in text
    assert text.startswith("FetchContext(environ=<") and "variables, not shown>" in text
