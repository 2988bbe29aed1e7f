"""HCP Terraform (Terraform Cloud / Enterprise): the run's workload identity tokens.

A workspace variable ``TFC_WORKLOAD_IDENTITY_AUDIENCE`` makes the run carry
``TFC_WORKLOAD_IDENTITY_TOKEN``; ``TFC_WORKLOAD_IDENTITY_AUDIENCE_<TAG>`` adds a tagged
token ``TFC_WORKLOAD_IDENTITY_TOKEN_<TAG>`` (one per audience), read by ``oidc/terraform/<TAG>``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable

from ..errors import ConfigurationError
from ..spec import Spec
from .base import Argument, FetchContext, Provider, env_fingerprint, require_env

VARIABLE = "TFC_WORKLOAD_IDENTITY_TOKEN"
_TAG = re.compile(r"^[A-Za-z0-9_]+$")


def variable_name(spec: Spec) -> str:
    """``TFC_WORKLOAD_IDENTITY_TOKEN`` or ``TFC_WORKLOAD_IDENTITY_TOKEN_<TAG>``."""
    return VARIABLE if spec.argument is None else f"{VARIABLE}_{spec.argument}"


class TerraformProvider(Provider):
    name = "terraform"
    argument = Argument.OPTIONAL
    argument_name = "tag"
    description = "HCP Terraform run token ($TFC_WORKLOAD_IDENTITY_TOKEN or _<TAG>)"

    def check_argument(self, spec: Spec) -> None:
        super().check_argument(spec)
        if spec.argument is not None and not _TAG.match(spec.argument):
            raise ConfigurationError(
                f"{spec.text}: the tag {spec.argument!r} may hold only letters, digits and '_' "
                f"(it is the <TAG> of {VARIABLE}_<TAG>)",
                spec=spec.text,
            )

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        audience_var = "TFC_WORKLOAD_IDENTITY_AUDIENCE" + (
            "" if spec.argument is None else f"_{spec.argument}"
        )
        return require_env(
            ctx.environ,
            variable_name(spec),
            spec,
            hint=f"HCP Terraform sets it during plan and apply when the workspace defines {audience_var}",
        )

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        return env_fingerprint(ctx.environ.get(variable_name(spec)))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the environment variable {variable_name(spec)}"
