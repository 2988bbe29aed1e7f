"""Parsing JSON we did not write (server answers, token payloads, cache entries).

``json.loads`` recurses once per nesting level, so a few kilobytes of ``[[[[...`` raise
``RecursionError`` (or exhaust a small thread stack).  :func:`parse_json` refuses nesting
deeper than :data:`MAX_DEPTH` before parsing, and every failure is a
:class:`JSONParseError` — a ``ValueError`` — that callers turn into their own error type.
"""

from __future__ import annotations

import json
from typing import Any

#: Deeper nesting is refused: no token answer, claim set or policy comes close.
MAX_DEPTH = 64

_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


class JSONParseError(ValueError):
    """The text is not JSON, is nested too deeply, or is not UTF-8.  The message never quotes it."""


def nesting_depth(data: bytes) -> int:
    """The deepest ``[``/``{`` nesting in ``data``, ignoring brackets inside strings.

    Example: ``nesting_depth(b'{"a": [1, "]["]}')`` is 2.
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSERS:
            depth -= 1
    return deepest


def parse_json(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted input: bounded nesting, one error type.

    Example: ``parse_json(b'{"value": "x"}')`` is ``{"value": "x"}``; ``parse_json("[" * 10_000)``
    raises :class:`JSONParseError`.
    """
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    # Counting brackets is cheap; the exact (slower) scan runs only when there are many.
    if raw.count(b"[") + raw.count(b"{") > max_depth and nesting_depth(raw) > max_depth:
        raise JSONParseError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except RecursionError:
        raise JSONParseError(f"JSON nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise JSONParseError("not UTF-8 JSON") from None
    except ValueError as err:
        position = f" at position {err.pos}" if isinstance(err, json.JSONDecodeError) else ""
        raise JSONParseError(f"not valid JSON{position}") from None


__all__ = ["MAX_DEPTH", "JSONParseError", "nesting_depth", "parse_json"]
