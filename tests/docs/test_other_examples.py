"""The examples no other test runs: HCP Terraform, GitLab CI, Bitbucket and the two CI configurations."""

from __future__ import annotations

import ast
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oidc_credential_chain import gcp
from oidc_credential_chain.testing import (
    AzureOpenAIEmulator,
    EntraEmulator,
    GoogleSTSEmulator,
    OIDCIssuer,
    STSEmulator,
    VertexAIEmulator,
)
from tests.docs.run_snippets import credentials_on_emulators

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _docstring_block(name: str) -> str:
    """The indented configuration shown after ``::`` in an example's docstring."""
    text = ast.get_docstring(ast.parse((EXAMPLES / name).read_text()))
    assert text is not None
    block = text.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line[4:] for line in block.splitlines())


def test_every_example_is_exercised() -> None:
    tested = ""
    for path in (ROOT / "tests").rglob("test_*.py"):
        tested += path.read_text()
    assert [p.name for p in sorted(EXAMPLES.iterdir()) if p.stem not in tested] == []


def test_terraform_credential_process(tmp_path: Path) -> None:
    config = _docstring_block("terraform_credential_process.py")
    with (
        OIDCIssuer("https://app.terraform.io", lifetime=3600) as issuer,
        STSEmulator(account_id="111122223333") as sts,
    ):
        sts.register_provider(issuer)
        sts.allow("tfc", issuer, sub="organization:acme:*")
        (tmp_path / "config").write_text(config + "\n")
        token = issuer.mint(
            {"sub": "organization:acme:project:p:workspace:w:run_phase:apply", "aud": "sts.amazonaws.com"}
        )
        env = {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "CI": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
            "AWS_PROFILE": "bedrock",
            "TFC_WORKLOAD_IDENTITY_TOKEN_BEDROCK": token,
            **sts.env(),
        }
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "terraform_credential_process.py")],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("arn:aws:sts::111122223333:assumed-role/tfc/")


def test_gitlab_ci_to_vertex_ai(
    google_sts: GoogleSTSEmulator,
    vertex_ai: VertexAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = yaml.safe_load(_docstring_block("gitlab_ci_to_vertex_ai.py"))["ask"]
    audience = job["id_tokens"]["GCP_ID_TOKEN"]["aud"]
    with OIDCIssuer("https://gitlab.com", lifetime=3600) as gitlab:
        pool = google_sts.add_provider(
            gitlab, pool_id="gitlab", provider_id="my-group", allowed_audiences=[audience]
        )
        # The variables the job sets are the ones the script reads; the pool is the one the audience names.
        assert set(job["variables"]) == {"GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_PROJECT"}
        assert job["variables"]["GCP_WORKLOAD_IDENTITY_PROVIDER"] == pool.audience
        assert audience == "https:" + pool.audience
        for name, value in job["variables"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GCP_PROJECT", vertex_ai.project)
        monkeypatch.setenv(
            "GCP_ID_TOKEN",
            gitlab.mint({"sub": "project_path:my-group/app:ref_type:branch:ref:main", "aud": audience}),
        )
        monkeypatch.setenv("DOCS_GOOGLE_STS_URL", google_sts.token_url)
        monkeypatch.setenv("DOCS_IAM_CREDENTIALS_URL", "http://127.0.0.1:9")
        monkeypatch.setattr(gcp, "credentials", credentials_on_emulators)
        source = (EXAMPLES / "gitlab_ci_to_vertex_ai.py").read_text()
        source = source.replace(
            'f"https://{location}-aiplatform.googleapis.com', f'f"{vertex_ai.url.rstrip("/")}'
        )
        exec(compile(source, "gitlab_ci_to_vertex_ai.py", "exec"), {"__name__": "__main__"})
    assert "you said: Hi" in capsys.readouterr().out
    assert vertex_ai.calls[-1].principal.startswith(pool.principal(""))


def test_bitbucket_to_azure_openai(
    entra: EntraEmulator,
    azure_openai: AzureOpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with OIDCIssuer(
        "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"
    ) as bitbucket:
        subject = "{repo-uuid}:{step-uuid}"
        entra.add_federated_credential(bitbucket, subject, audiences=["ari:cloud:bitbucket::workspace/acme"])
        monkeypatch.setenv(
            "BITBUCKET_STEP_OIDC_TOKEN",
            bitbucket.mint({"sub": subject, "aud": "ari:cloud:bitbucket::workspace/acme"}),
        )
        runpy.run_path(str(EXAMPLES / "bitbucket_to_azure_openai.py"), run_name="__main__")
    assert capsys.readouterr().out.strip() == "Hello from the Azure OpenAI emulator. You said: Hello"
    pipeline = yaml.safe_load(_docstring_block("bitbucket_to_azure_openai.py"))
    step = pipeline["pipelines"]["default"][0]["step"]
    assert step["oidc"] is True and "python examples/bitbucket_to_azure_openai.py" in step["script"]


def test_write_token_github_actions_workflow() -> None:
    workflow = yaml.safe_load((EXAMPLES / "write_token_github_actions.yml").read_text())
    job = workflow["jobs"]["deploy"]
    assert workflow["permissions"]["id-token"] == "write"
    assert {"AWS_ROLE_ARN", "AWS_REGION"} <= set(job["env"])
    script = "\n".join(step.get("run", "") for step in job["steps"])
    # The token file is exported to later steps, written and kept fresh by write-token --watch.
    assert 'echo "AWS_WEB_IDENTITY_TOKEN_FILE=' in script and '>> "$GITHUB_ENV"' in script
    assert re.search(
        r"write-token oidc/github/sts\.amazonaws\.com\s*\\\n\s*--out \"\$AWS_WEB_IDENTITY_TOKEN_FILE\" --watch",  # noqa: E501
        script,
    )
    assert "doctor oidc/github/sts.amazonaws.com" in script


def test_write_token_kubernetes_sidecar() -> None:
    pod = yaml.safe_load((EXAMPLES / "write_token_kubernetes_sidecar.yaml").read_text())
    sidecar = pod["spec"]["initContainers"][0]
    app = pod["spec"]["containers"][0]
    assert sidecar["restartPolicy"] == "Always"
    command = " ".join(sidecar["args"])
    out = command.split("--out ")[1].split()[0]
    assert "write-token oidc/google/api://AzureADTokenExchange" in command and "--watch" in command
    env = {item["name"]: item["value"] for item in app["env"]}
    assert env["AZURE_FEDERATED_TOKEN_FILE"] == out
    assert {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_OPENAI_ENDPOINT"} <= set(env)
    mounts = {m["mountPath"] for m in app["volumeMounts"]} & {m["mountPath"] for m in sidecar["volumeMounts"]}
    assert os.path.dirname(out) in mounts
