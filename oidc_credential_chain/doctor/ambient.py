"""Which identity this machine or job has, and which specs would work here.

Environment variables tell most sources apart (GitHub Actions, CircleCI, GitLab,
Bitbucket, Buildkite, Terraform Cloud, AKS workload identity, Azure App Service); the GCP
metadata server and Azure IMDS are probed over HTTP with a sub-second budget, in parallel,
by IP address (no DNS lookup that could hang), and never through a proxy.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping

from .._internal.redact import show_path
from ..jwt import looks_like_jwt
from ..spec import is_spec

AWS_AUDIENCE = "sts.amazonaws.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"
PROBE_TIMEOUT = 0.5
K8S_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"


@dataclasses.dataclass(frozen=True)
class Detection:
    """One identity source found here.

    ``specs`` maps a purpose (``"aws"``, ``"azure"``, ``"gcp"``) to the spec to use for it;
    ``available`` is False when the source is recognised but cannot issue a token yet
    (``hint`` then says what to change).
    """

    name: str
    provider: str
    available: bool
    detail: str
    specs: Mapping[str, str]
    hint: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "provider": self.provider,
            "available": self.available,
            "detail": self.detail,
            "specs": dict(self.specs),
            "hint": self.hint,
        }


@dataclasses.dataclass(frozen=True)
class Ambient:
    """Everything found, in order of preference, and warnings about the environment."""

    detections: tuple[Detection, ...]
    warnings: tuple[str, ...]

    def best_spec(self, purpose: str) -> str | None:
        """The spec of the first available source for ``purpose`` (``"aws"``, ``"azure"``)."""
        for detection in self.detections:
            if detection.available and purpose in detection.specs:
                return detection.specs[purpose]
        return None


def _present(environ: Mapping[str, str], name: str) -> bool:
    return bool(environ.get(name, "").strip())


def _ci_detections(environ: Mapping[str, str]) -> list[Detection]:
    found: list[Detection] = []
    if environ.get("GITHUB_ACTIONS") == "true" or _present(environ, "ACTIONS_ID_TOKEN_REQUEST_URL"):
        ok = _present(environ, "ACTIONS_ID_TOKEN_REQUEST_URL") and _present(
            environ, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
        )
        repo = environ.get("GITHUB_REPOSITORY", "")
        found.append(
            Detection(
                "GitHub Actions",
                "github",
                ok,
                f"GitHub Actions job{f' in {repo}' if repo else ''}; "
                + ("the ID token endpoint is available" if ok else "no ID token endpoint variables"),
                {
                    "aws": f"oidc/github/{AWS_AUDIENCE}",
                    "azure": f"oidc/github/{AZURE_AUDIENCE}",
                    "gcp": "oidc/github",
                },
                "" if ok else "add 'permissions: id-token: write' to the workflow or job",
            )
        )
    for var, provider in (("CIRCLE_OIDC_TOKEN_V2", "circleci_v2"), ("CIRCLE_OIDC_TOKEN", "circleci")):
        if _present(environ, var):
            spec = f"oidc/{provider}"
            found.append(
                Detection(
                    "CircleCI",
                    provider,
                    True,
                    f"CircleCI job; {var} is set (its audience is the organization ID)",
                    {"aws": spec, "azure": spec, "gcp": spec},
                    "",
                )
            )
    if environ.get("CIRCLECI") == "true" and not any(d.provider.startswith("circleci") for d in found):
        found.append(
            Detection(
                "CircleCI",
                "circleci",
                False,
                "CircleCI job without CIRCLE_OIDC_TOKEN",
                {"aws": "oidc/circleci", "azure": "oidc/circleci", "gcp": "oidc/circleci"},
                "CircleCI gives OIDC tokens to jobs that use a context; forked pull requests get them only "
                "with 'Pass secrets to builds from forked pull requests'",
            )
        )
    if environ.get("GITLAB_CI") == "true" or _present(environ, "GITLAB_OIDC_TOKEN"):
        ok = _present(environ, "GITLAB_OIDC_TOKEN")
        found.append(
            Detection(
                "GitLab CI",
                "gitlab",
                ok,
                "GitLab CI job" + ("; GITLAB_OIDC_TOKEN is set" if ok else ""),
                {"aws": "oidc/gitlab", "azure": "oidc/gitlab", "gcp": "oidc/gitlab"},
                ""
                if ok
                else "declare 'id_tokens: GITLAB_OIDC_TOKEN: aud: <audience>' in .gitlab-ci.yml "
                "(or name your variable: oidc/gitlab/<VAR>)",
            )
        )
    if environ.get("BITBUCKET_BUILD_NUMBER") or _present(environ, "BITBUCKET_STEP_OIDC_TOKEN"):
        ok = _present(environ, "BITBUCKET_STEP_OIDC_TOKEN")
        found.append(
            Detection(
                "Bitbucket Pipelines",
                "bitbucket",
                ok,
                "Bitbucket Pipelines step" + ("; BITBUCKET_STEP_OIDC_TOKEN is set" if ok else ""),
                {"aws": "oidc/bitbucket", "azure": "oidc/bitbucket", "gcp": "oidc/bitbucket"},
                "" if ok else "add 'oidc: true' to the step",
            )
        )
    if environ.get("BUILDKITE") == "true":
        found.append(
            Detection(
                "Buildkite",
                "buildkite",
                True,
                "Buildkite job (tokens come from buildkite-agent oidc request-token)",
                {"aws": f"oidc/buildkite/{AWS_AUDIENCE}", "azure": f"oidc/buildkite/{AZURE_AUDIENCE}"},
            )
        )
    if _present(environ, "TFC_WORKLOAD_IDENTITY_TOKEN"):
        found.append(
            Detection(
                "Terraform Cloud",
                "terraform",
                True,
                "Terraform Cloud run; TFC_WORKLOAD_IDENTITY_TOKEN is set",
                {"aws": "oidc/terraform", "azure": "oidc/terraform", "gcp": "oidc/terraform"},
            )
        )
    return found


def _file_detections(environ: Mapping[str, str]) -> list[Detection]:
    found: list[Detection] = []
    path = environ.get("AZURE_FEDERATED_TOKEN_FILE", "").strip()
    if path and not is_spec(path):
        ok = "\x00" not in path and os.path.isfile(path)
        found.append(
            Detection(
                "AKS workload identity",
                "azure",
                ok,
                f"AZURE_FEDERATED_TOKEN_FILE names {show_path(path, quote=False)}"
                + ("" if ok else ", which does not exist"),
                {"azure": "oidc/azure", "aws": "oidc/azure", "gcp": "oidc/azure"},
                ""
                if ok
                else "label the service account azure.workload.identity/use: 'true' and restart the pod",
            )
        )
    if os.path.isfile(K8S_TOKEN_PATH):
        found.append(
            Detection(
                "Kubernetes service account",
                "kubernetes",
                True,
                f"a service-account token is mounted at {K8S_TOKEN_PATH} (its audience is the cluster's API "
                "server unless you project one with your own audience)",
                {"aws": "oidc/kubernetes", "azure": "oidc/kubernetes", "gcp": "oidc/kubernetes"},
            )
        )
    return found


def _probe_gcp(environ: Mapping[str, str], timeout: float) -> Detection | None:
    from .._internal.http import HttpClient, HttpConfig, TransportError

    host = (environ.get("GCE_METADATA_HOST") or environ.get("GCE_METADATA_ROOT") or "").strip()
    target = host or (environ.get("GCE_METADATA_IP") or "169.254.169.254").strip()
    client = HttpClient(
        HttpConfig(connect_timeout=timeout, read_timeout=timeout, total_timeout=timeout * 2, attempts=1)
    )
    try:
        response = client.request(
            "GET",
            f"http://{target}/computeMetadata/v1/instance/service-accounts/default/email",
            headers={"Metadata-Flavor": "Google"},
            allow_http=True,
            direct=True,
            retry=False,
        )
    except (TransportError, ValueError):
        return None
    if response.header("metadata-flavor") != "Google":
        return None
    email = response.text.strip() if response.status == 200 else ""
    detail = f"GCP metadata server at {target}" + (f"; service account {email}" if email else "")
    return Detection(
        "Google Cloud (metadata server)",
        "google",
        response.status == 200,
        detail,
        {"aws": f"oidc/google/{AWS_AUDIENCE}", "azure": f"oidc/google/{AZURE_AUDIENCE}"},
        ""
        if response.status == 200
        else f"the metadata server answered HTTP {response.status} for the "
        "default service account; attach a service account to this workload",
    )


def _probe_azure_imds(environ: Mapping[str, str], timeout: float) -> Detection | None:
    """Probe as azure-identity does: a token request without the ``Metadata`` header, which only
    IMDS answers (with a JSON error) - nothing is minted."""
    from .._internal.http import HttpClient, HttpConfig, TransportError

    authority = (environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or "http://169.254.169.254").rstrip("/")
    client = HttpClient(
        HttpConfig(connect_timeout=timeout, read_timeout=timeout, total_timeout=timeout * 2, attempts=1)
    )
    try:
        response = client.request(
            "GET",
            f"{authority}/metadata/identity/oauth2/token?api-version=2018-02-01",
            allow_http=True,
            direct=True,
            retry=False,
        )
    except (TransportError, ValueError):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not ("error" in body or "access_token" in body):
        return None
    chosen = environ.get("AZURE_CLIENT_ID", "").strip()
    return Detection(
        "Azure managed identity (IMDS)",
        "azure",
        True,
        f"Azure Instance Metadata Service at {authority}"
        + (f"; AZURE_CLIENT_ID selects identity {chosen}" if chosen else ""),
        {"aws": f"oidc/azure/{AZURE_AUDIENCE}", "azure": f"oidc/azure/{AZURE_AUDIENCE}"},
        "only a user-assigned managed identity can be an Entra app's federated credential; "
        "set AZURE_CLIENT_ID to choose it",
    )


def _app_service_detection(environ: Mapping[str, str]) -> Detection | None:
    if _present(environ, "IDENTITY_ENDPOINT") or _present(environ, "MSI_ENDPOINT"):
        var = "IDENTITY_ENDPOINT" if _present(environ, "IDENTITY_ENDPOINT") else "MSI_ENDPOINT"
        return Detection(
            "Azure managed identity (App Service / Functions / Container Apps)",
            "azure",
            True,
            f"{var} is set",
            {"aws": f"oidc/azure/{AZURE_AUDIENCE}", "azure": f"oidc/azure/{AZURE_AUDIENCE}"},
        )
    return None


def _aws_detection(environ: Mapping[str, str]) -> Detection | None:
    sources = [
        name
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        )
        if _present(environ, name)
    ]
    if not sources:
        return None
    return Detection(
        "AWS credentials (outbound identity federation)",
        "aws",
        True,
        f"AWS credentials are configured ({', '.join(sources)}); STS GetWebIdentityToken can mint ID tokens "
        "when outbound identity federation is enabled for the account",
        {"azure": f"oidc/aws/{AZURE_AUDIENCE}", "gcp": "oidc/aws/<workload identity pool audience>"},
    )


def environment_warnings(environ: Mapping[str, str]) -> list[str]:
    """Settings that make credentials other than the federated ones win, or that other SDKs misread."""
    warnings: list[str] = []
    spec_in_env = is_spec(environ.get("AWS_WEB_IDENTITY_TOKEN", ""))
    if _present(environ, "AWS_BEARER_TOKEN_BEDROCK"):
        warnings.append(
            "AWS_BEARER_TOKEN_BEDROCK is set: Bedrock clients send that API key as a bearer token and ignore "
            "every credential, federated ones included; unset it to use the role"
        )
    if spec_in_env and _present(environ, "AWS_ACCESS_KEY_ID"):
        warnings.append(
            "AWS_ACCESS_KEY_ID is set: static keys in the environment win over AWS_WEB_IDENTITY_TOKEN, "
            "so the federated role is not used; unset AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if spec_in_env and _present(environ, "AWS_PROFILE"):
        warnings.append(
            f"AWS_PROFILE={environ['AWS_PROFILE'].strip()} is set: an explicitly chosen profile ignores the "
            "environment, AWS_WEB_IDENTITY_TOKEN included; put oidc_web_identity_token in that profile "
            "or unset AWS_PROFILE"
        )
    if spec_in_env and not _present(environ, "AWS_ROLE_ARN"):
        warnings.append(
            "AWS_WEB_IDENTITY_TOKEN holds a spec but AWS_ROLE_ARN is not set; set the role to assume"
        )
    if is_spec(environ.get("AWS_WEB_IDENTITY_TOKEN_FILE", "")):
        warnings.append(
            "AWS_WEB_IDENTITY_TOKEN_FILE holds an oidc/ spec: every AWS SDK reads it as a path; "
            "put the spec in AWS_WEB_IDENTITY_TOKEN instead (or keep a real file fresh with "
            "`write-token --watch`)"
        )
    if is_spec(environ.get("AZURE_FEDERATED_TOKEN_FILE", "")):
        warnings.append(
            "AZURE_FEDERATED_TOKEN_FILE holds an oidc/ spec: azure-identity reads it as a path; "
            "put the spec in AZURE_FEDERATED_TOKEN instead"
        )
    token_var = environ.get("AWS_WEB_IDENTITY_TOKEN", "").strip()
    if token_var and not spec_in_env and looks_like_jwt(token_var):
        warnings.append(
            "AWS_WEB_IDENTITY_TOKEN holds a raw token, which expires and is not refreshed; "
            f"use a spec such as oidc/github/{AWS_AUDIENCE}"
        )
    if environ.get("OIDC_CREDENTIAL_CHAIN_AUTOLOAD", "").strip() == "0" and spec_in_env:
        warnings.append(
            "OIDC_CREDENTIAL_CHAIN_AUTOLOAD=0: existing boto3 code will not pick up "
            "AWS_WEB_IDENTITY_TOKEN unless it calls oidc_credential_chain.aws.install()"
        )
    return warnings


def detect_ambient(
    environ: Mapping[str, str] | None = None, *, probe: bool = True, probe_timeout: float = PROBE_TIMEOUT
) -> Ambient:
    """Find the identity sources available here.

    Example::

        ambient = detect_ambient()
        print(ambient.best_spec("aws"))   # e.g. 'oidc/github/sts.amazonaws.com'
    """
    env = os.environ if environ is None else environ
    detections = _ci_detections(env) + _file_detections(env)
    app_service = _app_service_detection(env)
    if app_service is not None:
        detections.append(app_service)
    if probe:
        results: dict[str, Detection | None] = {}

        def run(name: str, fn: object) -> None:
            try:
                results[name] = fn(env, probe_timeout)  # type: ignore[operator]
            except Exception:  # noqa: BLE001 - a probe that breaks means "not found", never a crash
                results[name] = None

        threads = [
            threading.Thread(target=run, args=(name, fn), daemon=True)
            for name, fn in (("gcp", _probe_gcp), ("azure", _probe_azure_imds))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(probe_timeout * 4)
        for name in ("gcp", "azure"):
            found = results.get(name)
            if found is not None:
                detections.append(found)
    aws = _aws_detection(env)
    if aws is not None:
        detections.append(aws)
    return Ambient(tuple(detections), tuple(environment_warnings(env)))


__all__ = ["Ambient", "Detection", "detect_ambient", "environment_warnings"]
