"""``*`` / ``?`` wildcards (IAM ``StringLike``, Entra ``matches``) matched without backtracking.

A pattern is split at its ``*`` into segments.  The first segment must sit at the start of
the value, the last at its end, and every middle one is taken at its leftmost place after the
previous one: taking the leftmost place never loses a match, because whatever a later place
could match the text that follows, the leftmost place leaves more text for it.  So each
segment is searched for once, and matching takes O(len(value) · len(pattern)) at worst,
where a regex with several ``.*`` tries every split of the value between them.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Sequence


class Wild(enum.Enum):
    """A wildcard token: ``ANY_RUN`` is ``*`` (any run of characters), ``ANY_CHAR`` is ``?``."""

    ANY_RUN = "*"
    ANY_CHAR = "?"


ANY_RUN = Wild.ANY_RUN
ANY_CHAR = Wild.ANY_CHAR


class _Segment:
    """The characters between two ``*``: literals and ``?``, of a fixed length."""

    def __init__(self, tokens: Sequence[str | Wild]) -> None:
        self.length = sum(1 if isinstance(t, Wild) else len(t) for t in tokens)
        if any(isinstance(t, Wild) for t in tokens):
            # Literals and single-character dots only: no quantifier, so a search costs
            # O(len(text) · length) and cannot backtrack.
            regex = "".join("." if isinstance(t, Wild) else re.escape(t) for t in tokens)
            self._dots: re.Pattern[str] | None = re.compile(regex, re.DOTALL)
            self._literal = ""
        else:
            self._dots = None
            self._literal = "".join(t for t in tokens if isinstance(t, str))

    def find(self, text: str, start: int, end: int) -> int:
        """The leftmost index in ``text[start:end]`` where the segment fits, or -1."""
        if self._dots is None:
            return text.find(self._literal, start, end)
        found = self._dots.search(text, start, end)
        return -1 if found is None else found.start()

    def fits_at(self, text: str, index: int) -> bool:
        end = index + self.length
        return end <= len(text) and self.find(text, index, end) == index


class Wildcard:
    """A compiled wildcard pattern.

    ``tokens`` are literal strings and :data:`ANY_RUN` / :data:`ANY_CHAR`; use
    :meth:`parse` when ``*`` and ``?`` in a string are the wildcards.

    Example::

        >>> Wildcard.parse("repo:octo-org/*").matches("repo:octo-org/app:pull_request")
        True
        >>> Wildcard(("price", ANY_RUN, "*")).matches("price in *")   # the last '*' is literal
        True
    """

    def __init__(self, tokens: Iterable[str | Wild]) -> None:
        segments: list[list[str | Wild]] = [[]]
        for token in tokens:
            if token is ANY_RUN:
                segments.append([])
            elif token:
                segments[-1].append(token)
        self._segments = [_Segment(s) for s in segments]

    @classmethod
    def parse(cls, pattern: str) -> Wildcard:
        """``*`` and ``?`` are wildcards, every other character is itself."""
        return cls(ANY_RUN if c == "*" else ANY_CHAR if c == "?" else c for c in pattern)

    def matches(self, value: str) -> bool:
        """True when the whole of ``value`` matches the pattern (case-sensitively)."""
        first, *middle = self._segments
        if not middle:
            return len(value) == first.length and first.fits_at(value, 0)
        *middle, last = middle
        tail = len(value) - last.length
        if tail < first.length or not first.fits_at(value, 0) or not last.fits_at(value, tail):
            return False
        position = first.length
        for segment in middle:
            found = segment.find(value, position, tail)
            if found < 0:
                return False
            position = found + segment.length
        return True


@functools.lru_cache(maxsize=512)
def _parsed(pattern: str) -> Wildcard:
    return Wildcard.parse(pattern)


def matches_wildcard(value: str, pattern: str, *, ignore_case: bool = False) -> bool:
    """True when ``value`` matches ``pattern``, where ``*`` is any run and ``?`` any one character.

    ``ignore_case`` compares ``value.lower()`` with ``pattern.lower()`` (IAM actions).

    Example: ``matches_wildcard("repo:o/r:ref:refs/heads/main", "repo:o/r:*")`` is True.
    """
    if ignore_case:
        value, pattern = value.lower(), pattern.lower()
    return _parsed(pattern).matches(value)


__all__ = ["ANY_CHAR", "ANY_RUN", "Wild", "Wildcard", "matches_wildcard"]
