"""A small subset of CEL, the language of workload identity pool attribute mappings and conditions.

Supported: string, number, bool, null and list literals; ``assertion.x``, ``assertion['x']``,
``attribute.x``; ``== != < <= > >= in``; ``&& || !``; ``+`` (strings, numbers, lists);
parentheses; the methods ``startsWith endsWith contains matches size`` and the macro
``has(a.b)``.  Anything else is a :class:`CelError`, as is reading a claim the token lacks
(so a condition that mentions it fails closed, as Google's does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<num>\d+(?:\.\d+)?)
      | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+().,\[\]])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


class CelError(ValueError):
    """The expression is outside the subset, malformed, or reads something absent."""


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise CelError(f"unexpected character at offset {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    tokens.append(("end", ""))
    return tokens


class _Parser:
    def __init__(self, text: str, env: Mapping[str, Any]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.env = env

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos]

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.pos]
        if value is not None and token[1] != value:
            raise CelError(f"expected {value!r}, found {token[1] or 'end of expression'!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek()[0] != "end":
            raise CelError(f"unexpected {self.peek()[1]!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek()[1] == "||":
            self.take()
            right = self.and_()
            value = _require_bool(value) or _require_bool(right)
        return value

    def and_(self) -> Any:
        value = self.unary()
        while self.peek()[1] == "&&":
            self.take()
            right = self.unary()
            value = _require_bool(value) and _require_bool(right)
        return value

    def unary(self) -> Any:
        if self.peek()[1] == "!":
            self.take()
            return not _require_bool(self.unary())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.additive()
        op = self.peek()[1]
        if op in ("==", "!=", "<", "<=", ">", ">=", "in"):
            self.take()
            right = self.additive()
            if op == "==":
                return left == right
            if op == "!=":
                return left != right
            if op == "in":
                if not isinstance(right, (list, dict, str)):
                    raise CelError("'in' needs a list or map on its right")
                return left in right
            try:
                return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
            except TypeError:
                raise CelError(f"cannot compare {type(left).__name__} and {type(right).__name__}") from None
        return left

    def additive(self) -> Any:
        value = self.postfix()
        while self.peek()[1] == "+":
            self.take()
            right = self.postfix()
            if type(value) is not type(right) and not (_is_number(value) and _is_number(right)):
                raise CelError(f"cannot add {type(value).__name__} and {type(right).__name__}")
            value = value + right
        return value

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek()[1] in (".", "["):
            if self.take()[1] == "[":
                key = self.or_()
                self.take("]")
                value = _index(value, key)
                continue
            kind, name = self.take()
            if kind != "name":
                raise CelError(f"expected a field or method name after '.', found {name!r}")
            is_call = self.peek()[1] == "("
            value = _method(value, name, self.arguments()) if is_call else _index(value, name)
        return value

    def arguments(self) -> list[Any]:
        self.take("(")
        args: list[Any] = []
        while self.peek()[1] != ")":
            args.append(self.or_())
            if self.peek()[1] != ",":
                break
            self.take()
        self.take(")")
        return args

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return bytes(value[1:-1], "utf-8").decode("unicode_escape")
        if kind == "num":
            return float(value) if "." in value else int(value)
        if value == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if value == "[":
            items: list[Any] = []
            while self.peek()[1] != "]":
                items.append(self.or_())
                if self.peek()[1] != ",":
                    break
                self.take()
            self.take("]")
            return items
        if kind == "name":
            if value in ("true", "false"):
                return value == "true"
            if value == "null":
                return None
            if value == "has":
                return self.has()
            if value not in self.env:
                raise CelError(f"unknown name {value!r}")
            return self.env[value]
        raise CelError(f"unexpected {value or 'end of expression'!r}")

    def has(self) -> bool:
        self.take("(")
        start = self.pos
        depth = 0
        while not (depth == 0 and self.peek()[1] == ")"):
            if self.peek()[0] == "end":
                raise CelError("unclosed has(")
            depth += {"(": 1, ")": -1}.get(self.peek()[1], 0)
            self.pos += 1
        inner = _Parser.__new__(_Parser)
        inner.tokens = [*self.tokens[start : self.pos], ("end", "")]
        inner.pos = 0
        inner.env = self.env
        self.take(")")
        try:
            inner.parse()
        except CelError:
            return False
        return True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise CelError(f"expected a bool, got {type(value).__name__}")
    return value


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        if key not in value:
            raise CelError(f"no such key: {key!r}")
        return value[key]
    if isinstance(value, list) and _is_number(key):
        try:
            return value[int(key)]
        except IndexError:
            raise CelError(f"index {key} out of range") from None
    raise CelError(f"cannot index {type(value).__name__} with {key!r}")


def _method(value: Any, name: str, args: list[Any]) -> Any:
    if name == "size" and not args:
        if isinstance(value, (str, list, dict)):
            return len(value)
        raise CelError(f"size() of {type(value).__name__}")
    if name in ("startsWith", "endsWith", "contains", "matches"):
        if not isinstance(value, str) or len(args) != 1 or not isinstance(args[0], str):
            raise CelError(f"{name}() needs a string and one string argument")
        if name == "startsWith":
            return value.startswith(args[0])
        if name == "endsWith":
            return value.endswith(args[0])
        if name == "contains":
            return args[0] in value
        try:
            return re.search(args[0], value) is not None
        except re.error as err:
            raise CelError(f"bad regular expression {args[0]!r}: {err}") from None
    raise CelError(f"unsupported function {name}()")


def evaluate(expression: str, env: Mapping[str, Any]) -> Any:
    """Evaluate ``expression`` with the names in ``env`` (``assertion``, ``attribute``...).

    Example: ``evaluate("assertion.sub.startsWith('repo:o/')", {"assertion": claims})``.
    """
    return _Parser(expression, env).parse()


def condition_holds(expression: str, env: Mapping[str, Any]) -> bool:
    """True when the condition evaluates to ``true``; raises :class:`CelError` when it cannot be evaluated."""
    return _require_bool(evaluate(expression, env))
