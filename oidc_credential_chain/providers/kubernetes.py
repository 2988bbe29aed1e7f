"""Kubernetes: a projected service-account token file, re-read as the kubelet rotates it."""

from __future__ import annotations

from collections.abc import Hashable

from .._internal.files import file_fingerprint, read_token_file
from ..errors import ConfigurationError
from ..spec import Spec
from .base import Argument, FetchContext, Provider
from .local import file_path

DEFAULT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def token_path(spec: Spec) -> str:
    """The argument as an absolute path (``oidc/kubernetes/var/run/x`` is ``/var/run/x``), or the default."""
    return DEFAULT_PATH if spec.argument is None else file_path(spec.argument)


class KubernetesProvider(Provider):
    name = "kubernetes"
    argument = Argument.OPTIONAL
    argument_name = "path"
    description = f"a projected service-account token file (default {DEFAULT_PATH})"

    def fetch(self, spec: Spec, ctx: FetchContext) -> str:
        path = token_path(spec)
        what = f"{spec.text}: service-account token file"
        try:
            return read_token_file(path, ctx.environ, what=what)
        except ConfigurationError as err:
            if spec.argument is None and "does not exist" in err.message:
                raise ConfigurationError(
                    f"{err.message}: not running in a pod, or the pod sets automountServiceAccountToken: "
                    "false; for a token with your own audience, mount a projected serviceAccountToken volume "
                    "and name its file, e.g. 'oidc/kubernetes/var/run/secrets/tokens/oidc-token'",
                    spec=spec.text,
                ) from None
            raise

    def fingerprint(self, spec: Spec, ctx: FetchContext) -> Hashable:
        # The kubelet swaps the file (a symlink flip) on rotation: a new inode or mtime is a new token.
        return file_fingerprint(token_path(spec))

    def source(self, spec: Spec, ctx: FetchContext) -> str:
        return f"the service-account token file {token_path(spec)}"
