"""Every ```python block of README.md and docs/**/*.md runs against the loopback emulators.

Each page runs in its own process (a fresh interpreter, as a reader's would be) inside one
emulator world shared by the whole session; see ``run_snippets.py`` for the conventions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.run_snippets import python_blocks
from tests.docs.world import DocsWorld, docs_world

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
PAGES_WITH_CODE = [page for page in PAGES if python_blocks(page.read_text())]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsWorld]:
    with docs_world(str(tmp_path_factory.mktemp("docs-home"))) as shared:
        yield shared


def test_the_readme_and_the_guides_have_python_to_run() -> None:
    names = {page.name for page in PAGES_WITH_CODE}
    assert {"README.md", "getting-started.md", "vertex.md", "testing.md"} <= names


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda page: str(page.relative_to(ROOT)))
def test_page_snippets_run(page: Path, world: DocsWorld) -> None:
    env = {**world.env, "DOCS_REWRITES": json.dumps(world.rewrites)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.docs.run_snippets", str(page)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{page.name}:\n{done.stdout}\n{done.stderr}"
    assert f"ran {len(python_blocks(page.read_text()))} python blocks" in done.stdout


def test_blocks_are_found_with_their_line_numbers() -> None:
    text = "intro\n```python\nx = 1\n```\n\n  ```python\n  y = x\n  ```\n```console\n$ ls\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (7, "y = x\n")]
