"""Azure: the AKS workload-identity token file, or (with an audience) an Entra access token."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable

from .._internal.files import file_fingerprint, read_token_file
from ..errors import ConfigurationError
from ..spec import Spec
from .base import Argument, FetchContext, Provider, require_env

TOKEN_FILE_VAR = "AZURE_FEDERATED_TOKEN_FILE"
AMBIENT_MODULE = "oidc_credential_chain.azure._ambient"


def _ambient_fetcher(spec: Spec) -> Callable[[Spec, FetchContext], str]:
    # Imported on use: it brings azure-identity, which the token-file form does not need.
    try:
        module = importlib.import_module(AMBIENT_MODULE)
    except ModuleNotFoundError as err:
        if err.name not in (AMBIENT_MODULE, AMBIENT_MODULE.rpartition(".")[0]):
            raise
        raise ConfigurationError(
            f"{spec.text} asks for an Entra access token from the ambient Azure identity, which this "
            "installation does not provide; use 'oidc/azure' (the AKS workload-identity token file) "
            "or another provider",
            spec=spec.text,
        ) from None
    fetch: Callable[[Spec, FetchContext], str] = module.ambient_access_token
    return fetch


class AzureProvider(Provider):
    name = "azure"
    argument = Argument.OPTIONAL
    argument_name = "audience"
    description = (
        "no argument: the AKS workload-identity token file ($AZURE_FEDERATED_TOKEN_FILE); "
        "with an audience: an Entra access token for <audience>/.default from the ambient Azure identity"
    )

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        if spec.argument is not None:
            return _ambient_fetcher(spec)(spec, ctx)
        path = require_env(
            ctx.environ,
            TOKEN_FILE_VAR,
            spec,
            hint="the AKS workload-identity webhook sets it in pods whose service account is labelled "
            "azure.workload.identity/use=true",
        )
        # The AKS webhook names this file, so OIDC_CREDENTIAL_CHAIN_FILE_DIRS (which guards
        # user-chosen paths) does not apply to it.
        return read_token_file(
            path, ctx.environ, what=f"{spec.text}: token file named by {TOKEN_FILE_VAR}", restricted=False
        )

    def is_remote(self, spec: Spec) -> bool:
        return spec.argument is not None

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        if spec.argument is not None:
            return None
        path = ctx.environ.get(TOKEN_FILE_VAR, "").strip()
        # The kubelet rotates the file in place; a new inode or mtime means a new token.
        return (path, file_fingerprint(path)) if path else None

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        if spec.argument is not None:
            return f"the ambient Azure identity (scope {spec.argument}/.default)"
        return f"the file named by {TOKEN_FILE_VAR}"
