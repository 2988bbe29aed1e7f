"""Item: CR/LF in ACTIONS_ID_TOKEN_REQUEST_TOKEN is a configuration error: exit 2 at once, not retried."""

from __future__ import annotations

import pytest

from oidc_credential_chain import ConfigurationError, fetch_id_token
from oidc_credential_chain.cli import main
from oidc_credential_chain.testing import GitHubActionsTokenEndpoint
from tests.security.conftest import REQUEST_TOKEN


@pytest.mark.parametrize("bad", [f"{REQUEST_TOKEN}\r\nX-Injected: 1", f"{REQUEST_TOKEN}\nmore"])
def test_malformed_request_token_is_refused_before_any_request(
    github_actions: GitHubActionsTokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad: str,
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", bad)
    with pytest.raises(ConfigurationError) as info:
        fetch_id_token("oidc/github/sts.amazonaws.com")
    message = str(info.value)
    assert (
        "the environment variable ACTIONS_ID_TOKEN_REQUEST_TOKEN contains a line break or NUL byte" in message
    )
    assert "did not answer" not in message and REQUEST_TOKEN not in message
    assert github_actions.count() == 0

    assert main(["token", "oidc/github/sts.amazonaws.com"]) == 2
    _, err = capsys.readouterr()
    assert "ACTIONS_ID_TOKEN_REQUEST_TOKEN" in err and REQUEST_TOKEN not in err
    assert github_actions.count() == 0
