"""Run every ```python block of one Markdown page, in order, in one namespace.

Usage: ``python -m tests.docs.run_snippets PAGE.md`` with the environment of
:func:`tests.docs.world.docs_world` (the test in ``test_snippets.py`` does this).

Conventions for authors:
- Every ```python block runs; use ```console, ```ini, ```yaml or ```text for anything else.
- The blocks of a page share one namespace, like cells of a notebook, so a later block may use
  names an earlier one defined.
- A block may use top-level ``await``: it runs in the page's event loop.
- Public service URLs in a block (``https://my-resource.openai.azure.com``, Vertex AI's
  ``https://us-central1-aiplatform.googleapis.com``) are rewritten to the emulators; Google STS and
  IAM Credentials default to the emulators; everything else comes from the environment.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

FENCE = re.compile(r"^(?P<indent> *)```python\s*$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(first line number, source)`` of each ```python block of a Markdown text."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        index += 1
        if not match:
            continue
        indent, start, body = len(match["indent"]), index + 1, []
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:])
            index += 1
        if index == len(lines):
            raise SyntaxError(f"unterminated ```python block starting at line {start - 1}")
        index += 1
        blocks.append((start, "\n".join(body) + "\n"))
    return blocks


def credentials_on_emulators(**kwargs: Any) -> Any:
    """``gcp.credentials`` with Google STS and IAM Credentials defaulting to the emulators."""
    from oidc_credential_chain.gcp import identity_pool

    kwargs.setdefault("token_url", os.environ["DOCS_GOOGLE_STS_URL"])
    kwargs.setdefault("iam_endpoint", os.environ["DOCS_IAM_CREDENTIALS_URL"])
    return identity_pool.credentials(**kwargs)


def _point_google_at_emulators() -> None:
    from oidc_credential_chain import gcp

    gcp.credentials = credentials_on_emulators  # type: ignore[attr-defined]


def run_page(page: Path, rewrites: dict[str, str]) -> int:
    """Run the page's blocks; returns how many ran."""
    import oidc_credential_chain_autoload

    oidc_credential_chain_autoload.activate()  # what the installed startup hook does
    _point_google_at_emulators()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    loop = asyncio.new_event_loop()
    blocks = python_blocks(page.read_text())
    try:
        for line, source in blocks:
            for public, local in rewrites.items():
                source = source.replace(public, local)
            # Line numbers in tracebacks are the page's own.
            tree = ast.parse("\n" * (line - 1) + source, filename=str(page))
            code = compile(tree, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            result = eval(code, namespace)
            if inspect.iscoroutine(result):
                loop.run_until_complete(result)
    finally:
        loop.close()
    return len(blocks)


if __name__ == "__main__":
    ran = run_page(Path(sys.argv[1]), json.loads(os.environ.get("DOCS_REWRITES", "{}")))
    print(f"ran {ran} python blocks")
