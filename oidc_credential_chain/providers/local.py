"""The generic providers: a file, an environment variable, a file named by a variable.

They work anywhere, which is also their weakness: nothing says who refreshes the token.
Each logs one warning per process recommending a named provider.
"""

from __future__ import annotations

from collections.abc import Hashable

from .._internal.files import file_fingerprint, read_token_file
from ..spec import Spec
from .base import Argument, FetchContext, Provider, env_fingerprint, require_env


def file_path(argument: str) -> str:
    """``var/run/token`` and ``/var/run/token`` both mean ``/var/run/token``."""
    return "/" + argument.lstrip("/")


class FileProvider(Provider):
    name = "file"
    argument = Argument.REQUIRED
    argument_name = "path"
    description = "a token file: oidc/file/var/run/token reads /var/run/token"
    official = False

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        assert spec.argument is not None
        return read_token_file(file_path(spec.argument), ctx.environ, what=f"{spec.text}: token file")

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        assert spec.argument is not None
        return file_fingerprint(file_path(spec.argument))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        assert spec.argument is not None
        return f"the file {file_path(spec.argument)}"


class EnvProvider(Provider):
    name = "env"
    argument = Argument.REQUIRED
    argument_name = "variable name"
    description = "the environment variable named by the argument"
    official = False

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        assert spec.argument is not None
        return require_env(ctx.environ, spec.argument, spec)

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        assert spec.argument is not None
        return env_fingerprint(ctx.environ.get(spec.argument))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the environment variable {spec.argument}"


class EnvPathProvider(Provider):
    name = "env_path"
    argument = Argument.REQUIRED
    argument_name = "variable name"
    description = "the file whose path is in the environment variable named by the argument"
    official = False

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        assert spec.argument is not None
        path = require_env(ctx.environ, spec.argument, spec)
        return read_token_file(path, ctx.environ, what=f"{spec.text}: token file named by {spec.argument}")

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        assert spec.argument is not None
        path = ctx.environ.get(spec.argument, "").strip()
        return (path, file_fingerprint(path)) if path else None

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the file named by the environment variable {spec.argument}"
