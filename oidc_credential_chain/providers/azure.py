"""Azure: the AKS workload-identity token file, or (with an audience) an Entra access token."""

from __future__ import annotations

from collections.abc import Hashable

from .._internal.files import file_fingerprint, read_token_file
from ..spec import Spec
from .base import Argument, FetchContext, Provider, require_env

TOKEN_FILE_VAR = "AZURE_FEDERATED_TOKEN_FILE"


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
            from ..azure._ambient import ambient_access_token

            return ambient_access_token(spec, ctx)
        path = require_env(
            ctx.environ,
            TOKEN_FILE_VAR,
            spec,
            hint="the AKS workload-identity webhook sets it in pods whose service account is labelled "
            "azure.workload.identity/use=true",
        )
        return read_token_file(path, ctx.environ, what=f"{spec.text}: token file named by {TOKEN_FILE_VAR}")

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
