"""CircleCI: the job's OIDC token variables."""

from __future__ import annotations

from collections.abc import Hashable

from ..spec import Spec
from .base import Argument, FetchContext, Provider, env_fingerprint, require_env

_HINT = (
    "CircleCI sets it in jobs of projects with OIDC enabled; fork builds get it only with "
    "'Pass secrets to builds from forked pull requests'"
)


class CircleCIProvider(Provider):
    name = "circleci"
    argument = Argument.NONE
    variable = "CIRCLE_OIDC_TOKEN"
    description = "CircleCI job token ($CIRCLE_OIDC_TOKEN)"

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        return require_env(ctx.environ, self.variable, spec, hint=_HINT)

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        return env_fingerprint(ctx.environ.get(self.variable))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the environment variable {self.variable}"


class CircleCIV2Provider(CircleCIProvider):
    name = "circleci_v2"
    variable = "CIRCLE_OIDC_TOKEN_V2"
    description = "CircleCI job token, v2 subject ($CIRCLE_OIDC_TOKEN_V2)"
