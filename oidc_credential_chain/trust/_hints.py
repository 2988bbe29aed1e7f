"""Why a presented claim value differs from a configured one, in words an operator acts on.

Shared by the AWS trust-policy evaluator and the Entra federated-credential matcher.  The
hints know GitHub's subject forms: ``repo:OWNER/REPO:...`` and the immutable
``repo:OWNER@ID/REPO@ID:...``, and the ``pull_request`` / ``environment:NAME`` /
``ref:refs/...`` tails that GitHub chooses between (first match wins).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

_IMMUTABLE_PART = re.compile(r"^(?P<name>[^@/]+)@(?P<id>\d+)$")


@dataclasses.dataclass(frozen=True)
class GitHubSubject:
    """A GitHub Actions ``sub`` split into its repository part and its tail."""

    owner: str
    repo: str
    owner_id: str | None
    repo_id: str | None
    tail: str

    @property
    def is_immutable(self) -> bool:
        return self.owner_id is not None or self.repo_id is not None

    @property
    def kind(self) -> str:
        """``pull_request``, ``environment``, ``branch``, ``tag``, ``ref`` or ``custom``."""
        if self.tail == "pull_request":
            return "pull_request"
        if self.tail.startswith("environment:"):
            return "environment"
        if self.tail.startswith("ref:refs/heads/"):
            return "branch"
        if self.tail.startswith("ref:refs/tags/"):
            return "tag"
        if self.tail.startswith("ref:"):
            return "ref"
        return "custom"

    @property
    def name_form(self) -> str:
        """The ``OWNER/REPO`` the subject names, without IDs."""
        return f"{self.owner}/{self.repo}"


def parse_github_subject(value: str) -> GitHubSubject | None:
    """Split ``repo:OWNER[@ID]/REPO[@ID]:TAIL``; None for anything else.

    Example: ``parse_github_subject("repo:o@1/r@2:pull_request").is_immutable`` is True.
    """
    if not value.startswith("repo:"):
        return None
    rest = value[len("repo:") :]
    slash = rest.find("/")
    if slash <= 0:
        return None
    colon = rest.find(":", slash)
    if colon < 0:
        return None
    owner_part, repo_part, tail = rest[:slash], rest[slash + 1 : colon], rest[colon + 1 :]
    owner, owner_id = _split_id(owner_part)
    repo, repo_id = _split_id(repo_part)
    return GitHubSubject(owner=owner, repo=repo, owner_id=owner_id, repo_id=repo_id, tail=tail)


def _split_id(part: str) -> tuple[str, str | None]:
    match = _IMMUTABLE_PART.match(part)
    if match:
        return match.group("name"), match.group("id")
    return part, None


_KIND_WORDS = {
    "pull_request": "a pull_request event",
    "environment": "a job that references an environment",
    "branch": "a branch ref",
    "tag": "a tag ref",
    "ref": "a ref",
    "custom": "a custom subject template",
}


def subject_hints(actual: str, configured: str, *, matches: Callable[[str, str], bool]) -> list[str]:
    """Sentences explaining why ``actual`` does not match ``configured``.

    ``matches(actual, configured)`` is the comparison in force (exact, or a wildcard match);
    it is reused to test whether a case-folded or ID-stripped subject would have matched.
    """
    hints: list[str] = []
    if configured != configured.strip():
        hints.append(f"the configured value {configured!r} has leading or trailing whitespace")
    if matches(actual.lower(), configured.lower()):
        hints.append(
            f"{actual!r} differs from {configured!r} only in letter case, and the comparison is "
            "case-sensitive (GitHub writes owner and repository names as they are spelled on GitHub)"
        )
        return hints
    token = parse_github_subject(actual)
    if token is None:
        hints.extend(_service_account_hints(actual, configured))
        return hints
    policy = _parse_pattern_subject(configured)
    if token.is_immutable and (policy is None or not policy.is_immutable):
        plain = f"repo:{token.name_form}:{token.tail}"
        would = matches(plain, configured)
        hints.append(
            f"the token uses GitHub's immutable subject form 'repo:OWNER@ID/REPO@ID:...' "
            f"({token.owner}@{token.owner_id or '?'}/{token.repo}@{token.repo_id or '?'}), the default for "
            "repositories created, renamed or transferred after 2026-07-15, while the configured value uses "
            "the name-only form"
            + (f"; with IDs it would read {_with_ids(configured, token)!r}" if would else "")
        )
    elif not token.is_immutable and policy is not None and policy.is_immutable:
        hints.append(
            "the configured value uses GitHub's immutable subject form 'repo:OWNER@ID/REPO@ID:...' but the "
            f"token's subject names the repository without IDs ({token.name_form}); the repository has not "
            "opted in to immutable subjects (or the token comes from GitHub Enterprise Server)"
        )
    if policy is None:
        return hints
    if not _has_wildcard(policy.owner + policy.repo) and (policy.owner, policy.repo) != (
        token.owner,
        token.repo,
    ):
        hints.append(
            f"the token is for repository {token.name_form!r}, the configured value for "
            f"{policy.owner + '/' + policy.repo!r}"
        )
    if not _has_wildcard(policy.tail) or (policy.kind != token.kind and policy.kind != "custom"):
        hints.extend(_tail_hints(token, policy))
    return hints


def _service_account_hints(actual: str, configured: str) -> list[str]:
    """Kubernetes ``system:serviceaccount:NAMESPACE:NAME`` subjects (EKS, AKS, GKE)."""
    prefix = "system:serviceaccount:"
    if not (actual.startswith(prefix) and configured.startswith(prefix)):
        return []
    a_ns, _, a_name = actual[len(prefix) :].partition(":")
    c_ns, _, c_name = configured[len(prefix) :].partition(":")
    hints = []
    if a_ns != c_ns and not _has_wildcard(c_ns):
        hints.append(f"the pod runs in namespace {a_ns!r}, the configured value names namespace {c_ns!r}")
    if a_name != c_name and not _has_wildcard(c_name):
        hints.append(f"the pod uses service account {a_name!r}, the configured value names {c_name!r}")
    return hints


def _tail_hints(token: GitHubSubject, policy: GitHubSubject) -> list[str]:
    if token.tail == policy.tail:
        return []
    if token.kind == "pull_request" and policy.kind in ("branch", "tag", "ref"):
        return [
            "the token comes from a pull_request event, for which GitHub's subject ends in ':pull_request' "
            "instead of the branch ref; allow 'repo:OWNER/REPO:pull_request' if pull requests may assume it"
        ]
    if token.kind == "environment" and policy.kind != "environment":
        name = token.tail[len("environment:") :]
        return [
            f"the job references the environment {name!r}, so GitHub puts ':environment:{name}' in the "
            f"subject instead of {_KIND_WORDS[policy.kind]}; allow 'repo:OWNER/REPO:environment:{name}'"
        ]
    if policy.kind == "environment" and token.kind != "environment":
        name = policy.tail[len("environment:") :]
        return [
            f"the configured value expects the job to reference the environment {name!r}, but the token's "
            f"subject is for {_KIND_WORDS[token.kind]} ({token.tail!r}); add 'environment: {name}' to the job"
        ]
    if token.kind == "environment" and policy.kind == "environment":
        return [f"the token's environment is {token.tail[12:]!r}, the configured one {policy.tail[12:]!r}"]
    if policy.kind == "pull_request" and token.kind != "pull_request":
        return [f"the configured value expects a pull_request event, the token is for {token.tail!r}"]
    if {token.kind, policy.kind} == {"branch", "tag"}:
        return [
            f"the token is for {_KIND_WORDS[token.kind]} ({token.tail!r}), the configured value for "
            f"{_KIND_WORDS[policy.kind]} ({policy.tail!r})"
        ]
    if token.kind == policy.kind:
        return [f"the token's ref is {token.tail!r}, the configured one {policy.tail!r}"]
    return []


def _parse_pattern_subject(configured: str) -> GitHubSubject | None:
    return parse_github_subject(configured.strip())


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _with_ids(configured: str, token: GitHubSubject) -> str:
    policy = parse_github_subject(configured)
    if policy is None:
        return configured
    return (
        f"repo:{policy.owner}@{token.owner_id or 'OWNER_ID'}/{policy.repo}@{token.repo_id or 'REPO_ID'}:"
        f"{policy.tail}"
    )


def audience_hints(actual: str, configured: str) -> list[str]:
    """Sentences explaining an audience mismatch (GitHub's default audience, case, slashes)."""
    hints: list[str] = []
    if actual.startswith("https://github.com/") and actual.count("/") == 3:
        hints.append(
            f"{actual!r} is GitHub's default audience, used when no audience is requested; request "
            f"{configured!r} explicitly (oidc/github/{configured})"
        )
    elif actual.lower() == configured.lower():
        hints.append(f"{actual!r} differs from {configured!r} only in letter case")
    elif actual.rstrip("/") == configured.rstrip("/"):
        hints.append(f"{actual!r} and {configured!r} differ only by a trailing slash")
    elif actual.strip() != actual or configured.strip() != configured:
        hints.append("one of the two values has leading or trailing whitespace")
    return hints
