"""The one path by which untrusted text reaches a message, a log record, a repr or ``doctor``.

Anything that came from the environment, a file or a server is shown only through these
functions:

- :func:`redact_text` for free text (a server's error body, an SDK's message): it removes
  the secrets the caller names and everything secret-shaped — JWTs (also cut ones), GitHub
  tokens (``ghs_...``), ``Bearer``/``Basic`` credentials, ``subject_token=``/
  ``client_assertion=``-style fields, long mixed-case base64 runs — and control characters
  (no forged log lines);
- :func:`quote_body` for a server's error body: the JSON ``message``/``error_description``/
  ``error`` when there is one, else the text, redacted, on one line, shortened;
- :func:`show_path` for a value meant to be a path: shown (shortened) only when it looks
  like one, otherwise described without its content.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .untrusted_json import parse_json

#: What replaces a removed secret.
REDACTED = "[REDACTED]"
#: Longest excerpt of a server body quoted in a message.
BODY_EXCERPT = 300
#: Paths longer than this are shortened to their first and last parts.
PATH_SHOWN = 80

_B64URL = r"[A-Za-z0-9_-]"
_NOT_DONE = r"(?!\[REDACTED\])"


class _Patterns:
    """The compiled expressions; built at first use (:func:`_patterns`), because compiling
    them is most of this module's import time and a process that never redacts anything
    (a one-shot credential lookup that succeeds) should not pay it."""

    def __init__(self) -> None:
        # A JWS/JWE always starts with the base64url of '{"': "eyJ".  Cut tokens (header only,
        # header.payload) are caught too, so truncating a message never reveals half a token.
        self.jwt = re.compile(rf"eyJ{_B64URL}*(?:\.{_B64URL}*)*")
        self.github_token = re.compile(r"\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{8,}")
        self.auth_scheme = re.compile(rf"(?i)\b(bearer|basic)(\s+){_NOT_DONE}[^\s\"',;)\]}}]+")
        self.secret_field = re.compile(
            # Not after '/' or a word character: 'oidc/env/ID_TOKEN: message' names a variable.  A ':'
            # separator needs a quoted value or no space ('"subject_token": "…"', 'token:…'), so prose
            # such as 'ID_TOKEN: the answer' is left alone; '=' always counts.
            r"(?i)((?<![/\w-])(?:aws_)?(?:subject_token|client_assertion|access_token|id_token|refresh_token|"
            r"client_secret|password|secret_?access_?key|session_?token|web_?identity_?token|"
            r"request_?token|x-amz-security-token)\b(?:\"?\s*=\s*\"?|\"?\s*:\s*\"|\"?:(?=[^\s\"])))"
            + _NOT_DONE
            + r"(?!oidc/)([^\s&\"',;}]+)"  # a spec ('AWS_WEB_IDENTITY_TOKEN=oidc/...') is not a secret
        )
        # Long runs of base64 that mix upper case, lower case and digits: keys and opaque tokens.
        # Paths split at '/', so their segments rarely qualify; hex digests have no upper case.
        self.long_run = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}")
        self.control = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
        self.lower_word = re.compile(r"[a-z]{7}")
        self.path_chars = re.compile(r"[A-Za-z0-9._~@+,:= /-]+")


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


def _mixed(run: str) -> bool:
    return any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run)


def _long_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if run.startswith("/"):
        # An absolute path: only a key-like segment inside it is hidden.
        return "/".join(REDACTED if len(p) >= 32 and _mixed(p) else p for p in run.split("/"))
    if "/" in run or "+" in run:
        # Standard base64 (AWS secret keys, session tokens) has no '-' or '_', and random
        # text rarely holds a long lower-case word; relative paths and ARNs do.
        keylike = (
            len(run) >= 40 and "-" not in run and "_" not in run and not _patterns().lower_word.search(run)
        )
        return REDACTED if keylike and _mixed(run) else run
    return REDACTED if _mixed(run) else run


def redact_text(text: str, *secrets: str | None) -> str:
    """``text`` with each named secret and everything secret-shaped replaced by ``[REDACTED]``.

    Control characters become spaces, so the result cannot start a forged log line.

    Example: ``redact_text("bad Bearer ghs_abc123456789 for sub", None)`` is
    ``"bad Bearer [REDACTED] for sub"``.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    patterns = _patterns()
    text = patterns.jwt.sub(REDACTED, text)
    text = patterns.github_token.sub(REDACTED, text)
    text = patterns.auth_scheme.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = patterns.secret_field.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = patterns.long_run.sub(_long_run, text)
    return patterns.control.sub(" ", text)


def is_secret_shaped(value: str) -> bool:
    """True when :func:`redact_text` would hide part of ``value``.

    Example: ``is_secret_shaped("eyJhbGciOi.eyJzdWIi.c2ln")`` is True.
    """
    return redact_text(value) != _patterns().control.sub(" ", value)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def quote_body(body: bytes | str, *secrets: str | None, limit: int = BODY_EXCERPT) -> str:
    """A short, one-line, secret-free excerpt of a server's body for an error message.

    The JSON ``message``, ``error_description`` or ``error`` field is preferred; secrets
    are removed before the excerpt is cut.

    Example: ``quote_body(b'{"error_description": "bad subject_token=eyJx.eyJy.z"}')`` is
    ``"bad subject_token=[REDACTED]"``.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        document: Any = parse_json(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in ("message", "error_description", "error"):
            value = document.get(key)
            if isinstance(value, str) and value.strip():
                text = value
                break
    excerpt = " ".join(redact_text(text, *secrets).split())
    return shorten(excerpt, limit) if excerpt else "(empty body)"


def show_path(value: str, *, limit: int = PATH_SHOWN, quote: bool = True) -> str:
    """A value meant to be a file path, fit for a message: quoted when it looks like a path.

    A value that does not look like a path (a token pasted where its file's path belongs,
    binary junk, something secret-shaped) is described, never shown.  Long paths keep their
    first and last parts; ``quote=False`` leaves the quotes off.

    Examples: ``show_path("/var/run/token")`` is ``"'/var/run/token'"``;
    ``show_path("eyJhbGciOi.eyJzdWIi.c2ln")`` is ``"(a JWT, not a path; not shown)"``.
    """
    patterns = _patterns()
    if patterns.jwt.fullmatch(value.strip()) or value.strip().startswith("eyJ"):
        return "(a JWT, not a path; not shown)"
    if not value or not patterns.path_chars.fullmatch(value) or is_secret_shaped(value) or len(value) > 4096:
        return f"(a {len(value)}-character value that does not look like a path; not shown)"
    if len(value) > limit:
        parts = value.split("/")
        head = "/".join(parts[:2]) if value.startswith("/") else parts[0]
        tail = "/".join(parts[-2:])
        value = shorten(head, limit // 2) + "/…/" + tail[-(limit // 2) :]
    return repr(value) if quote else value


__all__ = [
    "BODY_EXCERPT",
    "REDACTED",
    "is_secret_shaped",
    "quote_body",
    "redact_text",
    "shorten",
    "show_path",
]
