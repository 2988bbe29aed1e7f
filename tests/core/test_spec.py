from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import oidc_credential_chain
from oidc_credential_chain import ConfigurationError, Spec, is_spec, parse_spec
from oidc_credential_chain.providers import registry
from oidc_credential_chain.spec import split_spec


@pytest.mark.parametrize(
    ("text", "provider", "argument"),
    [
        ("oidc/github/sts.amazonaws.com", "github", "sts.amazonaws.com"),
        ("oidc/github", "github", None),
        ("oidc/github/", "github", None),
        ("oidc/circleci", "circleci", None),
        ("oidc/circleci/", "circleci", None),
        ("oidc/circleci_v2", "circleci_v2", None),
        ("oidc/google/https://example.com", "google", "https://example.com"),
        ("oidc/google/https://example.com/", "google", "https://example.com/"),
        ("oidc/file/var/run/token", "file", "var/run/token"),
        ("oidc/file//var/run/token", "file", "/var/run/token"),
        ("oidc/azure", "azure", None),
        ("oidc/azure/api://AzureADTokenExchange", "azure", "api://AzureADTokenExchange"),
        ("  oidc/env/MY_TOKEN\n", "env", "MY_TOKEN"),
    ],
)
def test_parse(text: str, provider: str, argument: str | None) -> None:
    spec = parse_spec(text)
    assert (spec.provider, spec.argument) == (provider, argument)


def test_empty_argument_is_no_argument() -> None:
    assert parse_spec("oidc/github/") == parse_spec("oidc/github")
    assert parse_spec("oidc/github/").text == "oidc/github"


def test_spec_is_immutable_with_readable_repr() -> None:
    spec = parse_spec("oidc/google/https://example.com/")
    assert repr(spec) == "Spec('oidc/google/https://example.com/')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.provider = "github"  # type: ignore[misc]
    assert parse_spec(spec) is spec
    assert hash(spec) == hash(Spec("google", "https://example.com/"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("oidc/", "names no identity provider"),
        ("oidc", "names no identity provider"),
        ("oidc//x", "names no identity provider"),
        ("github/x", "must start with 'oidc/'"),
        ("oidc/unknown/x", "unknown identity provider 'unknown'"),
        ("oidc/google/", "'oidc/google' needs an audience"),
        ("oidc/google", "'oidc/google' needs an audience"),
        ("oidc/circleci/extra", "'oidc/circleci' takes no argument"),
        ("oidc/circleci_v2/x", "'oidc/circleci_v2' takes no argument"),
        ("oidc/file/", "'oidc/file' needs a path"),
        ("oidc/env", "'oidc/env' needs a variable name"),
    ],
)
def test_bad_specs(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec(text)
    assert message in str(info.value)


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec("oidc/unknown/x")
    for name in ("google", "github", "circleci", "circleci_v2", "azure", "file", "env", "env_path"):
        assert name in str(info.value)


def test_is_spec() -> None:
    assert is_spec("oidc/github")
    assert is_spec(" oidc/github ")
    assert not is_spec("/var/run/token")
    assert not is_spec(None)


def test_spec_built_directly_treats_empty_argument_as_none() -> None:
    assert Spec("github", "") == Spec("github") == parse_spec("oidc/github/")
    assert Spec("github", "").text == "oidc/github"


def test_file_paths_keep_their_slashes() -> None:
    assert parse_spec("oidc/file//var/run/token").argument == "/var/run/token"
    assert parse_spec("oidc/file/var/run/token/").argument == "var/run/token/"


@pytest.mark.parametrize(
    "text",
    [
        "oidc/env/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJl",
        "oidc/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJl",
    ],
)
def test_a_token_pasted_into_a_spec_is_refused_unechoed(text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec(text)

    message = str(info.value)
    assert message.startswith("the token spec holds what looks like a token itself")
    assert "eyJzdWIiOiJjYW5hcnkifQ" not in message and "c2lnbmF0dXJl" not in message


def test_a_non_spec_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_spec("hunter2")

    assert "hunter2" not in str(info.value)
    assert str(info.value).startswith("a token spec must start with 'oidc/'")


def test_a_non_string_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="must be a string like 'oidc/github', not int"):
        parse_spec(42)  # type: ignore[arg-type]


# --- layering: the grammar imports no provider -----------------------------------------------------

PACKAGE_ROOT = Path(oidc_credential_chain.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (never run)."""
    nodes: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return nodes


def _imports(path: Path) -> set[str]:
    """Package modules that ``path`` imports when run (at top level or inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] == "oidc_credential_chain"}


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in _imports(path) if t in modules}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        for target in list(targets):
            parts = target.split(".")
            targets.update(
                ".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in modules
            )
        graph[name] = targets
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


def test_the_grammar_imports_no_provider_and_takes_part_in_no_cycle() -> None:
    graph = _import_graph()
    assert "oidc_credential_chain.providers.registry" in _reachable(graph, "oidc_credential_chain._api")
    below_spec = _reachable(graph, "oidc_credential_chain.spec")
    assert not {m for m in below_spec if m.startswith("oidc_credential_chain.providers")}
    assert "oidc_credential_chain.spec" not in below_spec
    assert "oidc_credential_chain.providers.registry" not in _reachable(
        graph, "oidc_credential_chain.providers.base"
    )


def test_parse_spec_is_the_registry_check_over_the_grammar() -> None:
    assert oidc_credential_chain.parse_spec is registry.parse_spec
    assert split_spec("oidc/unknown/x") == Spec("unknown", "x")  # the grammar alone accepts any name
    with pytest.raises(ConfigurationError, match="unknown identity provider 'unknown'"):
        registry.parse_spec("oidc/unknown/x")


def test_importing_the_grammar_first_loads_no_provider() -> None:
    code = (
        "import sys\n"
        "from oidc_credential_chain.spec import split_spec\n"
        "split_spec('oidc/github/sts.amazonaws.com')\n"
        "from oidc_credential_chain.providers.registry import parse_spec\n"
        "print(parse_spec('oidc/github/x').provider)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "github"
