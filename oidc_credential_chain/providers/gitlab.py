"""GitLab CI: the ID token variable declared under ``id_tokens:`` in ``.gitlab-ci.yml``."""

from __future__ import annotations

import re
from collections.abc import Hashable

from ..errors import ConfigurationError
from ..spec import Spec
from .base import Argument, FetchContext, Provider, env_fingerprint, require_env

DEFAULT_VARIABLE = "GITLAB_OIDC_TOKEN"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def variable_name(spec: Spec) -> str:
    """The variable ``oidc/gitlab[/<NAME>]`` reads: the argument, or ``GITLAB_OIDC_TOKEN``."""
    return spec.argument if spec.argument is not None else DEFAULT_VARIABLE


class GitLabProvider(Provider):
    name = "gitlab"
    argument = Argument.OPTIONAL
    argument_name = "variable name"
    description = "GitLab CI ID token: the variable declared under id_tokens: (default $GITLAB_OIDC_TOKEN)"

    def check_argument(self, spec: Spec) -> None:
        super().check_argument(spec)
        if spec.argument is not None and not _NAME.match(spec.argument):
            raise ConfigurationError(
                f"{spec.text}: {spec.argument!r} is not an environment variable name; write the name "
                "declared under id_tokens: in .gitlab-ci.yml, e.g. 'oidc/gitlab/AWS_ID_TOKEN'",
                spec=spec.text,
            )

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        name = variable_name(spec)
        return require_env(
            ctx.environ,
            name,
            spec,
            hint=f"declare it in .gitlab-ci.yml: 'id_tokens: {{{name}: {{aud: <audience>}}}}' on the job",
        )

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        return env_fingerprint(ctx.environ.get(variable_name(spec)))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the GitLab ID token variable {variable_name(spec)}"
