"""Identity providers: one module each, and the registry that names them."""

from .base import Argument, FetchContext, Provider, require_env
from .registry import ENTRY_POINT_GROUP, get_provider, known_providers, parse_spec

__all__ = [
    "ENTRY_POINT_GROUP",
    "Argument",
    "FetchContext",
    "Provider",
    "get_provider",
    "known_providers",
    "parse_spec",
    "require_env",
]
