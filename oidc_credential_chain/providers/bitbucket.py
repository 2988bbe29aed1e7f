"""Bitbucket Pipelines: the step's OIDC token variable."""

from __future__ import annotations

from collections.abc import Hashable

from ..spec import Spec
from .base import Argument, FetchContext, Provider, env_fingerprint, require_env

VARIABLE = "BITBUCKET_STEP_OIDC_TOKEN"


class BitbucketProvider(Provider):
    name = "bitbucket"
    argument = Argument.NONE
    description = "Bitbucket Pipelines step token ($BITBUCKET_STEP_OIDC_TOKEN)"

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        return require_env(
            ctx.environ,
            VARIABLE,
            spec,
            hint="Bitbucket sets it only in steps with 'oidc: true' in bitbucket-pipelines.yml",
        )

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        return env_fingerprint(ctx.environ.get(VARIABLE))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the environment variable {VARIABLE}"
